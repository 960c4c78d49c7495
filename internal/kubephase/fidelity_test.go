package kubephase

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
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
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

// matchingRoles are the components whose values are checked against their
// role's: each must have its reference in referenceDir (and, but for the
// hand-written ones, its objects reference in referenceDir/objects), and
// every difference from it must be documented in docs/differences.md.
var matchingRoles = []string{
	"barbican", "ceph-provisioners", "cert-manager", "cinder", "coredns", "csi", "glance", "heat", "horizon",
	"ingress-nginx", "keycloak", "keystone", "kube-prometheus-stack", "libvirt", "magnum", "manila", "neutron", "nova", "octavia",
	"ovn", "placement", "staffeln",
	"rabbitmq-cluster-operator", "goldpinger", "memcached", "node-feature-discovery", "openvswitch",
	"loki", "percona-xtradb-cluster-operator", "prometheus-pushgateway", "rook-ceph", "rook-ceph-cluster", "smartctl-exporter", "valkey", "vector",
}

// ovnComponents are the components the network backend changes, rendered
// again with ATMOSPHERE_NETWORK_BACKEND=ovn into referenceDir-ovn (the
// Makefile's fidelity-references target names the same).
var ovnComponents = []string{"libvirt", "magnum", "neutron", "nova", "ovn"}

// localPathComponents are the components of the CSI driver
// local-path-provisioner, rendered with csi_driver: local-path-provisioner
// into referenceDir-local-path-provisioner (the Makefile's
// fidelity-references target names the same): the default run
// (referenceDir) is of the inventory's driver, rbd, which does not deploy
// them.
var localPathComponents = []string{"local-path-provisioner"}

// hpeNimbleComponents are the components of the CSI driver hpe-nimble,
// rendered with csi_driver: hpe-nimble into referenceDir-hpe-nimble (the
// Makefile's fidelity-references target names the same), with the array's
// test credentials of the fidelity inventory (group_vars/all/hpe-nimble.yml).
var hpeNimbleComponents = []string{"hpe-csi-driver"}

// storpoolComponents and ibmBlockComponents are the manifest components
// of the CSI drivers storpool and ibm-block, rendered with their driver
// into referenceDir-<driver> (the Makefile's fidelity-references target
// names the same): their references are of objects alone (their roles
// give Helm no values). ibm-block's role applies its operator's manifest
// with the rest: its reference holds both components' objects
// (objectsWith).
var (
	storpoolComponents = []string{"storpool-csi"}
	ibmBlockComponents = []string{"ibm-block-csi-driver"}
)

// objectsWith are, by component, the components whose objects the
// component's role applies in the same run, before its own: their objects
// are compared with the role's as the component's.
var objectsWith = map[string][]string{"ibm-block-csi-driver": {"ibm-block-csi-operator"}}

// portworxComponents are the components of the CSI driver portworx,
// rendered with csi_driver: portworx into referenceDir-portworx (the
// Makefile's fidelity-references target names the same): a manifest
// component, whose reference is of its objects (and the CRD its role
// waits for) alone.
var portworxComponents = []string{"portworx"}

// scenario is one run of the references: the fidelity inventory with the
// network backend and CSI driver given (the inventory's when empty), its
// references in dir, of the components it checks.
type scenario struct {
	name, dir, backend, csiDriver string
	components                    []string
}

// scenarios are the runs of the references: the molecule inventory as it
// is (openvswitch, rbd), with ATMOSPHERE_NETWORK_BACKEND=ovn for the
// components it changes, and with csi_driver: local-path-provisioner and
// hpe-nimble for each driver's.
var scenarios = []scenario{
	{"openvswitch", referenceDir, "", "", matchingRoles},
	{"ovn", referenceDir + "-ovn", components.BackendOVN, "", ovnComponents},
	{"local-path-provisioner", referenceDir + "-local-path-provisioner", "", components.CSIDriverLocalPath, localPathComponents},
	{"hpe-nimble", referenceDir + "-hpe-nimble", "", components.CSIDriverHPENimble, hpeNimbleComponents},
	{"storpool", referenceDir + "-storpool", "", components.CSIDriverStorPool, storpoolComponents},
	{"ibm-block", referenceDir + "-ibm-block", "", components.CSIDriverIBMBlock, ibmBlockComponents},
	{"portworx", referenceDir + "-portworx", "", components.CSIDriverPortworx, portworxComponents},
}

