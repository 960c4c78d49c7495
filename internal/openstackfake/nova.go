package openstackfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Nova serves flavors (409 on a duplicate name), keypairs (409 on a
// duplicate name) and quota sets, as nova does.
type Nova struct {
	Faults
	store
}

// Quota returns a project's quota set as stored.
func (n *Nova) Quota(project string) map[string]any { return quotaOf(&n.store, project) }

func (n *Nova) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if n.inject(w, `{"computeFault": {"code": 500, "message": "boom"}}`) {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	collection, id, _ := strings.Cut(strings.Trim(r.URL.Path, "/"), "/")
	switch collection {
	case "flavors":
		n.flavors(w, r, id)
	case "os-keypairs":
		n.keypairs(w, r, id)
	case "os-quota-sets":
		n.quotaSets(w, r, id)
	default:
		http.NotFound(w, r)
	}
}

func conflict(w http.ResponseWriter, message string) {
	reply(w, http.StatusConflict, map[string]any{"conflictingRequest": map[string]any{"code": 409, "message": message}})
}

func (n *Nova) flavors(w http.ResponseWriter, r *http.Request, id string) {
	byName := func(name any) func(map[string]any) bool {
		return func(o map[string]any) bool { return o["name"] == name }
	}
	byID := func(o map[string]any) bool { return o["id"] == id }
	switch {
	case r.Method == http.MethodGet && id == "detail":
		reply(w, 200, map[string]any{"flavors": n.objects["flavors"]})
	case r.Method == http.MethodPost && id == "":
		var body struct{ Flavor map[string]any }
		json.NewDecoder(r.Body).Decode(&body)
		if i, _ := n.find("flavors", byName(body.Flavor["name"])); i >= 0 {
			conflict(w, "Flavor with name exists.")
			return
		}
		n.next++
		body.Flavor["id"] = strings.Repeat("f", n.next)
		n.add("flavors", body.Flavor)
		reply(w, 200, map[string]any{"flavor": body.Flavor})
	case r.Method == http.MethodDelete:
		n.delete(w, r, "flavors", byID, http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

func (n *Nova) keypairs(w http.ResponseWriter, r *http.Request, name string) {
	byName := func(name any) func(map[string]any) bool {
		return func(o map[string]any) bool { return o["name"] == name }
	}
	switch {
	case r.Method == http.MethodGet && name == "":
		list := []any{}
		for _, k := range n.objects["keypairs"] {
			list = append(list, map[string]any{"keypair": k})
		}
		reply(w, 200, map[string]any{"keypairs": list})
	case r.Method == http.MethodGet:
		_, k := n.find("keypairs", byName(name))
		if k == nil {
			reply(w, 404, map[string]any{"itemNotFound": map[string]any{"code": 404, "message": "Keypair " + name + " not found"}})
			return
		}
		reply(w, 200, map[string]any{"keypair": k})
	case r.Method == http.MethodPost:
		var body struct{ Keypair map[string]any }
		json.NewDecoder(r.Body).Decode(&body)
		if i, _ := n.find("keypairs", byName(body.Keypair["name"])); i >= 0 {
			conflict(w, fmt.Sprintf("Key pair '%s' already exists.", body.Keypair["name"]))
			return
		}
		body.Keypair["fingerprint"] = fmt.Sprintf("fp:%d", len(fmt.Sprint(body.Keypair["public_key"])))
		n.add("keypairs", body.Keypair)
		reply(w, 200, map[string]any{"keypair": body.Keypair})
	case r.Method == http.MethodDelete:
		n.delete(w, r, "keypairs", byName(name), http.StatusAccepted)
	default:
		http.NotFound(w, r)
	}
}

// novaQuotaDefaults are nova's default quotas.
var novaQuotaDefaults = map[string]any{"instances": 10, "cores": 20, "ram": 51200, "key_pairs": 100,
	"server_groups": 10, "server_group_members": 10, "metadata_items": 128}

func (n *Nova) quotaSets(w http.ResponseWriter, r *http.Request, project string) {
	serveQuotaSet(w, r, &n.store, project, novaQuotaDefaults)
}

// Cinder serves cinder's quota sets.
type Cinder struct {
	Faults
	store
}

// cinderQuotaDefaults are cinder's default quotas.
var cinderQuotaDefaults = map[string]any{"volumes": 10, "gigabytes": 1000, "snapshots": 10, "backups": 10,
	"backup_gigabytes": 1000, "per_volume_gigabytes": -1, "groups": 10}

func (c *Cinder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.inject(w, `{"computeFault": {"code": 500, "message": "boom"}}`) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	project, ok := strings.CutPrefix(r.URL.Path, "/os-quota-sets/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	serveQuotaSet(w, r, &c.store, project, cinderQuotaDefaults)
}

// serveQuotaSet answers a read or update of the os-quota-sets API nova and
// cinder share; a limit the service does not know is a 400.
func serveQuotaSet(w http.ResponseWriter, r *http.Request, s *store, project string, defaults map[string]any) {
	q := s.limits("quota-sets", "id", project, defaults)
	switch r.Method {
	case http.MethodGet:
	case http.MethodPut:
		var body struct {
			QuotaSet map[string]any `json:"quota_set"`
		}
		json.NewDecoder(r.Body).Decode(&body)
		for k := range body.QuotaSet {
			if _, known := defaults[k]; !known {
				reply(w, 400, map[string]any{"badRequest": map[string]any{"code": 400, "message": "Additional properties are not allowed ('" + k + "' was unexpected)"}})
				return
			}
		}
		for k, v := range body.QuotaSet {
			q[k] = v
		}
	default:
		http.NotFound(w, r)
		return
	}
	reply(w, 200, map[string]any{"quota_set": q})
}

// Quota returns a project's quota set as stored.
func (c *Cinder) Quota(project string) map[string]any { return quotaOf(&c.store, project) }

func quotaOf(s *store, project string) map[string]any {
	for _, q := range s.Objects("quota-sets") {
		if q["id"] == project {
			return q
		}
	}
	return nil
}
