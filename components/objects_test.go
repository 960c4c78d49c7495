package components

import (
	"io/fs"
	"strings"
	"testing"
)

// TestStaticObjectsBelongToComponents: every <component>.objects.yaml
// parses as Kubernetes objects (each with an apiVersion, a kind and a
// name), and the component of its name applies every one of them; a file
// no component reads is a leftover.
func TestStaticObjectsBelongToComponents(t *testing.T) {
	files, err := fs.Glob(objectFiles, "*.objects.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no static objects embedded")
	}
	for _, f := range files {
		name := strings.TrimSuffix(f, ".objects.yaml")
		static, err := staticObjects(name)
		if err != nil || len(static) == 0 {
			t.Errorf("%s: %d objects, %v", f, len(static), err)
			continue
		}
		c, ok := Default().Get(name)
		if !ok || !c.HasObjects() {
			t.Errorf("%s: no component %s with objects of its own", f, name)
			continue
		}
		// The role's default issuer is acme, which wants an e-mail;
		// keepalived wants its interface, virtual IP and password; the
		// CSI drivers their required knobs.
		applied, err := c.Objects(Settings{Vars: merged(merged(merged(merged(map[string]any{"cluster_issuer_acme_email": "ops@example.com"}, workspaceKeepalived), storpoolIBMBlockVars), hpeNimbleVars), portworxVars()),
			Secret: func(string) (string, error) { return "secret", nil }})
		if err != nil {
			t.Errorf("%s: Objects: %v", name, err)
			continue
		}
		has := map[string]bool{}
		for _, o := range applied {
			has[o.GetKind()+"/"+o.GetName()] = true
		}
		for i, o := range static {
			if o.GetAPIVersion() == "" || o.GetKind() == "" || o.GetName() == "" {
				t.Errorf("%s: object %d lacks apiVersion, kind or name: %v", f, i, o.Object)
			}
			if !has[o.GetKind()+"/"+o.GetName()] {
				t.Errorf("%s: %s %s is not among %s's objects", f, o.GetKind(), o.GetName(), name)
			}
		}
	}
}

func TestStaticObjectsOfAMissingFile(t *testing.T) {
	if _, err := staticObjects("no-such-component"); err == nil || !strings.Contains(err.Error(), "static objects of no-such-component") {
		t.Errorf("error %v, want one naming the component", err)
	}
}

// TestObjectsAreData: the objects built in Go come out in YAML's types
// (float64 numbers), so that they deep-copy as unstructured objects do,
// with the create-only and after-release flags as fields.
func TestObjectsAreData(t *testing.T) {
	objs, err := libvirt().Objects(Settings{})
	if err != nil || len(objs) != 4 {
		t.Fatalf("libvirt objects = %d, %v", len(objs), err)
	}
	size := objs[0].Object["spec"].(map[string]any)["privateKey"].(map[string]any)["size"]
	if _, ok := size.(float64); !ok {
		t.Errorf("privateKey.size is %T, want float64", size)
	}
	_ = objs[0].DeepCopy() // panics on Go's int
	pxc, err := perconaXtradbCluster().Objects(Settings{})
	if err != nil || len(pxc) != 3 {
		t.Fatalf("percona-xtradb-cluster objects = %d, %v", len(pxc), err)
	}
	if !pxc[0].CreateOnly || pxc[0].GetKind() != "Secret" || pxc[1].CreateOnly {
		t.Errorf("want only the passwords' Secret create-only: %v %v", pxc[0].CreateOnly, pxc[1].CreateOnly)
	}
	mc, err := memcached().Objects(Settings{})
	if err != nil || len(mc) != 1 || !mc[0].AfterRelease {
		t.Errorf("memcached's metrics Service after the release: %d, %v", len(mc), err)
	}
}
