# Written for atmosphere-go's reference values (hack/fidelity): the roles
# render Prometheus rules from jsonnet files that are not part of ../shared,
# so the reference has none (an empty map), and says so in its output.
from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        return [{}]
