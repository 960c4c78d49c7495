# Written for atmosphere-go's reference values (hack/fidelity): the filters
# atmosphere's roles call from the vexxhost.atmosphere collection, which is
# not part of ../shared. Each does what the role needs for the reference
# inventory; a configuration they do not cover is refused, never guessed.
import os
import urllib.parse

import yaml
from ansible.errors import AnsibleFilterError

CHARTS = os.environ.get("FIDELITY_CHARTS", "")


def openstack_helm_image_tags(images, chart):
    """The images.tags a chart declares, each from the image table; a tag
    the table has no image for (the charts' helm-test images: test,
    scripted_test) keeps the chart's default."""
    with open(os.path.join(CHARTS, chart, "values.yaml")) as f:
        tags = yaml.safe_load(f)["images"]["tags"]
    return {k: images[k] for k in tags if k != "image_repo_sync" and k in images}


def _issuer(domain):
    return domain["keycloak_server_url"] + "/realms/" + domain["keycloak_realm"]


def urlencoded_issuer_from_domain(domain):
    return urllib.parse.quote_plus(_issuer(domain))


def issuer_from_domain(domain):
    return _issuer(domain)


def to_ks_domains(domains):
    out = {}
    for d in domains:
        out[d["name"]] = {
            "identity": {"driver": "keycloak"},
            "keycloak": {
                "server_url": d["keycloak_server_internal_url"],
                "user_realm_name": d["keycloak_user_realm_name"],
                "client_id": d["keycloak_admin_client_id"],
                "username": d["keycloak_admin_user"],
                "password": d["keycloak_admin_password"],
                "realm_name": d["keycloak_realm"],
            },
        }
    return out


def keystone_domains_to_mounts(domains):
    mounts = []
    for d in domains:
        u = urllib.parse.urlparse(_issuer(d))
        remote = urllib.parse.quote_plus(u.netloc + u.path)
        for f in ("client", "conf", "provider"):
            mounts.append({"name": "keystone-openid-metadata",
                           "mountPath": "/var/lib/apache2/oidc/%s.%s" % (remote, f),
                           "subPath": "%s-oidc-%s" % (d["name"], f)})
    return mounts


def keystone_domains_to_idp_mappings(domains):
    return [{"label": d["label"], "name": d["name"], "idp": d["name"], "protocol": "openid"} for d in domains]


# Storage: rbd image, volume and backup backends and local or rbd
# ephemeral disks (atmosphere's default); other backends are refused.

def _only(kind, backend, allowed):
    if backend.get("type") not in allowed:
        raise AnsibleFilterError("reference storage filter: %s backend type %r not covered" % (kind, backend.get("type")))


def _rbd(b):
    return {"replication": b.get("replication", 3), "crush_rule": b.get("crush_rule", "replicated_rule"),
            "chunk_size": b.get("chunk_size", 8)}


def storage_to_glance_helm_values(storage):
    images = storage.get("images") or {}
    backends = images.get("backends") or {}
    if len(backends) > 1:
        raise AnsibleFilterError("reference storage filter: several image backends not covered")
    out = {"conf": {"glance": {}}}
    for b in backends.values():
        _only("image", b, ["rbd"])
        out["storage"] = "rbd"
        out["conf"]["glance"]["glance_store"] = {
            "rbd_store_pool": b["pool"], "rbd_store_user": b["user"],
            "rbd_store_ceph_conf": "/etc/ceph/ceph.conf", "rbd_store_chunk_size": _rbd(b)["chunk_size"],
            "rbd_store_replication": _rbd(b)["replication"], "rbd_store_crush_rule": _rbd(b)["crush_rule"],
        }
    if not out["conf"]["glance"]:
        del out["conf"]
    return out


