package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayCollections lays out the real collections of ../shared with the
// stand-ins of collections/ and checks that the real plugins are the ones
// found, the stand-ins are there where the real collections have nothing,
// and a stand-in that would hide a real file is refused.
func TestLayCollections(t *testing.T) {
	dst := t.TempDir()
	if err := layCollections(dst, "../../../shared/atmosphere", "../../../shared/collections", "standins"); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dst, "ansible_collections")
	for rel, want := range map[string]string{
		"vexxhost/atmosphere/plugins/filter/storage.py":              "shared/atmosphere/plugins/filter/storage.py",
		"vexxhost/kubernetes/plugins/filter/docker_image.py":         "shared/collections/vexxhost.kubernetes/plugins/filter/docker_image.py",
		"vexxhost/kubernetes/roles/upload_helm_chart/tasks/main.yml": "hack/fidelity/standins/ansible_collections/vexxhost/kubernetes/roles/upload_helm_chart/tasks/main.yml",
		"vexxhost/ceph/galaxy.yml":                                   "shared/collections/vexxhost.ceph/galaxy.yml",
		"kubernetes/core/plugins/action/k8s.py":                      "hack/fidelity/standins/ansible_collections/kubernetes/core/plugins/action/k8s.py",
	} {
		got, err := filepath.EvalSymlinks(filepath.Join(root, rel))
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		if !strings.HasSuffix(got, want) {
			t.Errorf("%s is %s, want …/%s", rel, got, want)
		}
	}

	// A stand-in of a file the real collection has.
	standIns := t.TempDir()
	hiding := filepath.Join(standIns, "ansible_collections", "vexxhost", "kubernetes", "plugins", "filter", "docker_image.py")
	if err := os.MkdirAll(filepath.Dir(hiding), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(hiding, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	err := layCollections(t.TempDir(), "../../../shared/atmosphere", "../../../shared/collections", standIns)
	if err == nil || !strings.Contains(err.Error(), "would hide") {
		t.Errorf("a stand-in of the real docker_image filter: error %v, want one saying it would hide it", err)
	}
}
