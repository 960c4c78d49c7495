# Written for atmosphere-go's reference values (hack/fidelity): stands in for
# kubernetes.core.k8s_info where the roles read what a live cluster holds,
# without touching one. A Secret is answered with the reference's fixed
# credentials (username, password, root: what the RabbitMQ clusters' default
# users and Percona XtraDB's root Secret hold); a CustomResourceDefinition
# asked by name is answered as there and Established (the operator the role
# applied made it), and the wait is recorded (FIDELITY_CRD_WAITS, one JSON
# document a line: the CRD and how many objects FIDELITY_OBJECTS held
# then); anything else is absent.
import base64
import json
import os

from ansible.plugins.action import ActionBase


def _b64(s):
    return base64.b64encode(s.encode()).decode()


def _recorded_objects():
    path = os.environ.get("FIDELITY_OBJECTS")
    if not path or not os.path.exists(path):
        return 0
    with open(path) as f:
        return sum(1 for line in f if line.strip())


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
        if args.get("kind") == "CustomResourceDefinition" and name:
            resources.append({
                "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                "metadata": {"name": name},
                "status": {"conditions": [{"type": "Established", "status": "True"}]},
            })
            out = os.environ.get("FIDELITY_CRD_WAITS")
            if out:
                with open(out, "a") as f:
                    f.write(json.dumps({"crd": name, "after": _recorded_objects()}, sort_keys=True) + "\n")
        return {"changed": False, "resources": resources, "api_found": True}
