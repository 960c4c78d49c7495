package openstackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Neutron serves networks, subnets, security groups and rules, ports and
// quotas as neutron does for what gophercloud uses: names are not unique,
// filters are query parameters, a duplicate rule is a 409.
type Neutron struct {
	Faults
	store
}

var neutronSingular = map[string]string{"networks": "network", "subnets": "subnet", "security-groups": "security_group",
	"security-group-rules": "security_group_rule", "ports": "port", "quotas": "quota"}

func (n *Neutron) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if n.inject(w, `{"NeutronError": {"type": "HTTPInternalServerError", "message": "boom"}}`) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	collection, id, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2.0/"), "/")
	one, ok := neutronSingular[collection]
	if !ok {
		http.NotFound(w, r)
		return
	}
	key := strings.ReplaceAll(collection, "-", "_")
	switch {
	case collection == "quotas":
		n.quotas(w, r, id)
	case r.Method == http.MethodGet && id == "":
		list := []map[string]any{}
		for _, o := range n.objects[collection] {
			if matches(o, r) {
				list = append(list, o)
			}
		}
		reply(w, 200, map[string]any{key: list})
	case r.Method == http.MethodPost:
		var body map[string]map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		o := body[one]
		if collection == "security-group-rules" && n.duplicateRule(o) {
			reply(w, 409, map[string]any{"NeutronError": map[string]any{"type": "SecurityGroupRuleExists", "message": "exists"}})
			return
		}
		normalise(collection, o)
		n.next++
		o["id"] = fmt.Sprintf("%s-%d", one, n.next)
		n.add(collection, o)
		reply(w, 201, map[string]any{one: o})
	case r.Method == http.MethodPut:
		_, o := n.find(collection, func(o map[string]any) bool { return o["id"] == id })
		if o == nil {
			http.NotFound(w, r)
			return
		}
		var body map[string]map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		for k, v := range body[one] {
			o[k] = v
		}
		reply(w, 200, map[string]any{one: o})
	case r.Method == http.MethodDelete:
		n.delete(w, r, collection, func(o map[string]any) bool { return o["id"] == id }, http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

// matches applies list filters given as query parameters.
func matches(o map[string]any, r *http.Request) bool {
	for k, v := range r.URL.Query() {
		if fmt.Sprint(o[k]) != v[0] {
			return false
		}
	}
	return true
}

func (n *Neutron) duplicateRule(o map[string]any) bool {
	_, dup := n.find("security-group-rules", func(x map[string]any) bool {
		return x["security_group_id"] == o["security_group_id"] && x["protocol"] == o["protocol"] &&
			fmt.Sprint(x["port_range_min"]) == fmt.Sprint(o["port_range_min"]) && x["direction"] == o["direction"]
	})
	return dup != nil
}

// normalise fills in the attributes neutron always returns.
func normalise(collection string, o map[string]any) {
	defaults := map[string]map[string]any{
		"security-group-rules": {"port_range_min": nil, "port_range_max": nil, "remote_ip_prefix": nil},
		"ports":                {"binding:host_id": "", "device_owner": "", "device_id": "", "status": "DOWN", "mac_address": "fa:16:3e:00:00:01"},
	}
	for k, v := range defaults[collection] {
		if _, ok := o[k]; !ok {
			o[k] = v
		}
	}
	if collection == "ports" {
		if _, ok := o["fixed_ips"]; !ok {
			o["fixed_ips"] = []any{map[string]any{"subnet_id": "", "ip_address": "172.24.0.10"}}
		}
	}
}

// neutronQuotaDefaults are neutron's default quotas.
var neutronQuotaDefaults = map[string]any{"network": 100, "subnet": 100, "port": 500, "router": 10, "floatingip": 50,
	"security_group": 10, "security_group_rule": 100, "subnetpool": -1, "rbac_policy": 10, "trunk": -1}

func (n *Neutron) quotas(w http.ResponseWriter, r *http.Request, project string) {
	q := n.limits("quotas", "project_id", project, neutronQuotaDefaults)
	if r.Method == http.MethodPut {
		var body map[string]map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		for k, v := range body["quota"] {
			q[k] = v
		}
	}
	out := map[string]any{}
	for k, v := range q {
		if k != "project_id" {
			out[k] = v
		}
	}
	reply(w, 200, map[string]any{"quota": out})
}
