package publichosts

import "testing"

// Each variable, prefix, endpoint and (non-empty) service type is one
// host's.
func TestOneHostEach(t *testing.T) {
	seen := map[string]bool{}
	for _, h := range All {
		for _, k := range []string{"var " + h.Var, "prefix " + h.Prefix, "endpoint " + h.Endpoint, "type " + h.Type} {
			if k == "type " {
				continue
			}
			if seen[k] {
				t.Errorf("%s twice", k)
			}
			seen[k] = true
		}
	}
	if h, ok := ByType("key-manager"); !ok || h.Var != "barbican_api_host" || h.Endpoint != "key_manager" {
		t.Errorf("key-manager: %+v", h)
	}
	if _, ok := ByType(""); ok {
		t.Errorf("the empty type names a host")
	}
}
