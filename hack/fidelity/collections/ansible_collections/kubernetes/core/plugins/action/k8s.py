# Written for atmosphere-go's reference values (hack/fidelity): stands in for
# kubernetes.core.k8s, which would change a live cluster; it records the
# object it was given (FIDELITY_OBJECTS, one JSON document a line) and
# changes nothing.
import json
import os

from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        out = os.environ.get("FIDELITY_OBJECTS")
        definition = self._task.args.get("definition")
        if out and definition is not None and self._task.args.get("state", "present") == "present":
            with open(out, "a") as f:
                f.write(json.dumps(definition, sort_keys=True) + "\n")
        return {"changed": False, "result": {}}
