package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImageTableFromTheInventory(t *testing.T) {
	for _, tc := range []struct {
		name, vars string
		check      func(t *testing.T, s *Settings)
		problem    string
	}{
		{"pinned", "", func(t *testing.T, s *Settings) {
			if got := s.ImageTable.Get("ceph"); got != "quay.io/ceph/ceph:v18.2.7" {
				t.Errorf("ceph = %s", got)
			}
		}, ""},
		{"prefix and override", "atmosphere_image_prefix: cache.example.com/\natmosphere_image_overrides:\n  memcached: docker.io/library/memcached:1.6.30\n", func(t *testing.T, s *Settings) {
			if got := s.ImageTable.Get("ceph"); got != "cache.example.com/quay.io/ceph/ceph:v18.2.7" {
				t.Errorf("ceph = %s", got)
			}
			if got := s.ImageTable.Get("memcached"); got != "docker.io/library/memcached:1.6.30" {
				t.Errorf("memcached = %s", got)
			}
		}, ""},
		{"mirror", "atmosphere_image_mirror: mirror.example.com/atm\n", func(t *testing.T, s *Settings) {
			if got := s.ImageTable.Get("ceph"); got != "mirror.example.com/atm/ceph:v18.2.7" {
				t.Errorf("ceph = %s", got)
			}
		}, ""},
		{"unknown image", "atmosphere_image_overrides:\n  memcache: docker.io/library/memcached:1\n", nil, `atmosphere_image_overrides: unknown image "memcache"`},
		{"not a mapping", "atmosphere_image_overrides: [a]\n", nil, "atmosphere_image_overrides: want a mapping"},
		{"not a string", "atmosphere_image_overrides:\n  memcached: 3\n", nil, "atmosphere_image_overrides.memcached: want an image reference"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.MkdirAll(filepath.Join(dir, "group_vars", "all"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "group_vars", "all", "main.yml"), []byte("x_helm_values: {}\n"+tc.vars), 0o600); err != nil {
				t.Fatal(err)
			}
			inv, err := Load(dir, func(string) (string, bool) { return "", false })
			if err != nil {
				t.Fatal(err)
			}
			s, err := inv.Settings()
			if tc.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tc.problem) || !strings.Contains(err.Error(), "main.yml") {
					t.Fatalf("Settings() = %v, want a problem naming main.yml and %q", err, tc.problem)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, s)
		})
	}
}
