package components

import (
	"encoding/json"
	"fmt"
	"regexp"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The knobs keepalived reads (roles/keepalived/defaults/main.yml). The
// role has no default for the interface, the virtual IP and the password:
// keepalived is configured when the inventory sets any of its knobs, and
// then the interface and the virtual IP are required (checkKeepalived); the
// password is the inventory's, else the deployment's generated one (a
// secret: never shown). With none set, keepalived's objects are those of
// keepalived.objects.yaml alone, as before the knobs were read.
var (
	keepalivedKnobs         = knobsOf("keepalived")
	keepalivedInterface     = keepalivedKnobs.str("keepalived_interface", "")
	keepalivedVIP           = keepalivedKnobs.str("keepalived_vip", "")
	keepalivedPassword      = keepalivedKnobs.str("keepalived_password", "")
	keepalivedVRID          = keepalivedKnobs.integer("keepalived_vrid", 51)
	keepalivedPodDependency = keepalivedKnobs.mapping("keepalived_pod_dependency", map[string]any{
		BackendOpenvswitch: []any{map[string]any{"requireSameNode": true,
			"labels": map[string]any{"application": "neutron", "component": "neutron-ovs-agent"}}},
		BackendOVN: []any{map[string]any{"requireSameNode": true,
			"labels": map[string]any{"application": "ovn", "component": "ovn-controller"}}},
	})
)

// interfaceName is what a network interface's name may be (Linux's: at
// most 15 characters, no blank or slash); it is written into a shell
// script and keepalived's configuration.
var interfaceName = regexp.MustCompile(`^[A-Za-z0-9_.:@-]{1,15}$`)

func init() { keepalivedKnobs.check(checkKeepalived) }

// keepalivedConfigured says whether the inventory sets any of keepalived's
// knobs (and so asks for its configuration).
func keepalivedConfigured(vars map[string]any) bool {
	for _, k := range []string{keepalivedInterface.name, keepalivedVIP.name, keepalivedPassword.name, keepalivedVRID.name, keepalivedPodDependency.name} {
		if v, ok := vars[k]; ok && v != nil {
			return true
		}
	}
	return false
}

// checkKeepalived finds, when keepalived is configured, the interface and
// virtual IP not set, an interface that is no interface's name, a virtual
// router ID out of VRRP's 1..255, and a pod dependency without the network
// backend's entry (what the role indexes with it).
func checkKeepalived(vars map[string]any) []KnobProblem {
	if !keepalivedConfigured(vars) {
		return nil
	}
	var out []KnobProblem
	for _, k := range []knob[string]{keepalivedInterface, keepalivedVIP} {
		if v, ok := vars[k.name]; !ok || v == nil || v == "" {
			out = append(out, KnobProblem{Key: k.name, Message: "required when keepalived is configured (keepalived_interface, keepalived_vip, keepalived_password, keepalived_vrid or keepalived_pod_dependency set): the role has no default"})
		}
	}
	if v, ok := vars[keepalivedInterface.name].(string); ok && v != "" && !interfaceName.MatchString(v) {
		out = append(out, KnobProblem{Key: keepalivedInterface.name, Message: fmt.Sprintf("want a network interface's name (at most 15 letters, digits or _.:@-), got %q", v)})
	}
	if v, ok := vars[keepalivedVRID.name]; ok && v != nil {
		if n, ok := keepalivedVRID.conv(v); ok && (n < 1 || n > 255) {
			out = append(out, KnobProblem{Key: keepalivedVRID.name, Message: fmt.Sprintf("want a virtual router ID from 1 to 255, got %d", n)})
		}
	}
	if deps, ok := vars[keepalivedPodDependency.name].(map[string]any); ok {
		backend, _ := vars["atmosphere_network_backend"].(string)
		if backend == "" {
			backend = BackendOpenvswitch
		}
		if _, ok := deps[backend].([]any); !ok {
			out = append(out, KnobProblem{Key: keepalivedPodDependency.name, Message: fmt.Sprintf("want a list of pod dependencies under %q (the network backend), got %s", backend, describe(keepalivedPodDependency.name, deps[backend]))})
		}
	}
	return out
}

// keepalived declares keepalived, with what it renders.
func keepalived() *Component {
	c := enabledWhen(manifests("keepalived", openstack, 4, needs("kubernetes"), nil), func(c Config) bool { return c.Keepalived })
	c.objects = keepalivedObjects
	return c
}

// keepalivedConf is keepalived's configuration, as the role writes it: the
// interface, the virtual router ID, the virtual IP and the password.
const keepalivedConf = `global_defs {
  default_interface %[1]s
}

vrrp_instance VI_1 {
  interface %[1]s

  state BACKUP
  virtual_router_id %[2]d
  priority 150
  nopreempt

  virtual_ipaddress {
    %[3]s
  }

  authentication {
    auth_type PASS
    auth_pass %[4]s
  }
}
`

// keepalivedWaitForIP is the role's init script that waits for the
// interface to have an IPv4 address.
const keepalivedWaitForIP = `#!/bin/sh -x

while true; do
    ip -4 addr list dev %[1]s | grep %[1]s

    # We detected an IP address
    if [ $? -eq 0 ]; then
        break
    fi

    sleep 1
done
`

// keepalivedObjects are the objects keepalived applies itself, as data
// (keepalived.objects.yaml): its service account, the Role that lets it list
// pods, and its DaemonSet on the control plane. When the inventory
// configures it (keepalivedConfigured), they are the role's: before them the
// keepalived-etc Secret of its configuration and the keepalived-bin
// ConfigMap of the script that waits for the interface's address, and the
// DaemonSet mounts both, waits first for the pods it depends on (the
// network backend's entry of keepalived_pod_dependency, through the
// dep_check image) and for the address, and runs keepalived with its
// configuration.
func keepalivedObjects(s Settings) ([]Object, error) {
	objs, err := staticObjects("keepalived")
	if err != nil {
		return nil, err
	}
	if !keepalivedConfigured(s.Vars) {
		return objs, nil
	}
	r := &Render{Settings: s}
	iface, vip, vrid := keepalivedInterface.get(r), keepalivedVIP.get(r), keepalivedVRID.get(r)
	keepalivedPassword.get(r) // its type; its value is the secret's
	password := r.secret(keepalivedPassword.name)
	backend := s.NetworkBackend
	if backend == "" {
		backend = BackendOpenvswitch
	}
	deps, ok := keepalivedPodDependency.get(r)[backend].([]any)
	if !ok && r.err == nil {
		r.fail(r.knobError(keepalivedPodDependency.name, "no list of pod dependencies under "+backend+" (the network backend)"))
	}
	if r.err != nil {
		return nil, fmt.Errorf("keepalived's configuration: %w", r.err)
	}
	if iface == "" || vip == "" {
		return nil, fmt.Errorf("keepalived's configuration: keepalived_interface and keepalived_vip are required")
	}
	depJSON, err := json.Marshal(deps)
	if err != nil {
		return nil, fmt.Errorf("keepalived_pod_dependency: %w", err)
	}
	config := objectList(
		map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "keepalived-etc"},
			"stringData": map[string]any{"keepalived.conf": fmt.Sprintf(keepalivedConf, iface, vrid, vip, password)}},
		map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "keepalived-bin"},
			"data": map[string]any{"wait-for-ip.sh": fmt.Sprintf(keepalivedWaitForIP, iface)}},
	)
	for _, o := range objs {
		if o.GetKind() == "DaemonSet" && o.GetName() == "keepalived" {
			if err := keepalivedDaemonSet(o.Object, r.image("dep_check").String(), string(depJSON)); err != nil {
				return nil, fmt.Errorf("keepalived's DaemonSet: %w", err)
			}
		}
	}
	return append(config, objs...), nil
}

