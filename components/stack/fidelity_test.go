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

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/helmdeployer"
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
	loader := chartLoader()
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
			if slices.ContainsFunc(documented[name], func(p string) bool { return !strings.HasPrefix(p, "object ") }) {
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

// TestObjectsMatchTheRoles compares the objects each role applies around
// its chart with the component's own: what its meta dependencies apply
// (each service's RabbitMQ cluster) and its tasks' kubernetes.core.k8s
// definitions, recorded by the reference's stand-in (hack/fidelity), the
// CRDs against those atmosphere applies from the chart. An object or path
// listed in docs/differences.md ("object Kind/name") is skipped.
func TestObjectsMatchTheRoles(t *testing.T) {
	t.Run("openvswitch", func(t *testing.T) { checkObjects(t, referenceDir, "", 19) })
	t.Run("ovn", func(t *testing.T) { checkObjects(t, referenceDir+"-ovn", components.BackendOVN, 4) })
}

// checkObjects compares the objects of every component with a reference
// in dir/objects (at least want of them) with it.
func checkObjects(t *testing.T, dir, backend string, want int) {
	st, _ := fidelitySettings(t, backend)
	documented := readDifferences(t)
	reg := components.Default()
	loader := chartLoader()
	files, _ := filepath.Glob(filepath.Join(dir, "objects", "*.jsonl"))
	if len(files) < want {
		t.Fatalf("%d object references in %s, want %d", len(files), dir, want)
	}
	exact, skipped, total := 0, 0, 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jsonl")
		c, ok := reg.Get(name)
		if !ok {
			t.Errorf("reference %s: no component %s", f, name)
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		objs, err := Objects(name, st.Config)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var ours []map[string]any
		for _, o := range objs {
			ours = append(ours, o.Object)
		}
		if slices.Contains(chartCRDs, name) {
			ch, err := loader.Load(context.Background(), *c.Chart)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			crds, err := crdObjects(helmdeployer.Release{Chart: ch})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, o := range crds {
				ours = append(ours, o.Object)
			}
		}
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			var want map[string]any
			if err := json.Unmarshal([]byte(line), &want); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			total++
			meta, _ := want["metadata"].(map[string]any)
			id := fmt.Sprintf("object %s/%s", want["kind"], meta["name"])
			if isDocumented(id, documented[name]) {
				skipped++
				continue
			}
			// Our objects take the component's namespace when applied.
			if meta["namespace"] == c.Namespace {
				delete(meta, "namespace")
			}
			find := func(kind string, name any) map[string]any {
				for _, o := range ours {
					if m, _ := o["metadata"].(map[string]any); o["kind"] == kind && m["name"] == name {
						return o
					}
				}
				return nil
			}
			if kind, _ := want["kind"].(string); secretgenKinds[kind] {
				// secretgen-controller's objects: ours are the Secrets it makes.
				if problems := madeAsSecretgen(want, find); len(problems) > 0 {
					t.Errorf("%s: %s is not made as secretgen-controller makes it:\n  %s", name, strings.TrimPrefix(id, "object "), strings.Join(problems, "\n  "))
					continue
				}
				exact++
				continue
			}
			got := find(want["kind"].(string), meta["name"])
			if got == nil {
				t.Errorf("%s: no %s among its objects (%s)", name, strings.TrimPrefix(id, "object "), f)
				continue
			}
			diffs := diffValues(id, normalize(t, want), normalize(t, got), documented[name])
			if len(diffs) > 0 {
				t.Errorf("%s: %s differs from the role's:\n  %s", name, strings.TrimPrefix(id, "object "), strings.Join(diffs, "\n  "))
				continue
			}
			exact++
		}
	}
	t.Logf("%s: objects the roles apply: %d, %d equal to ours, %d documented in docs/differences.md, %d differ", dir, total, exact, skipped, total-exact-skipped)
}

// secretgenKinds are secretgen-controller's kinds the roles use: atmosphere
// writes the Secrets they make itself.
var secretgenKinds = map[string]bool{"Password": true, "SecretTemplate": true}

// madeAsSecretgen checks that ours hold the Secret secretgen-controller
// makes of a Password (a "password" key) or a SecretTemplate (its
// stringData, and each data key the password of the input Secret it
// names), and says what is not.
func madeAsSecretgen(want map[string]any, find func(kind string, name any) map[string]any) []string {
	meta, _ := want["metadata"].(map[string]any)
	got := find("Secret", meta["name"])
	if got == nil {
		return []string{fmt.Sprintf("no Secret %s", meta["name"])}
	}
	data, _ := got["stringData"].(map[string]any)
	if want["kind"] == "Password" {
		if p, _ := data["password"].(string); p == "" {
			return []string{"no password"}
		}
		return nil
	}
	var problems []string
	spec, _ := want["spec"].(map[string]any)
	template, _ := spec["template"].(map[string]any)
	fixed, _ := template["stringData"].(map[string]any)
	for k, v := range fixed {
		if data[k] != v {
			problems = append(problems, fmt.Sprintf("%s: role %v, ours %v", k, v, data[k]))
		}
	}
	inputs := map[string]any{}
	resources, _ := spec["inputResources"].([]any)
	for _, r := range resources {
		m, _ := r.(map[string]any)
		ref, _ := m["ref"].(map[string]any)
		inputs[m["name"].(string)] = ref["name"]
	}
	derived, _ := template["data"].(map[string]any)
	for k, v := range derived {
		input, ok := strings.CutSuffix(strings.TrimPrefix(v.(string), "$(."), ".data.password)")
		source := find("Secret", inputs[input])
		if !ok || source == nil {
			problems = append(problems, fmt.Sprintf("%s: from %v, which is not among ours", k, v))
			continue
		}
		sd, _ := source["stringData"].(map[string]any)
		if data[k] == nil || data[k] != sd["password"] {
			problems = append(problems, fmt.Sprintf("%s: not the password of Secret %v", k, inputs[input]))
		}
	}
	if len(data) != len(fixed)+len(derived) {
		problems = append(problems, fmt.Sprintf("%d keys, the template makes %d", len(data), len(fixed)+len(derived)))
	}
	sort.Strings(problems)
	return problems
}
