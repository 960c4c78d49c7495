package stack

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/charts"
	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/inventory"
)

// References are rendered from atmosphere's roles by `make
// fidelity-references` (hack/fidelity) for the fidelity inventory; the
// cert-manager one is written by hand (hack/fidelity/README.md says why).
const (
	referenceDir      = "../../testdata/fidelity/values"
	fidelityInventory = "../../testdata/fidelity/inventory"
	differencesDoc    = "../../docs/differences.md"
)

// matchingRoles are the components whose values equal their role's,
// documented differences aside. Every other component with a reference is
// not ported yet: the test lists how far it is, and fails once it matches
// so that it is moved here.
var matchingRoles = []string{
	"barbican", "ceph-provisioners", "cert-manager", "cinder", "coredns", "csi", "glance", "heat", "horizon",
	"ingress-nginx", "keycloak", "keystone", "kube-prometheus-stack", "libvirt", "magnum", "manila", "neutron", "nova", "octavia",
	"ovn", "placement", "staffeln",
	"rabbitmq-cluster-operator", "goldpinger", "memcached", "node-feature-discovery", "openvswitch",
	"loki", "percona-xtradb-cluster-operator", "prometheus-pushgateway", "rook-ceph", "rook-ceph-cluster", "valkey", "vector",
}

func TestValuesMatchTheRoles(t *testing.T) {
	// The molecule inventory as it is (openvswitch), and with
	// ATMOSPHERE_NETWORK_BACKEND=ovn for the components it changes.
	t.Run("openvswitch", func(t *testing.T) { checkReferences(t, referenceDir, "", 30) })
	t.Run("ovn", func(t *testing.T) { checkReferences(t, referenceDir+"-ovn", components.BackendOVN, 4) })
}

// fidelitySettings are the settings of the fidelity inventory, with the
// network backend given (the inventory's when empty).
func fidelitySettings(t *testing.T, backend string) (*Stack, *inventory.Inventory) {
	t.Helper()
	inv, err := inventory.Load(fidelityInventory, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	is, err := inv.Settings()
	if err != nil {
		t.Fatal(err)
	}
	settings := DefaultSettings()
	settings.Config = is.Config
	if backend != "" {
		settings.Config.NetworkBackend = backend
	}
	settings.Vars = inv.Vars
	settings.Secret = func(name string) (string, error) {
		if v, ok := inv.Vars[name].(string); ok {
			return v, nil
		}
		return "", fmt.Errorf("not in the fidelity inventory")
	}
	// As the reference's stand-in for kubernetes.core.k8s_info answers.
	settings.ClusterSecret = func(name, key string) (string, error) {
		return name + "-" + map[string]string{"username": "user"}[key] + map[string]string{"password": "password", "root": "root"}[key], nil
	}
	st := &Stack{Config: settings, Overrides: map[string]values.Values{}}
	byPrefix := components.Default().ValuesPrefixes()
	for prefix, v := range is.HelmValues {
		name, ok := byPrefix[prefix]
		if !ok {
			t.Fatalf("%s: %s_helm_values names no component", fidelityInventory, prefix)
		}
		st.Overrides[name] = v
	}
	return st, inv
}

// checkReferences compares the values of every component with a reference
// in dir (at least want of them) with it.
func checkReferences(t *testing.T, dir, backend string, want int) {
	st, _ := fidelitySettings(t, backend)
	documented := readDifferences(t)
	reg := components.Default()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) < want {
		t.Fatalf("%d references in %s, want %d", len(files), dir, want)
	}
	loader := &charts.Loader{Catalog: charts.Default(), Sources: []charts.Source{
		charts.DirSource{Dir: "../../../shared/atmosphere/charts"}, charts.DirSource{Dir: "../../testdata/charts"}}}
	var pending []string
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		c, ok := reg.Get(name)
		if !ok || c.Chart == nil {
			t.Errorf("reference %s: no Helm component %s", f, name)
			continue
		}
		ch, err := loader.Load(context.Background(), *c.Chart)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		ours, err := st.Values(c, ch.Values)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var want any
		raw, err := os.ReadFile(f)
		if err != nil || json.Unmarshal(raw, &want) != nil {
			t.Errorf("reference %s does not read: %v", f, err)
			continue
		}
		diffs := diffValues("", normalize(t, want), normalize(t, ours), documented[name])
		switch {
		case slices.Contains(matchingRoles, name) && len(diffs) > 0:
			t.Errorf("%s: %d differences from the role's values (%s), none documented in docs/differences.md:\n  %s",
				name, len(diffs), f, strings.Join(diffs, "\n  "))
		case !slices.Contains(matchingRoles, name) && len(diffs) == 0:
			t.Errorf("%s now matches its role's values: add it to matchingRoles", name)
		case !slices.Contains(matchingRoles, name):
			pending = append(pending, fmt.Sprintf("%s (%d)", name, len(diffs)))
			if testing.Verbose() {
				t.Logf("%s: not ported yet, %d differences:\n  %s", name, len(diffs), strings.Join(diffs, "\n  "))
			}
		}
	}
	matching, withDifferences := 0, 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		if slices.Contains(matchingRoles, name) {
			matching++
			if len(documented[name]) > 0 {
				withDifferences++
			}
		}
	}
	t.Logf("%s: values equal to the role's: %d of %d components, %d of them exactly and %d with differences documented in docs/differences.md; not ported yet: %d %v",
		dir, matching, len(files), matching-withDifferences, withDifferences, len(pending), pending)
}