// keepalivedDaemonSet makes the static DaemonSet the role's configured
// one (keepalivedObjects).
func keepalivedDaemonSet(ds map[string]any, depCheck, depJSON string) error {
	podSpec, ok, _ := unstructured.NestedMap(ds, "spec", "template", "spec")
	containers, _ := podSpec["containers"].([]any)
	if !ok || len(containers) != 1 {
		return fmt.Errorf("keepalived.objects.yaml: want a pod spec with the keepalived container alone")
	}
	main, _ := containers[0].(map[string]any)
	image, _ := main["image"].(string)
	fieldRef := func(path string) map[string]any {
		return map[string]any{"fieldRef": map[string]any{"apiVersion": "v1", "fieldPath": path}}
	}
	podSpec["automountServiceAccountToken"] = true
	podSpec["initContainers"] = []any{
		map[string]any{"name": "init", "image": depCheck, "env": []any{
			map[string]any{"name": "NAMESPACE", "valueFrom": fieldRef("metadata.namespace")},
			map[string]any{"name": "POD_NAME", "valueFrom": fieldRef("metadata.name")},
			map[string]any{"name": "DEPENDENCY_POD_JSON", "value": depJSON},
		}},
		map[string]any{"name": "wait-for-ip", "image": image, "command": []any{"/bin/wait-for-ip.sh"},
			"volumeMounts": []any{map[string]any{"mountPath": "/bin/wait-for-ip.sh", "mountPropagation": "None",
				"name": "keepalived-bin", "readOnly": true, "subPath": "wait-for-ip.sh"}}},
	}
	main["command"] = []any{"keepalived", "-f", "/etc/keepalived/keepalived.conf", "--dont-fork", "--log-console", "--log-detail", "--dump-conf"}
	security, _ := main["securityContext"].(map[string]any)
	if security == nil {
		security = map[string]any{}
	}
	security["allowPrivilegeEscalation"] = true
	main["securityContext"] = security
	main["volumeMounts"] = []any{map[string]any{"mountPath": "/etc/keepalived", "mountPropagation": "None", "name": "keepalived-etc", "readOnly": true}}
	podSpec["volumes"] = []any{
		map[string]any{"name": "keepalived-etc", "secret": map[string]any{"optional": false, "secretName": "keepalived-etc"}},
		map[string]any{"name": "keepalived-bin", "configMap": map[string]any{"defaultMode": int64(0o755), "name": "keepalived-bin", "optional": false}},
	}
	return unstructured.SetNestedMap(ds, podSpec, "spec", "template", "spec")
}
