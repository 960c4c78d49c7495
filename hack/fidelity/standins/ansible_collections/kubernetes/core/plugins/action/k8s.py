# Written for atmosphere-go's reference values (hack/fidelity): stands in for
# kubernetes.core.k8s, which would change a live cluster; it records the
# objects it was given (FIDELITY_OBJECTS, one JSON document a line: each of
# a list definition, each document of a template from the role's templates)
# and changes nothing.
import json
import os

import yaml
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    def run(self, tmp=None, task_vars=None):
        args = self._task.args
        out = os.environ.get("FIDELITY_OBJECTS")
        if not out or args.get("state", "present") != "present":
            return {"changed": False, "result": {}}
        docs = []
        definition = args.get("definition")
        if isinstance(definition, str):
            definition = [d for d in yaml.safe_load_all(definition) if d]
        if isinstance(definition, list):
            docs.extend(d for d in definition if d)
        elif definition:
            docs.append(definition)
        if args.get("template"):
            docs.extend(self._templated(args["template"], task_vars or {}))
        with open(out, "a") as f:
            for d in docs:
                f.write(json.dumps(d, sort_keys=True) + "\n")
        return {"changed": False, "result": {}}

    def _templated(self, spec, task_vars):
        docs = []
        for item in spec if isinstance(spec, list) else [spec]:
            path = item if isinstance(item, str) else item.get("path")
            source = self._find_needle("templates", path)
            with open(source) as f:
                text = f.read()
            with self._templar.set_temporary_context(available_variables=task_vars):
                rendered = self._templar.template(text, preserve_trailing_newlines=True, escape_backslashes=False)
            docs.extend(d for d in yaml.safe_load_all(rendered) if d)
        return docs
