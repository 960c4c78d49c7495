# Written for atmosphere-go's reference values (hack/fidelity --issuers):
# stands in for kubernetes.core.helm, which would install a release on a
# live cluster; it records the release it was given (FIDELITY_RELEASES, one
# JSON document a line: the release's name, namespace and values, as the
# role templated them) and changes nothing. Without FIDELITY_RELEASES it
# records nothing.
import json
import os

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        args = self._task.args
        out = os.environ.get("FIDELITY_RELEASES")
        if not out or args.get("state", "present") != "present":
            return {"changed": False}
        release = {
            "name": args.get("name") or args.get("release_name"),
            "namespace": args.get("release_namespace") or args.get("namespace"),
            "values": args.get("values") or args.get("release_values") or {},
        }
        with open(out, "a") as f:
            f.write(json.dumps(release, sort_keys=True) + "\n")
        return {"changed": False}
