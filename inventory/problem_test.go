package inventory

import "testing"

// TestProblemWith: a problem with a variable, or with a path inside one,
// names the file the top-level variable came from.
func TestProblemWith(t *testing.T) {
	inv := &Inventory{Sources: map[string]string{
		"octavia_tls_client_private_key_size": "group_vars/all/octavia.yml",
		"nova_flavors":                        "group_vars/all/nova.yml",
	}}
	tests := []struct {
		key, want string
	}{
		{"octavia_tls_client_private_key_size", "group_vars/all/octavia.yml: octavia_tls_client_private_key_size: bad"},
		{"nova_flavors[0].ram", "group_vars/all/nova.yml: nova_flavors[0].ram: bad"},
		{"nova_flavors.x", "group_vars/all/nova.yml: nova_flavors.x: bad"},
		{"unset_variable", "unset_variable: bad"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := inv.ProblemWith(tt.key, "bad").String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
