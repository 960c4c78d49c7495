package inventory

import (
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
)

// TestIssuerWebhook: the settings enable the webhook of the ACME solver
// the inventory picks (Config.IssuerWebhook): godaddy's or infoblox's when
// cluster_issuer_type is acme (set, or the role's default) with that
// solver; none for another solver, another issuer type, or a solver not a
// string (the knob refuses it).
func TestIssuerWebhook(t *testing.T) {
	const f = "group_vars/all/main.yml"
	tests := []struct{ name, doc, webhook string }{
		{"unset: http01", "", ""},
		{"cloudflare", "cluster_issuer_acme_solver: cloudflare\n", ""},
		{"godaddy", "cluster_issuer_acme_solver: godaddy\n", components.IssuerWebhookGoDaddy},
		{"godaddy, acme set", "cluster_issuer_type: acme\ncluster_issuer_acme_solver: godaddy\n", components.IssuerWebhookGoDaddy},
		{"infoblox", "cluster_issuer_acme_solver: infoblox\n", components.IssuerWebhookInfoblox},
		{"infoblox with the type self-signed", "cluster_issuer_type: self-signed\ncluster_issuer_acme_solver: infoblox\n", ""},
		{"not a string", "cluster_issuer_acme_solver: [godaddy]\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, err := Load(write(t, map[string]string{f: "keepalived_enabled: false\n" + tt.doc}), noEnv)
			if err != nil {
				t.Fatal(err)
			}
			s, err := inv.Settings()
			if err != nil {
				t.Fatalf("settings refused: %v", err)
			}
			if s.Config.IssuerWebhook != tt.webhook {
				t.Errorf("IssuerWebhook %q, want %q", s.Config.IssuerWebhook, tt.webhook)
			}
		})
	}
}
