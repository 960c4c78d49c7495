# Written for atmosphere-go's reference values (hack/fidelity): stands in for
# kubernetes.core.k8s_info where the roles read what a live cluster holds,
# without touching one. A Secret is answered with the reference's fixed
# credentials (username, password, root: what the RabbitMQ clusters' default
# users and Percona XtraDB's root Secret hold); anything else is absent.
import base64

from ansible.plugins.action import ActionBase


def _b64(s):
    return base64.b64encode(s.encode()).decode()


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        args = self._task.args
        resources = []
        name = args.get("name")
        if args.get("kind") == "Secret" and name:
            resources.append({
                "apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": name, "namespace": args.get("namespace")},
                "data": {"username": _b64(name + "-user"), "password": _b64(name + "-password"), "root": _b64(name + "-root")},
            })
        return {"changed": False, "resources": resources, "api_found": True}
