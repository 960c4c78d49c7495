package components

import (
	"slices"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/internal/images"
)

// storpoolIBMBlockVars are the knobs the storpool and ibm-block CSI
// drivers require, set (test values).
var storpoolIBMBlockVars = map[string]any{
	"storpool_csi_template":                   "hybrid-r3",
	"ibm_block_csi_driver_management_address": "flash.example.com",
	"ibm_block_csi_driver_username":           "csi-user",
	"ibm_block_csi_driver_password":           "pa55-w0rd-4711",
	"ibm_block_csi_driver_pool":               "pool0",
	"ibm_block_csi_driver_io_group":           "0",
}

// without is vars less the keys.
func without(vars map[string]any, keys ...string) map[string]any {
	out := merged(vars, nil)
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

// TestStorPoolIBMBlockKnobs: with csi_driver storpool, its template is
// required (the role has no default); with ibm-block, the management
// address, user, password, pool and I/O group are, each missing one named;
// a value of another type is refused naming the knob, a secret's never
// shown; with another driver neither's knobs are checked.
func TestStorPoolIBMBlockKnobs(t *testing.T) {
	all := merged(storpoolIBMBlockVars, workspaceKeepalived)
	all["cluster_issuer_type"] = "none"
	required := func(driver string) string {
		return "required with csi_driver " + driver + " (its role has no default for it), and not set"
	}
	cases := []struct {
		name, driver string
		vars         map[string]any
		want         map[string]string // key: a substring of its problem
	}{
		{"storpool, all set", CSIDriverStorPool, all, nil},
		{"storpool without its template", CSIDriverStorPool, without(all, "storpool_csi_template"),
			map[string]string{"storpool_csi_template": required("storpool")}},
		{"storpool with an empty template", CSIDriverStorPool, merged(all, map[string]any{"storpool_csi_template": ""}),
			map[string]string{"storpool_csi_template": required("storpool")}},
		{"storpool with a template not a string", CSIDriverStorPool, merged(all, map[string]any{"storpool_csi_template": 3.0}),
			map[string]string{"storpool_csi_template": "want a string, got the number 3"}},
		{"ibm-block, all set", CSIDriverIBMBlock, all, nil},
		{"ibm-block, space efficiency given", CSIDriverIBMBlock, merged(all, map[string]any{"ibm_block_csi_driver_space_efficiency": "thick"}), nil},
		{"ibm-block without credentials, pool and I/O group", CSIDriverIBMBlock,
			without(all, "ibm_block_csi_driver_management_address", "ibm_block_csi_driver_username", "ibm_block_csi_driver_password",
				"ibm_block_csi_driver_pool", "ibm_block_csi_driver_io_group"),
			map[string]string{
				"ibm_block_csi_driver_management_address": required("ibm-block"),
				"ibm_block_csi_driver_username":           required("ibm-block"),
				"ibm_block_csi_driver_password":           required("ibm-block"),
				"ibm_block_csi_driver_pool":               required("ibm-block"),
				"ibm_block_csi_driver_io_group":           required("ibm-block"),
			}},
		{"ibm-block with a password not a string", CSIDriverIBMBlock, merged(all, map[string]any{"ibm_block_csi_driver_password": 4711.0}),
			map[string]string{"ibm_block_csi_driver_password": "want a string, got a number"}},
		{"ibm-block with an I/O group not a string", CSIDriverIBMBlock, merged(all, map[string]any{"ibm_block_csi_driver_io_group": 0.0}),
			map[string]string{"ibm_block_csi_driver_io_group": "want a string, got the number 0"}},
		{"ibm-block with a space efficiency not a string", CSIDriverIBMBlock, merged(all, map[string]any{"ibm_block_csi_driver_space_efficiency": true}),
			map[string]string{"ibm_block_csi_driver_space_efficiency": "want a string, got the boolean true"}},
		{"rbd: neither driver's knobs checked", CSIDriverRBD,
			without(merged(all, map[string]any{"ibm_block_csi_driver_password": 4711.0}), "storpool_csi_template", "ibm_block_csi_driver_pool"), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vars := merged(c.vars, map[string]any{"csi_driver": c.driver})
			cfg := DefaultConfig()
			cfg.CSIDriver = CSIDriverOf(vars)
			if cfg.CSIDriver != c.driver {
				t.Fatalf("CSIDriverOf: %q, want %q", cfg.CSIDriver, c.driver)
			}
			got := map[string]string{}
			for _, p := range Default().CheckKnobs(cfg, vars) {
				got[p.Key] = p.Message
				if strings.Contains(p.Message, "4711") || strings.Contains(p.Message, "pa55") {
					t.Errorf("%s: the password shown: %s", p.Key, p.Message)
				}
			}
			for k, msg := range c.want {
				if !strings.Contains(got[k], msg) {
					t.Errorf("%s: problem %q, want one with %q", k, got[k], msg)
				}
			}
			for k, msg := range got {
				if _, ok := c.want[k]; !ok {
					t.Errorf("unexpected problem %s: %s", k, msg)
				}
			}
		})
	}
}

