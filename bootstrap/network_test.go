package bootstrap

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// fakeNeutron serves networks, subnets, security groups and rules as
// neutron does for what gophercloud uses: names are not unique, filters
// are query parameters, a duplicate rule is a 409.
type fakeNeutron struct {
	mu      sync.Mutex
	objects map[string][]map[string]any // by collection
	next    int
}

func (n *fakeNeutron) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	defer n.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	path := strings.TrimPrefix(r.URL.Path, "/v2.0/")
	singular := map[string]string{"networks": "network", "subnets": "subnet", "security-groups": "security_group",
		"security-group-rules": "security_group_rule"}
	key := strings.ReplaceAll(path, "-", "_")
	one, ok := singular[path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	switch r.Method {
	case http.MethodGet:
		list := []map[string]any{}
		for _, o := range n.objects[path] {
			match := true
			for k, v := range r.URL.Query() {
				if fmt.Sprint(o[k]) != v[0] {
					match = false
				}
			}
			if match {
				list = append(list, o)
			}
		}
		json.NewEncoder(w).Encode(map[string]any{key: list})
	case http.MethodPost:
		var body map[string]map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		o := body[one]
		if path == "security-group-rules" {
			for _, x := range n.objects[path] {
				if x["security_group_id"] == o["security_group_id"] && x["protocol"] == o["protocol"] &&
					fmt.Sprint(x["port_range_min"]) == fmt.Sprint(o["port_range_min"]) && x["direction"] == o["direction"] {
					w.WriteHeader(409)
					w.Write([]byte(`{"NeutronError": {"type": "SecurityGroupRuleExists", "message": "exists"}}`))
					return
				}
			}
			for _, k := range []string{"port_range_min", "port_range_max"} {
				if _, ok := o[k]; !ok {
					o[k] = nil
				}
			}
			if _, ok := o["remote_ip_prefix"]; !ok {
				o["remote_ip_prefix"] = nil
			}
		}
		n.next++
		o["id"] = fmt.Sprintf("%s-%d", one, n.next)
		n.objects[path] = append(n.objects[path], o)
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(map[string]any{one: o})
	default:
		http.NotFound(w, r)
	}
}

func newNetwork(t *testing.T, neutron http.Handler) *Network {
	t.Helper()
	return NewNetwork(fakeClient(t, neutron, "v2.0/"))
}

func TestOctaviaNetworkTwice(t *testing.T) {
	neutron := &fakeNeutron{objects: map[string][]map[string]any{}}
	n := newNetwork(t, neutron)
	ctx := context.Background()
	run := func() (changes int) {
		net, ch, err := n.EnsureNetwork(ctx, "lb-mgmt-net", "service")
		if err != nil {
			t.Fatal(err)
		}
		changes += b2i(ch)
		_, ch, err = n.EnsureSubnet(ctx, net.ID, "lb-mgmt-subnet", "172.24.0.0/22")
		if err != nil {
			t.Fatal(err)
		}
		changes += b2i(ch)
		for name, rs := range map[string][]Rule{"lb-health-mgr-sec-grp": LBHealthManagerRules, "lb-mgmt-sec-grp": LBManagementRules} {
			_, ch, err := n.EnsureSecurityGroup(ctx, name, "service", "octavia", rs)
			if err != nil {
				t.Fatal(err)
			}
			changes += b2i(ch)
		}
		return changes
	}
	if first := run(); first != 4 {
		t.Errorf("first run: %d changes, want 4", first)
	}
	if second := run(); second != 0 {
		t.Errorf("second run: %d changes", second)
	}
	counts := map[string]int{}
	for k, v := range neutron.objects {
		counts[k] = len(v)
	}
	want := map[string]int{"networks": 1, "subnets": 1, "security-groups": 2, "security-group-rules": 7}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s: %d, want %d", k, counts[k], v)
		}
	}
	if _, _, err := n.EnsureSubnet(ctx, neutron.objects["networks"][0]["id"].(string), "lb-mgmt-subnet", "10.0.0.0/24"); err == nil ||
		!strings.Contains(err.Error(), "172.24.0.0/22") {
		t.Errorf("a subnet with another CIDR: %v", err)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
