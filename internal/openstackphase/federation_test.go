package openstackphase

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/federation"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/cloudcheck"
	"github.com/vexxhost/atmosphere-go/internal/pyenv"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/openstack"
)

// TestKeystoneFederatesItsDomains runs keystone's set-up, with no
// federation given but keystone_domains, on the real test keystone twice:
// the first run makes each domain's identity provider (trusting its
// realm's issuer), <domain>-openid mapping and openid protocol, the second
// changes nothing. Debian's openstack command, as an operator runs it,
// lists them too.
func TestKeystoneFederatesItsDomains(t *testing.T) {
	ctx := context.Background()
	cloudsFile := testenv.KeystoneClouds(t)
	ao, eo, _, err := clouds.Parse(clouds.WithCloudName(testenv.CloudName), clouds.WithLocations(cloudsFile))
	if err != nil {
		t.Fatal(err)
	}
	cloud, err := openstack.Authenticate(ctx, ao, eo)
	if err != nil {
		t.Fatal(err)
	}
	clients := &CloudClients{Cloud: cloud}
	suffix := fmt.Sprint(time.Now().UnixNano() % 1e12)
	domains := []string{"fed-a-" + suffix, "fed-b-" + suffix}
	s := components.DefaultSettings()
	s.Vars = map[string]any{"keystone_domains": []any{
		map[string]any{"name": domains[0], "keycloak_server_url": "https://sso.cloud.example.com", "keycloak_realm": "realm-a-" + suffix,
			"keycloak_client_secret": "x"},
		map[string]any{"name": domains[1], "keycloak_server_url": "https://sso.cloud.example.com", "keycloak_realm": "realm-b-" + suffix,
			"keycloak_client_secret": "y"},
	}}
	s.Secret = func(name string) (string, error) { return "secret-" + name, nil }
	keystone, _ := components.Default().Get("keystone")
	for run, want := range []bool{true, false} {
		changed, err := keystone.Setup(ctx, &components.Setup{Clients: clients, Settings: s})
		if err != nil || changed != want {
			t.Fatalf("run %d: changed %v (want %v), err %v", run+1, changed, want, err)
		}
	}
	sc, err := cloud.Identity()
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range domains {
		var idp struct {
			IdentityProvider struct {
				RemoteIDs []string `json:"remote_ids"`
				Enabled   bool     `json:"enabled"`
			} `json:"identity_provider"`
		}
		if _, err := sc.Get(ctx, sc.ServiceURL("OS-FEDERATION", "identity_providers", d), &idp, nil); err != nil {
			t.Fatalf("identity provider %s: %v", d, err)
		}
		issuer := "https://sso.cloud.example.com/realms/realm-" + string(rune('a'+i)) + "-" + suffix
		if got := idp.IdentityProvider.RemoteIDs; len(got) != 1 || got[0] != issuer || !idp.IdentityProvider.Enabled {
			t.Errorf("identity provider %s: %+v, want %s", d, idp.IdentityProvider, issuer)
		}
		m, err := federation.GetMapping(ctx, sc, d+"-openid").Extract()
		if err != nil || len(m.Rules) != 1 || m.Rules[0].Local[0].User.Domain.Name != d {
			t.Errorf("mapping %s-openid: %+v, %v", d, m, err)
		}
		var proto struct {
			Protocol struct {
				MappingID string `json:"mapping_id"`
			} `json:"protocol"`
		}
		if _, err := sc.Get(ctx, sc.ServiceURL("OS-FEDERATION", "identity_providers", d, "protocols", "openid"), &proto, nil); err != nil || proto.Protocol.MappingID != d+"-openid" {
			t.Errorf("protocol openid of %s: %+v, %v", d, proto, err)
		}
	}
	t.Run("openstack command", func(t *testing.T) { checkFederationCommand(t, cloudsFile, domains) })
}

// checkFederationCommand lists the identity providers, mappings and each
// domain's protocols with Debian's openstack command (the clouds.yaml of
// the test keystone) and fails unless each domain's identity provider,
// <domain>-openid mapping and openid protocol are listed.
func checkFederationCommand(t *testing.T, cloudsFile string, domains []string) {
	if _, err := exec.LookPath(cloudcheck.OpenStackCommand); err != nil {
		t.Fatalf("no openstack command (%v): apt-get install python3-openstackclient", err)
	}
	type listing struct {
		args []string
		want []string
	}
	var tests []listing
	for _, d := range domains {
		tests = append(tests,
			listing{[]string{"identity", "provider", "list"}, []string{d}},
			listing{[]string{"mapping", "list"}, []string{d + "-openid"}},
			listing{[]string{"federation", "protocol", "list", "--identity-provider", d}, []string{"openid"}})
	}
	outputs := map[string][]string{}
	for _, tt := range tests {
		key := strings.Join(tt.args, " ")
		ids, ok := outputs[key]
		if !ok {
			ids = openstackIDs(t, cloudsFile, tt.args...)
			outputs[key] = ids
		}
		for _, w := range tt.want {
			if !slices.Contains(ids, w) {
				t.Errorf("openstack %s: %s not listed (ids %v)", key, w, ids)
			}
		}
	}
}

// openstackIDs runs `openstack ARGS -f json` against the test keystone and
// returns the "ID" (or "id") column.
func openstackIDs(t *testing.T, cloudsFile string, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cloudcheck.OpenStackCommand, append([]string{"--os-cloud", testenv.CloudName}, append(args, "-f", "json")...)...)
	cmd.Env = append(pyenv.Clean(), "OS_CLIENT_CONFIG_FILE="+cloudsFile)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("openstack %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out, &rows); err != nil {
		t.Fatalf("openstack %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	var ids []string
	for _, r := range rows {
		for _, col := range []string{"ID", "id"} {
			if v, ok := r[col].(string); ok {
				ids = append(ids, v)
				break
			}
		}
	}
	return ids
}
