package images

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in                        string
		name, domain, tag, digest string
	}{
		{"quay.io/prometheus/alertmanager:v0.27.0", "quay.io/prometheus/alertmanager", "quay.io", "v0.27.0", ""},
		{"ghcr.io/vexxhost/barbican:main@sha256:eab0ec0b", "ghcr.io/vexxhost/barbican", "ghcr.io", "main", "sha256:eab0ec0b"},
		{"localhost:5000/a/b:1", "localhost:5000/a/b", "localhost:5000", "1", ""},
		{"library/memcached", "library/memcached", "", "", ""},
		{"registry.k8s.io/pause@sha256:abc123", "registry.k8s.io/pause", "registry.k8s.io", "", "sha256:abc123"},
	} {
		r, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if r.Name() != tc.name || r.Domain != tc.domain || r.Tag != tc.tag || r.Digest != tc.digest || r.String() != tc.in {
			t.Errorf("Parse(%q) = %+v (name %s, string %s)", tc.in, r, r.Name(), r.String())
		}
	}
	for _, bad := range []string{"", "a b:1", "x:1@sha256:XYZ"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}

func TestPinnedTable(t *testing.T) {
	tab := Default()
	if len(tab) < 200 {
		t.Fatalf("%d images, want atmosphere's whole table", len(tab))
	}
	for k, ref := range tab {
		if _, err := Parse(ref); err != nil || strings.Contains(ref, "{") {
			t.Errorf("%s: %q: %v", k, ref, err)
		}
	}
	if got := tab.Get("kube_apiserver"); got != "registry.k8s.io/kube-apiserver:v"+DefaultKubernetesVersion {
		t.Errorf("kube_apiserver = %s", got)
	}
}

func TestOptions(t *testing.T) {
	tab, err := New(Options{
		Prefix:    "harbor.example.com/cache/",
		Overrides: map[string]string{"memcached": "docker.io/library/memcached:1.6.30"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := tab.Get("ceph"); got != "harbor.example.com/cache/quay.io/ceph/ceph:v18.2.7" {
		t.Errorf("prefixed ceph = %s", got)
	}
	if got := tab.Get("memcached"); got != "docker.io/library/memcached:1.6.30" {
		t.Errorf("overridden memcached = %s", got)
	}
	mirrored, err := New(Options{Mirror: "mirror.example.com/atmosphere", KubernetesVersion: "1.31.2"})
	if err != nil {
		t.Fatal(err)
	}
	if got := mirrored.Get("ceph"); got != "mirror.example.com/atmosphere/ceph:v18.2.7" {
		t.Errorf("mirrored ceph = %s", got)
	}
	if got := mirrored.Get("kube_apiserver"); got != "mirror.example.com/atmosphere/kube-apiserver:v1.31.2" {
		t.Errorf("mirrored kube_apiserver = %s", got)
	}
	for _, o := range []Options{
		{Overrides: map[string]string{"memcache": "x:1"}},
		{Overrides: map[string]string{"memcached": "not an image"}},
	} {
		if _, err := New(o); err == nil || !strings.Contains(err.Error(), "atmosphere_image_overrides") {
			t.Errorf("New(%v) = %v, want an error naming atmosphere_image_overrides", o, err)
		}
	}
}

func TestTags(t *testing.T) {
	tab := Default()
	got := tab.Tags(map[string]any{"memcached": "x", "dep_check": "y", "image_repo_sync": "z", "test": "w"})
	if len(got) != 2 || got["memcached"] != tab.Get("memcached") || got["dep_check"] != tab.Get("dep_check") {
		t.Errorf("Tags = %v", got)
	}
}