// handWritten are the references not rendered from a role, with why: they
// are counted apart, and have no objects reference.
var handWritten = map[string]string{
	"cert-manager": "written by hand from roles/cert_manager/tasks/main.yml: its values come from vexxhost.kubernetes.cert_manager, whose roles are not in ../shared",
}

func TestValuesMatchTheRoles(t *testing.T) {
	ds := readDifferences(t)
	ran := 0
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { ran++; checkReferences(t, sc, ds) })
	}
	// An entry may match a difference of one scenario only: stale entries
	// are told once all ran (not when -run picks some).
	if ran == len(scenarios) {
		ds.checkStale(t, false)
	}
}

// fidelitySettings are the settings of the fidelity inventory, with the
// network backend and CSI driver given (the inventory's when empty).
func fidelitySettings(t *testing.T, backend, csiDriver string) (*Stack, *inventory.Inventory) {
	t.Helper()
	inv, err := inventory.Load(fidelityInventory, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	is, err := inv.Settings()
	if err != nil {
		t.Fatal(err)
	}
	settings := components.DefaultSettings()
	settings.Config = is.Config
	if backend != "" {
		settings.Config.NetworkBackend = backend
	}
	if csiDriver != "" {
		settings.Config.CSIDriver = csiDriver
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

// checkReferences compares the values of each required component with its
// reference in dir: a missing reference, a reference of a component not
// required, and a difference docs/differences.md does not document fail.
func checkReferences(t *testing.T, sc scenario, ds differences) {
	reg := components.Default()
	// A component without a chart (portworx) has no values: its reference
	// is of its objects alone (checkObjects).
	dir, required := sc.dir, slices.DeleteFunc(slices.Clone(sc.components), func(name string) bool {
		c, ok := reg.Get(name)
		return ok && c.Chart == nil
	})
	st, _ := fidelitySettings(t, sc.backend, sc.csiDriver)
	checkFiles(t, dir, ".json", required, nil)
	loader := chartLoader()
	exact, documented := 0, 0
	var rendered, byHand []string
	for _, name := range required {
		f := filepath.Join(dir, name+".json")
		c, ok := reg.Get(name)
		if !ok || c.Chart == nil {
			t.Errorf("reference %s: no Helm component %s", f, name)
			continue
		}
		var want any
		raw, err := os.ReadFile(f)
		if err != nil {
			if !os.IsNotExist(err) { // a missing one: checkFiles said so
				t.Errorf("reference %s: %v", f, err)
			}
			continue
		}
		if err := json.Unmarshal(raw, &want); err != nil {
			t.Errorf("reference %s does not read: %v", f, err)
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
		found := diffValues("", normalize(t, want), normalize(t, ours))
		if left := ds.undocumented(name, found); len(left) > 0 {
			t.Errorf("%s: %d differences from the role's values (%s), not documented in docs/differences.md:\n  %s",
				name, len(left), f, strings.Join(left, "\n  "))
			continue
		}
		if _, ok := handWritten[name]; ok {
			byHand = append(byHand, fmt.Sprintf("%s, %d documented differences (%s)", name, len(found), handWritten[name]))
			continue
		}
		rendered = append(rendered, name)
		if len(found) == 0 {
			exact++
		} else {
			documented++
		}
	}
	t.Logf("%s: rendered from the roles: %d of %d components equal to their role's values, %d exactly and %d with differences documented in docs/differences.md",
		dir, len(rendered), len(required)-countHandWritten(required), exact, documented)
	if n := countHandWritten(required); n > 0 {
		t.Logf("%s: written by hand, counted apart: %d of %d equal to their reference: %s", dir, len(byHand), n, strings.Join(byHand, "; "))
	}
}

// countHandWritten counts the hand-written references among names.
func countHandWritten(names []string) int {
	n := 0
	for _, name := range names {
		if _, ok := handWritten[name]; ok {
			n++
		}
	}
	return n
}

// checkFiles fails the test for each of required (less skip) without its
// file <name><ext> in dir, and for each such file of a component not
// required.
func checkFiles(t *testing.T, dir, ext string, required []string, skip map[string]string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*"+ext))
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ext)
		have[name] = true
		if _, skipped := skip[name]; !slices.Contains(required, name) || skipped {
			t.Errorf("reference %s: %s is not a component checked here (matchingRoles, ovnComponents, localPathComponents, hpeNimbleComponents, storpoolComponents, ibmBlockComponents, portworxComponents)", f, name)
		}
	}
	for _, name := range required {
		if _, skipped := skip[name]; !skipped && !have[name] {
			t.Errorf("%s: no reference %s (make fidelity-references renders it)", name, filepath.Join(dir, name+ext))
		}
	}
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

// finding is one difference from a role: where, and what.
type finding struct{ path, text string }

// diffValues lists where got differs from want, one finding for each path
// that differs: a value that is not the same, a key only one side has.
func diffValues(path string, want, got any) []finding {
	wm, wok := want.(map[string]any)
	gm, gok := got.(map[string]any)
	if !wok || !gok {
		if reflect.DeepEqual(want, got) {
			return nil
		}
		return []finding{{path, fmt.Sprintf("%s: role %s, ours %s", path, short(want), short(got))}}
	}
	keys := make([]string, 0, len(wm)+len(gm))
	for k := range wm {
		keys = append(keys, k)
	}
	for k := range gm {
		if _, ok := wm[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []finding
	for _, k := range keys {
		p := k
		if path != "" {
			p = path + "." + k
		}
		w, inW := wm[k]
		g, inG := gm[k]
		switch {
		case !inG:
			out = append(out, finding{p, fmt.Sprintf("%s: missing (role: %s)", p, short(w))})
		case !inW:
			out = append(out, finding{p, fmt.Sprintf("%s: not in the role's values (ours: %s)", p, short(g))})
		default:
			out = append(out, diffValues(p, w, g)...)
		}
	}
	return out
}

func short(v any) string {
	raw, _ := json.Marshal(v)
	if len(raw) > 120 {
		return string(raw[:117]) + "..."
	}
	return string(raw)
}

// subtreeMarker starts the reason of a docs/differences.md entry that
// covers a whole subtree (its path and everything under it) rather than
// the one path it names; what follows the marker must say why.
const subtreeMarker = "**Subtree:**"

// difference is one entry of docs/differences.md.
type difference struct {
	line            int
	component, path string
	subtree         bool
	used            bool
}

// covers says whether the entry documents a difference at path: the path
// itself, or, for a subtree entry, anything under it.
func (d *difference) covers(path string) bool {
	return path == d.path || d.subtree && strings.HasPrefix(path, d.path+".")
}

// differences are the entries of docs/differences.md, by component.
type differences map[string][]*difference

// undocumented returns the text of each finding of component no entry
// covers, and marks the entries that cover one as used.
func (ds differences) undocumented(component string, found []finding) []string {
	var left []string
	for _, f := range found {
		covered := false
		for _, d := range ds[component] {
			if d.covers(f.path) {
				d.used, covered = true, true
			}
		}
		if !covered {
			left = append(left, f.text)
		}
	}
	return left
}

// checkStale fails the test for each entry of the values (objects false)
// or objects table that matched no difference.
func (ds differences) checkStale(t *testing.T, objects bool) {
	t.Helper()
	for _, entries := range ds {
		for _, d := range entries {
			if strings.HasPrefix(d.path, "object ") == objects && !d.used {
				t.Errorf("%s:%d: %s `%s` matches no difference from the role: a stale entry (remove it, or name the one path that differs)",
					differencesDoc, d.line, d.component, d.path)
			}
		}
	}
}

// readDifferences reads the deliberate differences of docs/differences.md:
// its table rows "| component | `path` | reason |", by component. A row
// without a reason, a subtree marker without a why, and a row given twice
// fail the test.
func readDifferences(t *testing.T) differences {
	t.Helper()
	f, err := os.Open(differencesDoc)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := differences{}
	seen := map[string]int{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		cells := strings.Split(sc.Text(), "|")
		if len(cells) < 5 || !strings.HasPrefix(strings.TrimSpace(cells[2]), "`") {
			continue
		}
		d := &difference{line: n, component: strings.TrimSpace(cells[1]), path: strings.Trim(strings.TrimSpace(cells[2]), "`")}
		reason := strings.TrimSpace(strings.Join(cells[3:len(cells)-1], "|"))
		if why, ok := strings.CutPrefix(reason, subtreeMarker); ok {
			d.subtree, reason = true, strings.TrimSpace(why)
		}
		if reason == "" {
			t.Errorf("%s:%d: %s `%s`: a difference needs its reason", differencesDoc, n, d.component, d.path)
		}
		key := d.component + " " + d.path
		if first, ok := seen[key]; ok {
			t.Errorf("%s:%d: %s `%s` is already at line %d", differencesDoc, n, d.component, d.path, first)
		}
		seen[key] = n
		out[d.component] = append(out[d.component], d)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestObjectsMatchTheRoles compares the objects each role applies around
// its chart with the component's own, both ways: what its meta
// dependencies apply (each service's RabbitMQ cluster), its tasks'
// kubernetes.core.k8s definitions and the public Ingress it includes,
// recorded by the reference's stand-in (hack/fidelity), the CRDs against
// those atmosphere applies from the chart. An object of the role's that we
// do not make, one of ours the role does not make, and a path that differs
// fail unless docs/differences.md names it ("object Kind/name", and a path
// under it).
func TestObjectsMatchTheRoles(t *testing.T) {
	ds := readDifferences(t)
	ran := 0
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) { ran++; checkObjects(t, sc, ds) })
	}
	// An entry may match a difference of one scenario only: stale entries
	// are told once all ran (not when -run picks some).
	if ran == len(scenarios) {
		ds.checkStale(t, true)
	}
}

// checkObjects compares the objects of each required component rendered
// from its role with its reference in dir/objects, both ways.
func checkObjects(t *testing.T, sc scenario, ds differences) {
	dir, required := sc.dir, sc.components
	st, _ := fidelitySettings(t, sc.backend, sc.csiDriver)
	reg := components.Default()
	loader := chartLoader()
	checkFiles(t, filepath.Join(dir, "objects"), ".jsonl", required, handWritten)
	exact, documented, theirs, ours := 0, 0, 0, 0
	for _, name := range required {
		if _, ok := handWritten[name]; ok {
			t.Logf("%s: objects not checked: its reference is %s", name, handWritten[name])
			continue
		}
		f := filepath.Join(dir, "objects", name+".jsonl")
		c, ok := reg.Get(name)
		if !ok {
			t.Errorf("reference %s: no component %s", f, name)
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			if !os.IsNotExist(err) { // a missing one: checkFiles said so
				t.Errorf("reference %s: %v", f, err)
			}
			continue
		}
		objs, err := objectsOf(name, st.Config)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		checkCRDWaits(t, crdWaitsFile(f), name, objs)
		var mine []map[string]any
		failed := false
		for _, of := range append(slices.Clone(objectsWith[name]), name) {
			objs, err := objectsOf(of, st.Config)
			if err != nil {
				t.Errorf("%s: %v", of, err)
				failed = true
			}
			for _, o := range objs {
				mine = append(mine, o.Object)
			}
		}
		if failed {
			continue
		}
		if c.ChartCRDs {
			ch, err := loader.Load(context.Background(), *c.Chart)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			crds, err := crdObjects(helmrelease.Release{Chart: ch})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, o := range crds {
				mine = append(mine, o.Object)
			}
		}
		matched := map[int]bool{}
		find := func(kind string, name any) map[string]any {
			for i, o := range mine {
				if m, _ := o["metadata"].(map[string]any); o["kind"] == kind && m["name"] == name {
					matched[i] = true
					return o
				}
			}
			return nil
		}
		var found []finding
		for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
			if line == "" {
				continue // a role that applies no object
			}
			var want map[string]any
			if err := json.Unmarshal([]byte(line), &want); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			theirs++
			meta, _ := want["metadata"].(map[string]any)
			id := fmt.Sprintf("object %s/%s", want["kind"], meta["name"])
			// Our objects take the component's namespace when applied.
			if meta["namespace"] == c.Namespace {
				delete(meta, "namespace")
			}
			if kind, _ := want["kind"].(string); secretgenKinds[kind] {
				// secretgen-controller's objects: ours are the Secrets it makes.
				if problems := madeAsSecretgen(want, find); len(problems) > 0 {
					found = append(found, finding{id, fmt.Sprintf("%s is not made as secretgen-controller makes it: %s", id, strings.Join(problems, "; "))})
				}
				continue
			}
			got := find(want["kind"].(string), meta["name"])
			if got == nil {
				found = append(found, finding{id, fmt.Sprintf("%s: the role makes it, we do not", id)})
				continue
			}
			found = append(found, diffValues(id, normalize(t, want), normalize(t, got))...)
		}
		for i, o := range mine {
			ours++
			if !matched[i] {
				meta, _ := o["metadata"].(map[string]any)
				id := fmt.Sprintf("object %s/%s", o["kind"], meta["name"])
				found = append(found, finding{id, fmt.Sprintf("%s: ours, the role does not make it", id)})
			}
		}
		if left := ds.undocumented(name, found); len(left) > 0 {
			t.Errorf("%s: %d differences from the role's objects (%s), not documented in docs/differences.md:\n  %s",
				name, len(left), f, strings.Join(left, "\n  "))
			continue
		}
		if len(found) == 0 {
			exact++
		} else {
			documented++
		}
	}
	t.Logf("%s: objects of %d components rendered from the roles: the roles make %d objects, we make %d; %d components exactly as the role, %d with differences documented in docs/differences.md",
		dir, len(required)-countHandWritten(required), theirs, ours, exact, documented)
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

// crdWaitsFile is where hack/fidelity records, beside a component's
// objects reference, the CustomResourceDefinitions its role waits for an
// operator to create (hack/fidelity's crdWaitsFile): none for most.
func crdWaitsFile(objects string) string {
	return strings.TrimSuffix(objects, ".jsonl") + ".crd-waits.ndjson"
}

// checkCRDWaits compares where a component's objects await a CRD an
// operator creates (manifest.Object's AwaitCRD) with where its role
// waits for one (file, one {"crd", "after"} a line: the CRD, and how many
// objects the role applied before the wait): the objects before the
// role's wait await none, those after it await its CRD. A role that
// waits for none has no file, and then none of ours may await a CRD.
func checkCRDWaits(t *testing.T, file, name string, objs []manifest.Object) {
	t.Helper()
	type wait struct {
		CRD   string `json:"crd"`
		After int    `json:"after"`
	}
	var waits []wait
	raw, err := os.ReadFile(file)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if line == "" {
			continue
		}
		var w wait
		if err := json.Unmarshal([]byte(line), &w); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		waits = append(waits, w)
	}
	want := make([]string, len(objs))
	for _, w := range waits {
		for i := w.After; i < len(want); i++ {
			want[i] = w.CRD
		}
	}
	for i, o := range objs {
		if o.AwaitCRD != want[i] {
			t.Errorf("%s: object %d (%s %s) awaits CRD %q; the role (%s) waits for %q before it", name, i, o.GetKind(), o.GetName(), o.AwaitCRD, file, want[i])
		}
	}
}