// TestStorPoolCSIObjects: storpool-csi applies the role's manifests in
// its order (RBAC, then the controller plugin, the CSIDriver and the node
// plugin), then the StorageClass general of csi.storpool.com, the default
// class, WaitForFirstConsumer, with the inventory's template; its
// namespaced objects take the component's namespace, kube-system. Without
// the template, no objects: an error naming the knob.
func TestStorPoolCSIObjects(t *testing.T) {
	c, ok := Default().Get("storpool-csi")
	if !ok || c.Namespace != "kube-system" {
		t.Fatalf("storpool-csi: %v, %+v", ok, c)
	}
	objs, err := c.Objects(Settings{Vars: storpoolIBMBlockVars})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, o := range objs {
		order = append(order, o.GetKind()+"/"+o.GetName())
		if o.GetNamespace() != "" {
			t.Errorf("%s %s in namespace %s: want the component's", o.GetKind(), o.GetName(), o.GetNamespace())
		}
	}
	want := []string{
		"ServiceAccount/storpool-csi-controller-sa", "ClusterRole/csi-attacher-role", "ClusterRoleBinding/csi-attacher-binding",
		"ClusterRole/csi-provisioner-role", "ClusterRoleBinding/csi-provisioner-binding",
		"ServiceAccount/storpool-csi-node-sa", "ClusterRole/csi-nodeplugin-role", "ClusterRoleBinding/csi-nodeplugin-binding",
		"Deployment/storpool-csi-controllerplugin", "CSIDriver/csi.storpool.com", "DaemonSet/storpool-csi-nodeplugin",
		"StorageClass/general",
	}
	if !slices.Equal(order, want) {
		t.Errorf("objects\n  %v\nwant\n  %v", order, want)
	}
	sc := objs[len(objs)-1].Object
	if sc["provisioner"] != "csi.storpool.com" || sc["volumeBindingMode"] != "WaitForFirstConsumer" || sc["reclaimPolicy"] != "Delete" ||
		sc["allowVolumeExpansion"] != true || sc["parameters"].(map[string]any)["template"] != "hybrid-r3" ||
		objs[len(objs)-1].GetAnnotations()["storageclass.kubernetes.io/is-default-class"] != "true" {
		t.Errorf("StorageClass general: %v", sc)
	}
	if _, err := c.Objects(Settings{Vars: without(storpoolIBMBlockVars, "storpool_csi_template")}); err == nil ||
		!strings.Contains(err.Error(), "storpool_csi_template: required with csi_driver storpool") {
		t.Errorf("without the template: %v, want the knob required", err)
	}
}

