package components

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"text/template"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The knobs keepalived reads (roles/keepalived/defaults/main.yml). The
// role has no default for the interface, the virtual IP and the password:
// when keepalived is enabled (keepalived_enabled, true by default) the
// interface and the virtual IP are required, as the role fails without
// them (checkKeepalived refuses the inventory before the run); the
// password is the inventory's, else the deployment's generated one (a
// secret: never shown).
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

// checkKeepalived finds, keepalived being enabled (CheckKnobs runs it
// only then), the interface or the virtual IP not set (each missing key a
// problem naming all of them, with the role's way out: set them, or
// keepalived_enabled: false), an interface that is no interface's name, a
// virtual router ID out of VRRP's 1..255, and a pod dependency without
// the network backend's entry (what the role indexes with it).
func checkKeepalived(vars map[string]any) []KnobProblem {
	var missing []string
	for _, k := range []knob[string]{keepalivedInterface, keepalivedVIP} {
		if v, ok := vars[k.name]; !ok || v == nil || v == "" {
			missing = append(missing, k.name)
		}
	}
	var out []KnobProblem
	for _, k := range missing {
		out = append(out, KnobProblem{Key: k, Message: fmt.Sprintf("keepalived is enabled and needs %s, which the role has no default for: set them, or keepalived_enabled: false",
			strings.Join(missing, " and "))})
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

// keepalivedTemplates are keepalived's configuration as the role writes
// it (keepalived.conf.tmpl: the interface, the virtual router ID, the
// virtual IP and the password) and the role's init script that waits for
// the interface to have an IPv4 address (keepalived.wait-for-ip.sh.tmpl),
// each executed with a keepalivedConfig.
//
//go:embed keepalived.conf.tmpl keepalived.wait-for-ip.sh.tmpl
var keepalivedTemplateFiles embed.FS

var keepalivedTemplates = template.Must(template.New("keepalived").Option("missingkey=error").
	ParseFS(keepalivedTemplateFiles, "keepalived.*.tmpl"))

// keepalivedConfig is what keepalived's templates are executed with.
type keepalivedConfig struct {
	Interface, VIP, Password string
	VRID                     int
}

// execute is the text of the template file name executed with k.
func (k keepalivedConfig) execute(name string) (string, error) {
	var b strings.Builder
	if err := keepalivedTemplates.ExecuteTemplate(&b, name, k); err != nil {
		return "", fmt.Errorf("keepalived's %s: %w", name, err)
	}
	return b.String(), nil
}

// keepalivedObjects are the objects keepalived applies, the role's: the
// keepalived-etc Secret of its configuration and the keepalived-bin
// ConfigMap of the script that waits for the interface's address, then
// those of keepalived.objects.yaml (its service account, the Role that
// lets it list pods, and its DaemonSet on the control plane), the
// DaemonSet made to mount both, wait first for the pods it depends on
// (the network backend's entry of keepalived_pod_dependency, through the
// dep_check image) and for the address, and run keepalived with its
// configuration. The interface and the virtual IP are required (an error
// without them: checkKeepalived refuses such an inventory before the run).
func keepalivedObjects(s Settings) ([]Object, error) {
	objs, err := staticObjects("keepalived")
	if err != nil {
		return nil, err
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
		return nil, fmt.Errorf("keepalived's configuration: keepalived_interface and keepalived_vip are required (set them, or keepalived_enabled: false)")
	}
	depJSON, err := json.Marshal(deps)
	if err != nil {
		return nil, fmt.Errorf("keepalived_pod_dependency: %w", err)
	}
	k := keepalivedConfig{Interface: iface, VIP: vip, Password: password, VRID: vrid}
	conf, err := k.execute("keepalived.conf.tmpl")
	if err != nil {
		return nil, err
	}
	waitForIP, err := k.execute("keepalived.wait-for-ip.sh.tmpl")
	if err != nil {
		return nil, err
	}
	config := objectList(
		map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": map[string]any{"name": "keepalived-etc"},
			"stringData": map[string]any{"keepalived.conf": conf}},
		map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "keepalived-bin"},
			"data": map[string]any{"wait-for-ip.sh": waitForIP}},
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

// keepalivedDaemonSet puts before the static DaemonSet's init containers
// (wait-for-ip) the one that waits for the pods keepalived depends on:
// depCheck's image, with the dependencies depJSON.
func keepalivedDaemonSet(ds map[string]any, depCheck, depJSON string) error {
	podSpec, ok, _ := unstructured.NestedMap(ds, "spec", "template", "spec")
	init, _ := podSpec["initContainers"].([]any)
	if !ok || len(init) != 1 {
		return fmt.Errorf("keepalived.objects.yaml: want a pod spec with the wait-for-ip init container alone")
	}
	fieldRef := func(path string) map[string]any {
		return map[string]any{"fieldRef": map[string]any{"apiVersion": "v1", "fieldPath": path}}
	}
	podSpec["initContainers"] = append([]any{
		map[string]any{"name": "init", "image": depCheck, "env": []any{
			map[string]any{"name": "NAMESPACE", "valueFrom": fieldRef("metadata.namespace")},
			map[string]any{"name": "POD_NAME", "valueFrom": fieldRef("metadata.name")},
			map[string]any{"name": "DEPENDENCY_POD_JSON", "value": depJSON},
		}},
	}, init...)
	return unstructured.SetNestedMap(ds, podSpec, "spec", "template", "spec")
}
