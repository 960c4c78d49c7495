package suggest

import "testing"

func TestNearest(t *testing.T) {
	known := []string{"glance", "keystone", "nova_flavors", "neutron_networks"}
	tests := []struct{ in, want string }{
		{"glanse", "glance"},
		{"keystnoe", "keystone"},
		{"nova_flavours", "nova_flavors"},
		{"zzzzzz", ""},
		{"glance", "glance"},
	}
	for _, tt := range tests {
		if got := Nearest(tt.in, known); got != tt.want {
			t.Errorf("Nearest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
