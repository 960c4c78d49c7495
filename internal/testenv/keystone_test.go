package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/services"
)

func TestKeystoneServesGophercloud(t *testing.T) {
	path := KeystoneClouds(t)
	ctx := context.Background()
	ao, eo, _, err := clouds.Parse(clouds.WithCloudName(CloudName), clouds.WithLocations(path))
	if err != nil {
		t.Fatal(err)
	}
	provider, err := openstack.AuthenticatedClient(ctx, ao)
	if err != nil {
		t.Fatalf("authenticate from %s: %v", path, err)
	}
	identity, err := openstack.NewIdentityV3(provider, eo)
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("test-%s", strings.ToLower(t.Name()))
	svc, err := services.Create(ctx, identity, services.CreateOpts{
		Type: "test-" + name, Extra: map[string]any{"name": name},
	}).Extract()
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	t.Cleanup(func() { _ = services.Delete(context.Background(), identity, svc.ID).ExtractErr() })
	pages, err := services.List(identity, services.ListOpts{ServiceType: "test-" + name}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	list, err := services.ExtractServices(pages)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != svc.ID || list[0].Extra["name"] != name {
		t.Errorf("listed %+v, want the one service created (%s)", list, svc.ID)
	}
}

func TestAnsibleRunsAPlaybookOnLocalhost(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "marker")
	playbook := filepath.Join(dir, "play.yml")
	content := fmt.Sprintf(`- hosts: all
  gather_facts: false
  tasks:
    - name: write the marker
      ansible.builtin.copy:
        dest: %q
        content: "written by ansible\n"
`, marker)
	if err := os.WriteFile(playbook, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := RunPlaybook(context.Background(), playbook)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "TASK [write the marker]") || !strings.Contains(out, "changed=1") {
		t.Errorf("playbook output lacks the task or its change:\n%s", out)
	}
	got, err := os.ReadFile(marker)
	if err != nil || string(got) != "written by ansible\n" {
		t.Errorf("marker: %q, %v", got, err)
	}
}