// TestIBMBlockCSIObjects: ibm-block-csi-operator applies the operator's
// manifest, its Deployment running the image table's operator image;
// ibm-block-csi-driver, after it, the IBMBlockCSI resource with every
// image's repository and tag from the table, the Secret of the
// credentials and the StorageClass general of block.csi.ibm.com with the
// pool, I/O group and space efficiency (thin unless set) and the Secret's
// name and namespace. A missing credential is an error naming it, never
// showing the password.
func TestIBMBlockCSIObjects(t *testing.T) {
	table, err := images.New(images.Options{Overrides: map[string]string{
		"ibm_block_csi_operator":      "registry.example.com/ibm/operator:9.9.9",
		"ibm_block_csi_livenessprobe": "registry.example.com/sig-storage/livenessprobe:v9",
	}})
	if err != nil {
		t.Fatal(err)
	}
	s := Settings{Vars: storpoolIBMBlockVars, Images: table}
	op, _ := Default().Get("ibm-block-csi-operator")
	objs, err := op.Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, o := range objs {
		kinds = append(kinds, o.GetKind()+"/"+o.GetName())
		if o.GetKind() == "Deployment" {
			c := o.Object["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)
			if c["image"] != "registry.example.com/ibm/operator:9.9.9" {
				t.Errorf("the operator's image %v, want the table's", c["image"])
			}
		}
	}
	if want := []string{"CustomResourceDefinition/hostdefiners.csi.ibm.com", "CustomResourceDefinition/hostdefinitions.csi.ibm.com",
		"CustomResourceDefinition/ibmblockcsis.csi.ibm.com", "ServiceAccount/ibm-block-csi-operator", "ClusterRole/ibm-block-csi-operator",
		"ClusterRoleBinding/ibm-block-csi-operator", "Deployment/ibm-block-csi-operator"}; !slices.Equal(kinds, want) {
		t.Errorf("operator's objects %v, want %v", kinds, want)
	}

	drv, _ := Default().Get("ibm-block-csi-driver")
	if !slices.Contains(drv.Phases[0].Needs, "ibm-block-csi-operator") {
		t.Errorf("ibm-block-csi-driver needs %v, want the operator", drv.Phases[0].Needs)
	}
	objs, err = drv.Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 3 || objs[0].GetKind() != "IBMBlockCSI" || objs[1].GetKind() != "Secret" || objs[2].GetKind() != "StorageClass" {
		t.Fatalf("driver's objects: %d, want the IBMBlockCSI, the Secret, the StorageClass", len(objs))
	}
	spec := objs[0].Object["spec"].(map[string]any)
	got := map[string]string{}
	for _, part := range []string{"controller", "node"} {
		m := spec[part].(map[string]any)
		got[part] = m["repository"].(string) + ":" + m["tag"].(string)
	}
	for _, x := range spec["sidecars"].([]any) {
		m := x.(map[string]any)
		got[m["name"].(string)] = m["repository"].(string) + ":" + m["tag"].(string)
	}
	for name, key := range ibmBlockCSIImages {
		if want := table.Ref(key).Name() + ":" + table.Ref(key).Tag; got[name] != want {
			t.Errorf("IBMBlockCSI %s: %q, want %q (%s)", name, got[name], want, key)
		}
	}
	if got["livenessprobe"] != "registry.example.com/sig-storage/livenessprobe:v9" {
		t.Errorf("livenessprobe %q: the table's override not taken", got["livenessprobe"])
	}
	data := objs[1].Object["stringData"].(map[string]any)
	if objs[1].GetName() != "ibm-block-csi-credentials" || data["management_address"] != "flash.example.com" ||
		data["username"] != "csi-user" || data["password"] != "pa55-w0rd-4711" || len(data) != 3 {
		t.Errorf("Secret %s: %d keys, not the credentials", objs[1].GetName(), len(data))
	}
	params := objs[2].Object["parameters"].(map[string]any)
	wantParams := map[string]any{"pool": "pool0", "io_group": "0", "SpaceEfficiency": "thin",
		"csi.storage.k8s.io/secret-name": "ibm-block-csi-credentials", "csi.storage.k8s.io/secret-namespace": "kube-system"}
	if objs[2].Object["provisioner"] != "block.csi.ibm.com" || len(params) != len(wantParams) {
		t.Errorf("StorageClass general: %v", objs[2].Object)
	}
	for k, v := range wantParams {
		if params[k] != v {
			t.Errorf("StorageClass general: %s %v, want %v", k, params[k], v)
		}
	}
	thick := merged(storpoolIBMBlockVars, map[string]any{"ibm_block_csi_driver_space_efficiency": "thick"})
	if objs, err := drv.Objects(Settings{Vars: thick}); err != nil || objs[2].Object["parameters"].(map[string]any)["SpaceEfficiency"] != "thick" {
		t.Errorf("space efficiency thick: %v", err)
	}
	_, err = drv.Objects(Settings{Vars: without(storpoolIBMBlockVars, "ibm_block_csi_driver_username")})
	if err == nil || !strings.Contains(err.Error(), "ibm_block_csi_driver_username: required with csi_driver ibm-block") {
		t.Errorf("without the user: %v, want it required", err)
	}
	_, err = drv.Objects(Settings{Vars: merged(storpoolIBMBlockVars, map[string]any{"ibm_block_csi_driver_password": 4711.0})})
	if err == nil || strings.Contains(err.Error(), "4711") {
		t.Errorf("a password not a string: %v, want an error not showing it", err)
	}
}

// TestStorPoolIBMBlockGraph: each driver enables its components alone,
// and loki's storage waits for them: storpool-csi, or ibm-block's operator
// then its driver.
func TestStorPoolIBMBlockGraph(t *testing.T) {
	mine := []string{"storpool-csi", "ibm-block-csi-operator", "ibm-block-csi-driver"}
	for driver, want := range map[string][]string{
		CSIDriverRBD:      nil,
		CSIDriverStorPool: {"storpool-csi"},
		CSIDriverIBMBlock: {"ibm-block-csi-operator", "ibm-block-csi-driver"},
	} {
		cfg := DefaultConfig()
		cfg.CSIDriver = driver
		var enabled []string
		for _, name := range mine {
			if c, _ := Default().Get(name); c.IsEnabled(cfg) {
				enabled = append(enabled, name)
			}
		}
		if !slices.Equal(enabled, want) {
			t.Errorf("csi_driver %s enables %v, want %v", driver, enabled, want)
		}
		g, err := Default().Graph(cfg, GraphOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range want {
			if !slices.Contains(g.Ancestors("loki:install"), UnitKey(name, "install")) {
				t.Errorf("csi_driver %s: loki:install does not wait for %s:install", driver, name)
			}
		}
		if driver != CSIDriverRBD && slices.Contains(g.Ancestors("loki:install"), "csi:install") {
			t.Errorf("csi_driver %s: loki:install waits for csi", driver)
		}
	}
}
