package components

import (
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// portworxVars are an inventory's portworx variables (test values).
func portworxVars() map[string]any {
	return map[string]any{
		"portworx_pure_json": map[string]any{"FlashArrays": []any{
			map[string]any{"MgmtEndPoint": "10.0.0.5", "APIToken": "pure-t0ken-4711"}}},
		"portworx_pure_flasharray_san_type": "ISCSI",
	}
}

// TestPortworxObjects: portworx applies, in the role's order, its
// namespace, the operator (ServiceAccount, ClusterRole, ClusterRoleBinding,
// Deployment), the Secret of pure.json, then the StorageCluster and the
// StorageClass general of pxd.portworx.com; those two alone await the CRD
// the operator creates. pure.json is portworx_pure_json as the role's
// to_json writes it, and the StorageCluster's PURE_FLASHARRAY_SAN_TYPE is
// portworx_pure_flasharray_san_type.
func TestPortworxObjects(t *testing.T) {
	c, ok := Default().Get("portworx")
	if !ok {
		t.Fatal("no component portworx")
	}
	objs, err := c.Objects(Settings{Config: Config{CSIDriver: CSIDriverPortworx}, Vars: portworxVars()})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		id := o.GetKind() + "/" + o.GetName()
		if o.AwaitCRD != "" {
			id += " after " + o.AwaitCRD
		}
		got = append(got, id)
	}
	want := []string{"Namespace/portworx", "ServiceAccount/portworx-operator", "ClusterRole/portworx-operator",
		"ClusterRoleBinding/portworx-operator", "Deployment/portworx-operator", "Secret/px-pure-secret",
		"StorageCluster/px-cluster-567cacc6-e39c-49da-9d35-2bafacfcf18c after " + PortworxCRD,
		"StorageClass/general after " + PortworxCRD}
	if !slices.Equal(got, want) {
		t.Errorf("objects\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, o := range objs {
		switch o.GetKind() {
		case "Secret":
			pure, _, _ := unstructured.NestedString(o.Object, "stringData", "pure.json")
			if want := `{"FlashArrays": [{"APIToken": "pure-t0ken-4711", "MgmtEndPoint": "10.0.0.5"}]}`; pure != want {
				t.Errorf("pure.json %s, want %s", pure, want)
			}
		case "StorageCluster":
			env, _, _ := unstructured.NestedSlice(o.Object, "spec", "env")
			if len(env) != 1 || env[0].(map[string]any)["name"] != "PURE_FLASHARRAY_SAN_TYPE" || env[0].(map[string]any)["value"] != "ISCSI" {
				t.Errorf("StorageCluster env %v, want PURE_FLASHARRAY_SAN_TYPE=ISCSI", env)
			}
		case "StorageClass":
			if o.Object["provisioner"] != "pxd.portworx.com" {
				t.Errorf("StorageClass general's provisioner %v, want pxd.portworx.com", o.Object["provisioner"])
			}
		}
	}
}

// TestPortworxKnobs: with csi_driver portworx, portworx_pure_json and
// portworx_pure_flasharray_san_type are required (each missing one
// refused, naming it), pure.json must be a mapping, refused without its
// value shown; with another driver, portworx is not deployed and neither
// is read.
func TestPortworxKnobs(t *testing.T) {
	px := Config{NetworkBackend: BackendOpenvswitch, CSIDriver: CSIDriverPortworx}
	base := merged(map[string]any{"cluster_issuer_type": "none"}, workspaceKeepalived)
	keys := func(ps []KnobProblem) []string {
		var out []string
		for _, p := range ps {
			out = append(out, p.Key+": "+p.Message)
		}
		return out
	}
	tests := []struct {
		name string
		cfg  Config
		vars map[string]any
		want []string // a substring of each problem, in key order
	}{
		{"both set", px, merged(base, portworxVars()), nil},
		{"neither set", px, base, []string{
			"portworx_pure_flasharray_san_type: required with csi_driver portworx",
			"portworx_pure_json: required with csi_driver portworx"}},
		{"the SAN type empty", px, merged(merged(base, portworxVars()), map[string]any{"portworx_pure_flasharray_san_type": ""}),
			[]string{"portworx_pure_flasharray_san_type: required with csi_driver portworx"}},
		{"pure.json a string", px, merged(merged(base, portworxVars()), map[string]any{"portworx_pure_json": `{"FlashArrays": "s3cr3t"}`}),
			[]string{"portworx_pure_json: want a mapping, got a string"}},
		{"another driver", DefaultConfig(), base, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := keys(Default().CheckKnobs(tt.cfg, tt.vars))
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q, want %d: %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("problem %q, want %q…", got[i], w)
				}
				if strings.Contains(got[i], "s3cr3t") {
					t.Errorf("problem %q shows pure.json", got[i])
				}
			}
		})
	}
	if !IsSecretKnob("portworx_pure_json") {
		t.Errorf("portworx_pure_json is not a secret knob")
	}
	// The objects refuse, too, what the check refuses (a rendering
	// without CheckKnobs: a test, the fidelity tool).
	c, _ := Default().Get("portworx")
	for _, vars := range []map[string]any{{}, {"portworx_pure_json": map[string]any{}}} {
		if _, err := c.Objects(Settings{Config: px, Vars: vars}); err == nil || !strings.Contains(err.Error(), "required with csi_driver portworx") {
			t.Errorf("objects of %v: error %v, want a required knob named", vars, err)
		}
	}
}