def storage_to_cinder_helm_values(storage):
    volumes = storage.get("volumes") or {}
    backends = volumes.get("backends") or {}
    out = {"conf": {"backends": {}, "cinder": {"DEFAULT": {}}}}
    for name, b in backends.items():
        _only("volume", b, ["rbd"])
        out["storage"] = "ceph"
        r = _rbd(b)
        out["conf"]["backends"][name] = {
            "volume_driver": "cinder.volume.drivers.rbd.RBDDriver", "volume_backend_name": name,
            "rbd_pool": b["pool"], "rbd_ceph_conf": "/etc/ceph/ceph.conf",
            "rbd_flatten_volume_from_snapshot": False, "report_discard_supported": True,
            "rbd_max_clone_depth": 5, "rbd_store_chunk_size": r["chunk_size"], "rados_connect_timeout": -1,
            "rbd_user": b["user"], "rbd_secret_uuid": str(b["secret_uuid"]),
            "image_volume_cache_enabled": True, "image_volume_cache_max_size_gb": 200,
            "image_volume_cache_max_count": 50,
        }
        out["conf"].setdefault("ceph", {}).setdefault("pools", {})[b["pool"]] = dict(r, app_name="cinder-volume")
    out["conf"]["cinder"]["DEFAULT"]["enabled_backends"] = ",".join(backends)
    out["conf"]["cinder"]["DEFAULT"]["default_volume_type"] = volumes.get("default")
    backup = storage.get("backup")
    if backup is not None:
        _only("backup", backup, ["rbd", "none"])
        if backup["type"] == "rbd":
            d = out["conf"]["cinder"]["DEFAULT"]
            d["backup_driver"] = "cinder.backup.drivers.ceph.CephBackupDriver"
            d["backup_ceph_conf"] = "/etc/ceph/ceph.conf"
            d["backup_ceph_user"] = backup["user"]
            d["backup_ceph_pool"] = backup["pool"]
            out["conf"].setdefault("ceph", {}).setdefault("pools", {})["backup"] = dict(_rbd(backup), app_name="cinder-backup")
        else:
            out.setdefault("manifests", {}).update({"deployment_backup": False, "job_backup_storage_init": False})
    return out


def storage_to_nova_helm_values(storage):
    eph = storage.get("ephemeral")
    backends = (storage.get("volumes") or {}).get("backends") or {}
    for b in backends.values():
        _only("volume", b, ["rbd"])
    out = {}
    if eph is None:
        return out
    _only("ephemeral", eph, ["rbd", "local"])
    if eph["type"] == "rbd":
        out["conf"] = {"ceph": {"enabled": True}, "nova": {"libvirt": {
            "images_type": "rbd", "images_rbd_pool": eph["pool"], "images_rbd_ceph_conf": "/etc/ceph/ceph.conf",
            "rbd_user": eph["user"], "rbd_secret_uuid": str(eph["secret_uuid"])}}}
        out["manifests"] = {"job_storage_init": True}
        out["rbd_pool"] = dict(_rbd(eph), app_name="nova-vms")
    else:
        out["conf"] = {"ceph": {"enabled": bool(backends)}, "nova": {"libvirt": {"images_type": "qcow2"}}}
    return out


def storage_to_libvirt_helm_values(storage):
    volumes = storage.get("volumes") or {}
    eph = storage.get("ephemeral") or {}
    ceph = {"enabled": eph.get("type") == "rbd"}
    for name, b in (volumes.get("backends") or {}).items():
        _only("volume", b, ["rbd"])
        ceph["enabled"] = True
        user = {"user": b["user"], "secret_uuid": str(b["secret_uuid"])}
        if name == volumes.get("default"):
            ceph["cinder"] = user
        else:
            ceph.setdefault("additional_users", []).append(dict(user, secret_name="cinder-volume-rbd-keyring-" + name.replace("_", "-")))
    return {"conf": {"ceph": ceph}}


def storage_to_ceph_provisioners_helm_values(storage):
    for b in ((storage.get("volumes") or {}).get("backends") or {}).values():
        _only("volume", b, ["rbd"])
    return {}


class FilterModule(object):
    def filters(self):
        return {f.__name__: f for f in (
            openstack_helm_image_tags, urlencoded_issuer_from_domain, issuer_from_domain, to_ks_domains,
            keystone_domains_to_mounts, keystone_domains_to_idp_mappings, storage_to_glance_helm_values,
            storage_to_cinder_helm_values, storage_to_nova_helm_values, storage_to_libvirt_helm_values,
            storage_to_ceph_provisioners_helm_values)}
