package components

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/internal/images"
)

// hpeNimbleVars are the variables csi_driver hpe-nimble requires (test
// values): the array's address and credentials.
var hpeNimbleVars = map[string]any{"hpe_nimble_csi_backend": "192.0.2.10", "hpe_nimble_csi_username": "admin",
	"hpe_nimble_csi_password": "nimble-s3cr3t"}

// hpeNimbleConfig is the default configuration with csi_driver hpe-nimble.
func hpeNimbleConfig() Config {
	c := DefaultConfig()
	c.CSIDriver = CSIDriverHPENimble
	return c
}

// TestHPECSIDriverEnabledForItsDriver: hpe-csi-driver is deployed for
// csi_driver hpe-nimble alone, in place of csi, and what claims volumes
// of the class general (loki, the database) then waits for it; its
// release is the role's (hpe-csi-driver in kube-system), and the role's
// hpe_nimble_csi_helm_values name it.
func TestHPECSIDriverEnabledForItsDriver(t *testing.T) {
	reg := Default()
	c, ok := reg.Get("hpe-csi-driver")
	if !ok {
		t.Fatal("no component hpe-csi-driver")
	}
	for _, driver := range CSIDrivers {
		cfg := DefaultConfig()
		cfg.CSIDriver = driver
		if got, want := c.IsEnabled(cfg), driver == CSIDriverHPENimble; got != want {
			t.Errorf("csi_driver %s: enabled %v, want %v", driver, got, want)
		}
	}
	if c.Release != "hpe-csi-driver" || c.Namespace != "kube-system" || c.Chart == nil || c.Chart.Name != "hpe-csi-driver" {
		t.Errorf("release %s/%s of chart %v, want kube-system/hpe-csi-driver of hpe-csi-driver", c.Namespace, c.Release, c.Chart)
	}
	if got := reg.ValuesPrefixes()["hpe_nimble_csi"]; got != "hpe-csi-driver" {
		t.Errorf("hpe_nimble_csi_helm_values names %q, want hpe-csi-driver", got)
	}
	g, err := reg.Graph(hpeNimbleConfig(), GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, unit := range []string{"loki:install", "percona-xtradb-cluster:install", "kube-prometheus-stack:install", "valkey:install"} {
		anc := g.Ancestors(unit)
		if !slices.Contains(anc, "hpe-csi-driver:install") || slices.Contains(anc, "csi:install") {
			t.Errorf("%s waits for %v: want hpe-csi-driver:install, not csi:install", unit, anc)
		}
	}
}

// TestHPECSIDriverValues: its values are the role's
// _hpe_nimble_csi_helm_values: Nimble's CSP alone, no pre-install hook,
// and every image of the chart from the table (a mirror or override of
// the table reaches it).
func TestHPECSIDriverValues(t *testing.T) {
	c, _ := Default().Get("hpe-csi-driver")
	s := DefaultSettings()
	s.Config = hpeNimbleConfig()
	s.Vars = hpeNimbleVars
	v, err := c.OwnValues(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	disable := map[string]any{"nimble": false, "alletra6000": true, "primera": true, "alletra9000": true,
		"alletraStorageMP": true, "b10000FileService": true}
	if !reflect.DeepEqual(v["disable"], disable) || v["disablePreInstallHooks"] != true {
		t.Errorf("disable %v, disablePreInstallHooks %v; want Nimble's CSP alone and no hook", v["disable"], v["disablePreInstallHooks"])
	}
	imgs, _ := v["images"].(map[string]any)
	if len(imgs) != 13 {
		t.Errorf("%d images, want the role's 13: %v", len(imgs), imgs)
	}
	// The role's vars/main.yml: each of the chart's images and its key in
	// atmosphere_images.
	role := map[string]string{
		"csiControllerDriver": "hpe_csi_controller_driver", "csiNodeDriver": "hpe_csi_node_driver",
		"nimbleCSP": "hpe_csi_nimble_csp", "nfsProvisioner": "hpe_csi_nfs_provisioner", "csiExtensions": "hpe_csi_extensions",
		"csiVolumeGroupProvisioner": "hpe_csi_volume_group_provisioner", "csiVolumeGroupSnapshotter": "hpe_csi_volume_group_snapshotter",
		"csiVolumeMutator": "hpe_csi_volume_mutator", "csiAttacher": "hpe_csi_attacher",
		"csiNodeDriverRegistrar": "hpe_csi_node_driver_registrar", "csiProvisioner": "hpe_csi_provisioner",
		"csiResizer": "hpe_csi_resizer", "csiSnapshotter": "hpe_csi_snapshotter",
	}
	for field, key := range role {
		if want := images.Default().Ref(key).String(); imgs[field] != want || !strings.Contains(want, "@sha256:") {
			t.Errorf("images.%s: %v, want %s (the table's %s, pinned by digest)", field, imgs[field], want, key)
		}
	}
}

// TestHPECSIDriverObjects: after its release it applies, in the role's
// order, the Secret hpe-nimble-csi-secret (the CSP's service and port, the
// inventory's backend, username and password) and the StorageClass
// general: the default class, csi.hpe.com's, Delete, expandable, bound at
// once, with the role's parameters (xfs, the access protocol, the Secret
// and its namespace for each CSI call that takes one) under the
// inventory's hpe_nimble_csi_storageclass_parameters, which may override
// one of them.
func TestHPECSIDriverObjects(t *testing.T) {
	c, _ := Default().Get("hpe-csi-driver")
	s := DefaultSettings()
	s.Config = hpeNimbleConfig()
	s.Vars = merged(hpeNimbleVars, map[string]any{"hpe_nimble_csi_access_protocol": "fc",
		"hpe_nimble_csi_storageclass_parameters": map[string]any{"folder": "openstack", "csi.storage.k8s.io/fstype": "ext4"}})
	objs, err := c.Objects(s)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range objs {
		ids = append(ids, o.GetKind()+"/"+o.GetNamespace()+"/"+o.GetName())
		if !o.AfterRelease {
			t.Errorf("%s %s is applied before the release, want after it", o.GetKind(), o.GetName())
		}
	}
	if want := []string{"Secret//hpe-nimble-csi-secret", "StorageClass//general"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("objects %v, want %v", ids, want)
	}
	data := map[string]any{"serviceName": "nimble-csp-svc", "servicePort": "8080", "backend": "192.0.2.10", "username": "admin",
		"password": "nimble-s3cr3t"}
	if got := objs[0].Object["stringData"]; !reflect.DeepEqual(got, data) {
		t.Errorf("Secret's stringData %v, want %v", got, data)
	}
	sc := objs[1].Object
	if sc["provisioner"] != "csi.hpe.com" || sc["reclaimPolicy"] != "Delete" || sc["allowVolumeExpansion"] != true ||
		sc["volumeBindingMode"] != "Immediate" || objs[1].GetAnnotations()["storageclass.kubernetes.io/is-default-class"] != "true" {
		t.Errorf("StorageClass general: %v", sc)
	}
	params := map[string]any{"csi.storage.k8s.io/fstype": "ext4", "accessProtocol": "fc", "folder": "openstack"}
	for _, call := range []string{"controller-publish", "node-publish", "node-stage", "provisioner"} {
		params["csi.storage.k8s.io/"+call+"-secret-name"] = "hpe-nimble-csi-secret"
		params["csi.storage.k8s.io/"+call+"-secret-namespace"] = "kube-system"
	}
	if !reflect.DeepEqual(sc["parameters"], params) {
		t.Errorf("parameters %v, want %v", sc["parameters"], params)
	}
	s.Vars = hpeNimbleVars
	if objs, err = c.Objects(s); err != nil {
		t.Fatal(err)
	}
	got := objs[1].Object["parameters"].(map[string]any)
	if got["accessProtocol"] != "iscsi" || got["csi.storage.k8s.io/fstype"] != "xfs" || len(got) != 10 {
		t.Errorf("default parameters %v, want the role's 10 (iscsi, xfs)", got)
	}
}

// TestHPECSIDriverRefusals: with csi_driver hpe-nimble, CheckKnobs (the
// check before the run) finds each credential the role asserts and the
// inventory lacks, an access protocol but iscsi and fc, and a parameter
// of the StorageClass that is not a string; rendering the objects without
// a credential fails naming it; no problem shows the password. With
// csi_driver rbd the component's knobs are not read.
func TestHPECSIDriverRefusals(t *testing.T) {
	reg := Default()
	problems := func(cfg Config, vars map[string]any) map[string]string {
		out := map[string]string{}
		for _, p := range reg.CheckKnobs(cfg, merged(vars, merged(workspaceKeepalived, map[string]any{"cluster_issuer_type": "none"}))) {
			out[p.Key] = p.Message
		}
		return out
	}
	if got := problems(hpeNimbleConfig(), hpeNimbleVars); len(got) != 0 {
		t.Errorf("refused with its credentials: %v", got)
	}
	got := problems(hpeNimbleConfig(), map[string]any{"hpe_nimble_csi_username": "", "hpe_nimble_csi_access_protocol": "nvme",
		"hpe_nimble_csi_password": 12345678.0, "hpe_nimble_csi_storageclass_parameters": map[string]any{"thick": true}})
	want := map[string]string{
		"hpe_nimble_csi_backend":                 hpeNimbleNotSet,
		"hpe_nimble_csi_username":                hpeNimbleNotSet,
		"hpe_nimble_csi_password":                "want a string, got a number",
		"hpe_nimble_csi_access_protocol":         `want one of "iscsi", "fc", got the string "nvme"`,
		"hpe_nimble_csi_storageclass_parameters": "want a mapping of strings (a StorageClass's parameters are strings: quote a number or a boolean), got a mapping",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems %v, want %v", got, want)
	}
	if got := problems(DefaultConfig(), map[string]any{"hpe_nimble_csi_access_protocol": "nvme"}); len(got) != 0 {
		t.Errorf("csi_driver rbd: %v, want the hpe-nimble knobs not read", got)
	}
	c, _ := reg.Get("hpe-csi-driver")
	s := DefaultSettings()
	s.Config = hpeNimbleConfig()
	s.Vars = map[string]any{"hpe_nimble_csi_backend": "192.0.2.10", "hpe_nimble_csi_password": "nimble-s3cr3t"}
	_, err := c.Objects(s)
	if err == nil || !strings.Contains(err.Error(), "hpe_nimble_csi_username: "+hpeNimbleNotSet) || strings.Contains(err.Error(), "nimble-s3cr3t") {
		t.Errorf("objects without a username: %v, want an error naming hpe_nimble_csi_username, not the password", err)
	}
}
