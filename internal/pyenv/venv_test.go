package pyenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLayCollection: a collection is laid out as a symlink to its source
// at ansible_collections/<namespace>/<name>, pointed again at a new source,
// and a bad name or a source without galaxy.yml is refused.
func TestLayCollection(t *testing.T) {
	src := func(t *testing.T) string {
		d := t.TempDir()
		if err := os.WriteFile(filepath.Join(d, "galaxy.yml"), []byte("namespace: vexxhost\nname: atmosphere\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return d
	}
	root := t.TempDir()
	first, second := src(t), src(t)
	tests := []struct {
		name, coll, src string
		wantLink        string
		wantErr         string
	}{
		{name: "laid out", coll: "vexxhost.atmosphere", src: first, wantLink: first},
		{name: "again, unchanged", coll: "vexxhost.atmosphere", src: first, wantLink: first},
		{name: "another source", coll: "vexxhost.atmosphere", src: second, wantLink: second},
		{name: "a name without namespace", coll: "atmosphere", src: first, wantErr: `collection "atmosphere": want namespace.name`},
		{name: "no galaxy.yml", coll: "vexxhost.ceph", src: t.TempDir(), wantErr: "collection vexxhost.ceph from "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := LayCollection(root, tt.coll, tt.src)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := os.Readlink(filepath.Join(root, "ansible_collections", "vexxhost", "atmosphere"))
			if err != nil || got != tt.wantLink {
				t.Errorf("link %q, %v; want %q", got, err, tt.wantLink)
			}
		})
	}
}
