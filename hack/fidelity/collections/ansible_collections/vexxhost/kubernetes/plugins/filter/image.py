# Written for atmosphere-go's reference values (hack/fidelity): the parts of
# an image reference, as atmosphere's roles ask for them with
# vexxhost.kubernetes.docker_image(part).
import re

from ansible.errors import AnsibleFilterError

_REF = re.compile(r"^(?P<name>[^@:]+(?::\d+(?=/))?[^@:]*)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>[a-z0-9]+:[a-f0-9]+))?$")


def _parts(value):
    m = _REF.match(value)
    if not m:
        raise AnsibleFilterError("not an image reference: %r" % (value,))
    name = m.group("name")
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        domain, path = first, rest
    else:
        domain, path = None, name
    return {"ref": value, "name": name, "tag": m.group("tag"), "digest": m.group("digest"),
            "domain": domain, "path": path,
            "prefix": "/".join(([domain] if domain else []) + path.split("/")[:-1])}


def docker_image(value, part="ref"):
    if not isinstance(value, str):
        raise AnsibleFilterError("docker_image wants a string, not %r" % (value,))
    parts = _parts(value)
    if part not in parts:
        raise AnsibleFilterError("docker_image: unknown part %r" % (part,))
    return parts[part]


class FilterModule(object):
    def filters(self):
        return {"docker_image": docker_image}