// normalize turns values into what JSON decodes them as, so that 3 and 3.0
// are equal.
func normalize(t *testing.T, v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// diffValues lists where got differs from want, by path, skipping the
// documented paths (and what is under them).
func diffValues(path string, want, got any, documented []string) []string {
	for _, d := range documented {
		if path == d || strings.HasPrefix(path, d+".") {
			return nil
		}
	}
	wm, wok := want.(map[string]any)
	gm, gok := got.(map[string]any)
	if wok && gok {
		keys := map[string]bool{}
		for k := range wm {
			keys[k] = true
		}
		for k := range gm {
			keys[k] = true
		}
		var out []string
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			p := k
			if path != "" {
				p = path + "." + k
			}
			w, inW := wm[k]
			g, inG := gm[k]
			switch {
			case !inG:
				if !isDocumented(p, documented) {
					out = append(out, fmt.Sprintf("%s: missing (role: %s)", p, short(w)))
				}
			case !inW:
				if !isDocumented(p, documented) {
					out = append(out, fmt.Sprintf("%s: not in the role's values (ours: %s)", p, short(g)))
				}
			default:
				out = append(out, diffValues(p, w, g, documented)...)
			}
		}
		return out
	}
	if !reflect.DeepEqual(want, got) {
		return []string{fmt.Sprintf("%s: role %s, ours %s", path, short(want), short(got))}
	}
	return nil
}

func isDocumented(path string, documented []string) bool {
	for _, d := range documented {
		if path == d || strings.HasPrefix(path, d+".") {
			return true
		}
	}
	return false
}

func short(v any) string {
	raw, _ := json.Marshal(v)
	if len(raw) > 120 {
		return string(raw[:117]) + "..."
	}
	return string(raw)
}

// readDifferences reads the deliberate differences of docs/differences.md:
// its table rows "| component | `path` | reason |", by component.
func readDifferences(t *testing.T) map[string][]string {
	f, err := os.Open(differencesDoc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[2]), "`") {
			continue
		}
		name := strings.TrimSpace(cells[1])
		path := strings.Trim(strings.TrimSpace(cells[2]), "`")
		if strings.TrimSpace(cells[3]) == "" {
			t.Errorf("%s: %s %s: a difference needs its reason", differencesDoc, name, path)
		}
		out[name] = append(out[name], path)
	}
	return out
}

// TestObjectsMatchTheRoles compares the objects the roles' dependencies
// apply before a chart (each service's RabbitMQ cluster, recorded by the
// reference's stand-in for kubernetes.core.k8s) with the component's own.
func TestObjectsMatchTheRoles(t *testing.T) {
	st, _ := fidelitySettings(t, "")
	files, _ := filepath.Glob(filepath.Join(referenceDir, "objects", "*.jsonl"))
	if len(files) < 10 {
		t.Fatalf("%d object references, want one per component with a RabbitMQ cluster", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := Objects(name, st.Config)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			var want map[string]any
			if err := json.Unmarshal([]byte(line), &want); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			meta, _ := want["metadata"].(map[string]any)
			// Our objects take the component's namespace when applied.
			delete(meta, "namespace")
			found := false
			for _, o := range objs {
				if o.GetKind() != want["kind"] || o.GetName() != meta["name"] {
					continue
				}
				found = true
				if diffs := diffValues("", normalize(t, want), normalize(t, o.Object), nil); len(diffs) > 0 {
					t.Errorf("%s: %s %s differs from the role's:\n  %s", name, want["kind"], meta["name"], strings.Join(diffs, "\n  "))
				}
			}
			if !found {
				t.Errorf("%s: no %s %s among its objects", name, want["kind"], meta["name"])
			}
		}
	}
}
