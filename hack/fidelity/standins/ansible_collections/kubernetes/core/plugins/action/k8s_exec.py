# Written for atmosphere-go's reference values (hack/fidelity): stands in for
# kubernetes.core.k8s_exec (a command in a live pod); it runs nothing.
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        return {"changed": False, "stdout": "", "stderr": "", "rc": 0}