// TestPythonJSON: pythonJSON writes what Python's json.dumps writes with
// its defaults (Ansible's to_json) — the expectations are Python 3's
// output — keys sorted.
func TestPythonJSON(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{map[string]any{"FlashArrays": []any{map[string]any{"MgmtEndPoint": "10.0.0.5", "APIToken": "tok"}}},
			`{"FlashArrays": [{"APIToken": "tok", "MgmtEndPoint": "10.0.0.5"}]}`},
		{map[string]any{"b": []any{1, 2.5, true, nil}, "a": "é\"\\\n\t\x01\x7f😀<>&", "c": map[string]any{}, "d": []any{}},
			`{"a": "\u00e9\"\\\n\t\u0001\u007f\ud83d\ude00<>&", "b": [1, 2.5, true, null], "c": {}, "d": []}`},
		{float64(3), "3"}, {1e20, "1e+20"}, {0.1, "0.1"}, {"", `""`},
	}
	for _, tt := range tests {
		got, err := pythonJSON(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("pythonJSON(%v) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	if _, err := pythonJSON(map[string]any{"x": struct{}{}}); err == nil {
		t.Errorf("a value that is not JSON taken")
	}
}

// TestPortworxHostPlay: portworx's host phase is a play of its own on
// the controllers, as root, after multipathd (the role's dependency),
// whose tasks read /etc/iscsi/initiatorname.iscsi and, only when it
// names no initiator, write one made by iscsi-iname.
func TestPortworxHostPlay(t *testing.T) {
	c, _ := Default().Get("portworx")
	if len(c.Phases) != 2 || c.Phases[0].Name != "host" || c.Phases[0].Kind != Ansible || c.Phases[1].Kind != Manifest {
		t.Fatalf("phases %+v, want host (Ansible), install (manifest)", c.Phases)
	}
	if !slices.Contains(c.Phases[0].Needs, "multipathd") {
		t.Errorf("host needs %v, want multipathd", c.Phases[0].Needs)
	}
	w := c.Ansible
	if w == nil || w.Hosts != "controllers" || !w.Become || w.Role != "" || len(w.Tasks) != 2 {
		t.Fatalf("Ansible work %+v, want 2 tasks of its own on the controllers, as root", w)
	}
	if src := w.Tasks[0]["ansible.builtin.slurp"].(map[string]any)["src"]; src != "/etc/iscsi/initiatorname.iscsi" {
		t.Errorf("first task reads %v", src)
	}
	block, _ := w.Tasks[1]["block"].([]any)
	when, _ := w.Tasks[1]["when"].(string)
	if len(block) != 2 || !strings.Contains(when, "'InitiatorName' not in") {
		t.Fatalf("second task %v, want a block of two under a condition on InitiatorName", w.Tasks[1])
	}
	cmd := block[0].(map[string]any)["ansible.builtin.command"].(map[string]any)["cmd"]
	cp := block[1].(map[string]any)["ansible.builtin.copy"].(map[string]any)
	if cmd != "iscsi-iname" || cp["dest"] != "/etc/iscsi/initiatorname.iscsi" || cp["mode"] != "0644" ||
		!strings.HasPrefix(cp["content"].(string), "InitiatorName={{") {
		t.Errorf("block %v, want iscsi-iname then its name written as InitiatorName=… mode 0644", block)
	}
}
