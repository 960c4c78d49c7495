package kubephase

import (
	"context"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
)

// TestUnitsNeedWhatTheirObjectsName renders every Helm release (its
// templates, hooks and crds/) and every component's own objects of the
// fidelity inventory (the molecule inventory with the Ceph facts and
// secrets a rendering without a cluster needs), with atmosphere's real
// charts and no cluster, once with each network backend and once with each
// CSI driver but rbd (local-path-provisioner, hpe-nimble, storpool, ibm-block, portworx). For every object it collects what the
// object names that another unit's objects provide (providedBy), and fails for each such name whose provider the naming
// unit does not need, directly or through others, in the registry's
// graph: at install time the provider's object would not be there yet.
// A Secret that a pod of an object the unit's Helm wait does not wait for
// (Component.NotWaitedFor) mounts or reads is no such need: the object's
// pods start once the Secret is made, and nothing waits for them.
func TestUnitsNeedWhatTheirObjectsName(t *testing.T) {
	waived := map[string]bool{}
	ran := 0
	// The inventory as it is (openvswitch, csi_driver rbd: csi provides
	// the StorageClass general), with the OVN backend, and with
	// csi_driver local-path-provisioner (local-path-provisioner's chart
	// provides it instead), with csi_driver hpe-nimble (hpe-csi-driver's
	// own StorageClass), storpool (storpool-csi's objects) and ibm-block
	// (ibm-block-csi-driver's, whose IBMBlockCSI kind comes with
	// ibm-block-csi-operator's CRD) and portworx (portworx's own objects do).
	runs := []struct{ name, backend, csiDriver string }{
		{"inventory", "", ""},
		{components.BackendOVN, components.BackendOVN, ""},
		{components.CSIDriverLocalPath, "", components.CSIDriverLocalPath},
		{components.CSIDriverHPENimble, "", components.CSIDriverHPENimble},
		{components.CSIDriverStorPool, "", components.CSIDriverStorPool},
		{components.CSIDriverIBMBlock, "", components.CSIDriverIBMBlock},
		{components.CSIDriverPortworx, "", components.CSIDriverPortworx},
	}
	for _, run := range runs {
		t.Run(run.name, func(t *testing.T) {
			ran++
			st, _ := fidelitySettings(t, run.backend, run.csiDriver)
			units := renderUnits(t, st)
			g, err := components.Default().Graph(st.Config.Config, components.GraphOptions{})
			if err != nil {
				t.Fatal(err)
			}
			providers := providedBy(units)
			checked := 0
			unmade := map[string]bool{}
			var unwaited []string
			for _, u := range units {
				needed := map[string]bool{}
				for _, k := range g.Ancestors(u.key) {
					needed[k] = true
				}
				for _, r := range u.names() {
					from := providers[r.key()]
					switch {
					case len(from) == 0 && r.kind == "Secret":
						// Made by the release itself (its hooks, its jobs)
						// or by an OpenStack set-up: no object to order on.
						unmade[r.key()] = true
						continue
					case len(from) == 0 && r.kind == admissionKind:
						continue // no webhook looks at it
					case len(from) == 0:
						t.Errorf("unit %s names %s (%s), which no unit provides", u.key, r.key(), r.where)
						continue
					}
					checked++
					if slices.ContainsFunc(from, func(p string) bool {
						c, _ := components.SplitUnit(p)
						return c == u.component || needed[p]
					}) {
						continue
					}
					id := u.key + " names " + r.key()
					if e, ok := u.notWaited(r); ok {
						unwaited = append(unwaited, fmt.Sprintf("%s (%s %s not waited for: %s)", id, e.Kind, e.Name, e.Why))
						continue
					}
					if _, ok := cycles[id]; ok {
						waived[id] = true
						continue
					}
					t.Errorf("unit %s names %s (%s) provided by %s, but %s does not (transitively) need it",
						u.key, r.key(), r.where, strings.Join(from, " or "), u.key)
				}
			}
			t.Logf("Secrets named that no unit's objects make: %s", strings.Join(slices.Sorted(maps.Keys(unmade)), ", "))
			t.Logf("Secrets named by objects their unit does not wait for: %s", strings.Join(unwaited, "; "))
			t.Logf("%d units rendered; %d names of what a unit provides checked", len(units), checked)
		})
	}
	// A cycle may be found in one run only: stale entries are told once
	// all ran (not when -run picks some).
	for id := range cycles {
		if ran == len(runs) && !waived[id] {
			t.Errorf("cycles: %q is no longer found: remove it", id)
		}
	}
}

// cycles are the names a unit gives of what a unit it cannot need
// provides, as "<unit> names <what>" (the key of the test's message),
// each with why the edge is not there (it would close a cycle) and what
// it leaves open. Each must still be found. (ovn:install's name of Secret
// openstack/neutron-etc, from ovn-controller's log-parser sidecar, was
// one: ovn now declares that its wait does not wait for ovn-controller.)
var cycles = map[string]string{}

// renderedUnit is a Helm or manifest unit and the objects it applies.
type renderedUnit struct {
	key, component, namespace string
	objects                   []map[string]any
	// unwaited are the objects the unit's Helm wait does not wait for
	// (Component.NotWaitedFor).
	unwaited []components.WaitException
	// operatorKinds are the kinds ("group/Kind") of the unit's objects
	// that await the CRD of their kind (manifest.Object's AwaitCRD): an
	// operator among the unit's objects creates it when it runs, so the
	// unit provides the kind itself.
	operatorKinds []string
}

// notWaited returns the exception of the unit's wait for the object that
// gives the Secret reference r, if any.
func (u *renderedUnit) notWaited(r reference) (components.WaitException, bool) {
	if r.kind != "Secret" {
		return components.WaitException{}, false
	}
	for _, e := range u.unwaited {
		if ok, err := path.Match(e.Name, r.byName); ok && err == nil && e.Kind == r.byKind {
			return e, true
		}
	}
	return components.WaitException{}, false
}

// renderUnits renders the objects of each Helm and manifest unit st's
// configuration enables: a component's own objects, and its release's
// (templates, hooks and its chart's crds/), rendered offline as `helm
// template` does, with the API versions of every CRD a unit may provide
// (so that a chart that asks for one renders what it would on a cluster
// where it is there).
func renderUnits(t *testing.T, st *Stack) []*renderedUnit {
	t.Helper()
	loader := chartLoader()
	var out []*renderedUnit
	type pending struct {
		u *renderedUnit
		r helmrelease.Release
	}
	var releases []pending
	apis := chartutil.VersionSet{}
	for _, c := range components.Default().Components() {
		if !c.IsEnabled(st.Config.Config) {
			continue
		}
		// A unit per Helm or manifest phase, with the objects it applies
		// (phaseObjects: a RabbitMQ cluster's phase of its own); the
		// release's objects are the Helm phase's.
		own, err := objects(c, st.Config)
		if err != nil {
			t.Fatalf("objects of %s: %v", c.Name, err)
		}
		var helmUnit *renderedUnit
		for _, p := range c.Phases {
			if p.Kind != components.Helm && p.Kind != components.Manifest {
				continue
			}
			u := &renderedUnit{key: components.UnitKey(c.Name, p.Name), component: c.Name, namespace: c.Namespace,
				unwaited: c.NotWaitedFor(st.Config)}
			for _, o := range phaseObjects(own, p) {
				u.objects = append(u.objects, o.Object)
				gvk := o.GroupVersionKind()
				if o.AwaitCRD != "" && strings.HasSuffix(o.AwaitCRD, "."+gvk.Group) {
					u.operatorKinds = append(u.operatorKinds, gvk.Group+"/"+gvk.Kind)
				}
			}
			out = append(out, u)
			if p.Kind == components.Helm {
				helmUnit = u
			}
		}
		if c.Chart == nil {
			continue
		}
		ch, err := loader.Load(context.Background(), *c.Chart)
		if err != nil {
			t.Fatalf("chart of %s: %v", c.Name, err)
		}
		v, err := st.Values(c, ch.Values)
		if err != nil {
			t.Fatal(err)
		}
		if helmUnit == nil {
			t.Fatalf("%s has a chart and no Helm phase", c.Name)
		}
		r := helmrelease.Release{Name: c.Release, Namespace: c.Namespace, Chart: ch, Values: v}
		// Every CRD the chart carries, its disabled subcharts' too.
		crds, err := crdObjects(r)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range crds {
			apis = append(apis, crdVersions(o.Object)...)
		}
		releases = append(releases, pending{helmUnit, r})
	}
	for _, u := range out {
		for _, o := range u.objects {
			apis = append(apis, crdVersions(o)...)
		}
	}
	for _, p := range releases {
		rendered, err := template(p.r, apis)
		if err != nil {
			t.Fatalf("render the release of %s: %v", p.u.component, err)
		}
		p.u.objects = append(p.u.objects, rendered...)
		// The CRDs Helm installs: the rendering left out the disabled
		// subcharts.
		crds, err := crdObjects(p.r)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range crds {
			p.u.objects = append(p.u.objects, o.Object)
		}
	}
	return out
}

// kubernetesVersion is the Kubernetes atmosphere installs
// (atmosphere_kubernetes_version of roles/defaults/defaults/main.yml).
const kubernetesVersion = "1.28.13"

// template renders a release as `helm template` does (no cluster; lookup
// finds nothing), with the API versions apis besides the built-in ones,
// and returns its objects and its hooks'.
func template(r helmrelease.Release, apis chartutil.VersionSet) ([]map[string]any, error) {
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.ReleaseName, install.Namespace = r.Name, r.Namespace
	install.DryRun, install.ClientOnly, install.Replace = true, true, true
	install.DisableOpenAPIValidation = true
	install.APIVersions = apis
	install.KubeVersion = &chartutil.KubeVersion{Version: "v" + kubernetesVersion, Major: "1", Minor: "28"}
	values := r.Values
	if values == nil {
		values = map[string]any{}
	}
	rel, err := install.RunWithContext(context.Background(), r.Chart, values)
	if err != nil {
		return nil, err
	}
	docs := []string{rel.Manifest}
	for _, h := range rel.Hooks {
		docs = append(docs, h.Manifest)
	}
	var out []map[string]any
	for _, d := range docs {
		for i, doc := range strings.Split(d, "\n---") {
			var m map[string]any
			if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
				return nil, fmt.Errorf("document %d: %w", i, err)
			}
			if len(m) > 0 {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// crdVersions are the API versions a CustomResourceDefinition serves, as
// a cluster's discovery lists them ("group/version" and
// "group/version/Kind"); none for another object.
func crdVersions(o map[string]any) []string {
	if o["kind"] != "CustomResourceDefinition" {
		return nil
	}
	group, _, _ := unstructured.NestedString(o, "spec", "group")
	kind, _, _ := unstructured.NestedString(o, "spec", "names", "kind")
	versions, _, _ := unstructured.NestedSlice(o, "spec", "versions")
	var out []string
	for _, v := range versions {
		if m, ok := v.(map[string]any); ok {
			out = append(out, fmt.Sprintf("%s/%v", group, m["name"]), fmt.Sprintf("%s/%v/%s", group, m["name"], kind))
		}
	}
	return out
}

// reference is one name an object gives of another object: what is
// named (kind, namespace for a namespaced one, name) and where.
type reference struct {
	kind, namespace, name string
	where                 string
	// byKind and byName are the object that names it.
	byKind, byName string
}

// key identifies what the reference names, as providedBy keys it.
func (r reference) key() string {
	if r.namespace != "" {
		return fmt.Sprintf("%s %s/%s", r.kind, r.namespace, r.name)
	}
	return r.kind + " " + r.name
}

// crdKind is the reference kind of a custom resource's definition.
const crdKind = "CustomResourceDefinition of"

// admissionKind is the reference kind of the admission webhooks that
// must answer for an object of a group and resource ("group/resource",
// either "*") to be created.
const admissionKind = "admission webhook of"

// providedBy maps what the units' objects provide to the units that
// provide it: StorageClasses, IngressClasses, ClusterIssuers and Issuers,
// the kinds of their CRDs (by "group/Kind"), their Secrets, and the
// Secrets of their cert-manager Certificates (which the unit waits for
// before its release), and the admission webhooks of their webhook
// configurations that refuse what they cannot look at (failurePolicy
// Fail, the default), by the group and resource of the objects they look
// at when created (their selectors are not read: a webhook is taken to
// look at every namespace).
func providedBy(units []*renderedUnit) map[string][]string {
	out := map[string][]string{}
	add := func(r reference, unit string) {
		if !slices.Contains(out[r.key()], unit) {
			out[r.key()] = append(out[r.key()], unit)
		}
	}
	for _, u := range units {
		for _, kind := range u.operatorKinds {
			add(reference{kind: crdKind, name: kind}, u.key)
		}
		for _, o := range u.objects {
			name, _, _ := unstructured.NestedString(o, "metadata", "name")
			namespace := objectNamespace(o, u.namespace)
			switch o["kind"] {
			case "StorageClass", "IngressClass", "ClusterIssuer":
				add(reference{kind: o["kind"].(string), name: name}, u.key)
				if a, _, _ := unstructured.NestedString(o, "metadata", "annotations", defaultClassAnnotation); o["kind"] == "StorageClass" && a == "true" {
					add(reference{kind: "StorageClass", name: defaultClass}, u.key)
				}
			case "Issuer", "Secret":
				add(reference{kind: o["kind"].(string), namespace: namespace, name: name}, u.key)
			case "Certificate":
				if secret, _, _ := unstructured.NestedString(o, "spec", "secretName"); secret != "" {
					add(reference{kind: "Secret", namespace: namespace, name: secret}, u.key)
				}
			case "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration":
				for _, w := range list(o["webhooks"]) {
					if w["failurePolicy"] == "Ignore" {
						continue
					}
					for _, rule := range list(w["rules"]) {
						if ops := strs(rule["operations"]); !slices.Contains(ops, "CREATE") && !slices.Contains(ops, "*") {
							continue
						}
						for _, g := range strs(rule["apiGroups"]) {
							for _, res := range strs(rule["resources"]) {
								if res == "*/*" {
									res = "*"
								} else if strings.Contains(res, "/") {
									continue // a subresource
								}
								add(reference{kind: admissionKind, name: g + "/" + res}, u.key)
							}
						}
					}
				}
			case "CustomResourceDefinition":
				group, _, _ := unstructured.NestedString(o, "spec", "group")
				kind, _, _ := unstructured.NestedString(o, "spec", "names", "kind")
				add(reference{kind: crdKind, name: group + "/" + kind}, u.key)
			}
		}
	}
	return out
}

// objectNamespace is an object's namespace: its own, else the unit's.
func objectNamespace(o map[string]any, unit string) string {
	if ns, _, _ := unstructured.NestedString(o, "metadata", "namespace"); ns != "" {
		return ns
	}
	return unit
}

// builtinAPIs are the API versions a cluster serves without a CRD.
var builtinAPIs = map[string]bool{}

func init() {
	for _, v := range chartutil.DefaultVersionSet {
		builtinAPIs[v] = true
	}
}

// names returns what the unit's objects name that a unit may provide:
// the definition of every custom resource's kind; the admission webhooks
// that may look at it (by its group and resource, and the wildcards);
// every
// storageClassName (PVCs, StatefulSets' volumeClaimTemplates, custom
// resources' volume specs; an empty one means the default class, which
// Kubernetes gives a claim retroactively); every ingressClassName and
// kubernetes.io/ingress.class annotation; every cert-manager issuer of an
// annotation or an issuerRef; and the Secrets their pods mount or read
// (volumes, projected volumes, env and envFrom) unless optional.
func (u *renderedUnit) names() []reference {
	var out []reference
	for _, o := range u.objects {
		name, _, _ := unstructured.NestedString(o, "metadata", "name")
		namespace := objectNamespace(o, u.namespace)
		self := fmt.Sprintf("%v %s", o["kind"], name)
		if o["kind"] == "CustomResourceDefinition" {
			continue // its schema names fields, not objects
		}
		first := len(out)
		api, _ := o["apiVersion"].(string)
		gvk := schema.FromAPIVersionAndKind(api, fmt.Sprint(o["kind"]))
		if !builtinAPIs[api] {
			out = append(out, reference{kind: crdKind, name: gvk.Group + "/" + gvk.Kind, where: self})
		}
		resource, _ := meta.UnsafeGuessKindToResource(gvk)
		for _, g := range []string{gvk.Group, "*"} {
			for _, r := range []string{resource.Resource, "*"} {
				out = append(out, reference{kind: admissionKind, name: g + "/" + r, where: self})
			}
		}
		annotations, _, _ := unstructured.NestedStringMap(o, "metadata", "annotations")
		if c := annotations["kubernetes.io/ingress.class"]; c != "" {
			out = append(out, reference{kind: "IngressClass", name: c, where: self + " annotation kubernetes.io/ingress.class"})
		}
		if c := annotations["cert-manager.io/cluster-issuer"]; c != "" {
			out = append(out, reference{kind: "ClusterIssuer", name: c, where: self + " annotation cert-manager.io/cluster-issuer"})
		}
		if c := annotations["cert-manager.io/issuer"]; c != "" {
			out = append(out, reference{kind: "Issuer", namespace: namespace, name: c, where: self + " annotation cert-manager.io/issuer"})
		}
		walk(o, "", func(path string, m map[string]any) {
			at := self + " " + path
			if c, ok := m["storageClassName"].(string); ok && c != "" {
				out = append(out, reference{kind: "StorageClass", name: c, where: at + ".storageClassName"})
			}
			if _, named := m["storageClassName"]; !named && claimsDefaultClass(o, path, m) {
				out = append(out, reference{kind: "StorageClass", name: defaultClass, where: at + " (no storageClassName)"})
			}
			if c, ok := m["ingressClassName"].(string); ok && c != "" {
				out = append(out, reference{kind: "IngressClass", name: c, where: at + ".ingressClassName"})
			}
			if ref, ok := m["issuerRef"].(map[string]any); ok {
				kind, _ := ref["kind"].(string)
				name, _ := ref["name"].(string)
				switch {
				case name == "":
				case kind == "ClusterIssuer":
					out = append(out, reference{kind: kind, name: name, where: at + ".issuerRef"})
				case kind == "" || kind == "Issuer":
					out = append(out, reference{kind: "Issuer", namespace: namespace, name: name, where: at + ".issuerRef"})
				}
			}
			if _, ok := m["containers"].([]any); ok {
				out = append(out, podSecrets(m, namespace, at)...)
			}
		})
		for i := first; i < len(out); i++ {
			out[i].byKind, out[i].byName = fmt.Sprint(o["kind"]), name
		}
	}
	return out
}

// defaultClass names, in a reference, the cluster's default StorageClass
// (the one whose defaultClassAnnotation is "true"), which a claim that
// names no class takes.
const (
	defaultClass           = "(the default class)"
	defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"
)

// claimsDefaultClass says whether the map m at path of object o is a
// volume claim that names no StorageClass: a PersistentVolumeClaim's
// spec, a StatefulSet's claim template's, a RabbitmqCluster's
// persistence or a PerconaXtraDBCluster's volume spec's claim (their
// operators make the claims from them). Kubernetes gives
// such a claim the default class once there is one, retroactively; but
// the unit waits for the object to be ready, within its timeout, so the
// class must come first. A claim of class "" (no class at all) is none.
func claimsDefaultClass(o map[string]any, path string, m map[string]any) bool {
	switch {
	case o["kind"] == "RabbitmqCluster" && path == ".spec.persistence":
		return true
	case o["kind"] == "PersistentVolumeClaim" && path == ".spec":
		return true
	case o["kind"] == "PerconaXtraDBCluster" && strings.HasSuffix(path, ".volumeSpec.persistentVolumeClaim"):
		return true
	case o["kind"] == "StatefulSet" && strings.HasPrefix(path, ".spec.volumeClaimTemplates[") && strings.HasSuffix(path, "].spec"):
		return true
	}
	return false
}

// podSecrets are the Secrets a pod spec mounts or reads, but for the
// optional ones: the pod starts without them.
func podSecrets(spec map[string]any, namespace, at string) []reference {
	var out []reference
	add := func(name any, optional any, where string) {
		if n, _ := name.(string); n != "" && optional != true {
			out = append(out, reference{kind: "Secret", namespace: namespace, name: n, where: at + where})
		}
	}
	for _, v := range list(spec["volumes"]) {
		if s, ok := v["secret"].(map[string]any); ok {
			add(s["secretName"], s["optional"], fmt.Sprintf(" volume %v", v["name"]))
		}
		if p, ok := v["projected"].(map[string]any); ok {
			for _, src := range list(p["sources"]) {
				if s, ok := src["secret"].(map[string]any); ok {
					add(s["name"], s["optional"], fmt.Sprintf(" volume %v", v["name"]))
				}
			}
		}
	}
	for _, key := range []string{"initContainers", "containers"} {
		for _, c := range list(spec[key]) {
			for _, e := range list(c["env"]) {
				if ref, _, _ := unstructured.NestedMap(e, "valueFrom", "secretKeyRef"); ref != nil {
					add(ref["name"], ref["optional"], fmt.Sprintf(" container %v env %v", c["name"], e["name"]))
				}
			}
			for _, e := range list(c["envFrom"]) {
				if ref, ok := e["secretRef"].(map[string]any); ok {
					add(ref["name"], ref["optional"], fmt.Sprintf(" container %v envFrom", c["name"]))
				}
			}
		}
	}
	return out
}

// strs is the strings of a YAML list (none for anything else).
func strs(v any) []string {
	var out []string
	items, _ := v.([]any)
	for _, i := range items {
		if s, ok := i.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// list is the maps of a YAML list (none for anything else).
func list(v any) []map[string]any {
	var out []map[string]any
	items, _ := v.([]any)
	for _, i := range items {
		if m, ok := i.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// walk calls f with every map under v and its path, v's own first.
func walk(v any, path string, f func(path string, m map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		f(path, x)
		for _, k := range slices.Sorted(maps.Keys(x)) {
			walk(x[k], path+"."+k, f)
		}
	case []any:
		for i, e := range x {
			walk(e, fmt.Sprintf("%s[%d]", path, i), f)
		}
	}
}

// TestNamesOfAnObject checks what names() finds in one object of a unit
// of namespace "ns" (of the admission webhooks, only the Ingress's own
// group and resource are shown), and providedBy in one provider.
func TestNamesOfAnObject(t *testing.T) {
	pod := func(spec string) string {
		return "{apiVersion: apps/v1, kind: Deployment, metadata: {name: d}, spec: {template: {spec: " + spec + "}}}"
	}
	for _, tc := range []struct {
		name, object string
		want         []string
	}{
		{"a claim's class", "{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: c}, spec: {storageClassName: general}}",
			[]string{"StorageClass general"}},
		{"no class at all is no name", "{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: c}, spec: {storageClassName: ''}}", nil},
		{"a claim without a class takes the default", "{apiVersion: v1, kind: PersistentVolumeClaim, metadata: {name: c}, spec: {accessModes: [ReadWriteOnce]}}",
			[]string{"StorageClass (the default class)"}},
		{"a RabbitMQ cluster's persistence", "{apiVersion: rabbitmq.com/v1beta1, kind: RabbitmqCluster, metadata: {name: r}, spec: {persistence: {storage: 10Gi}}}",
			[]string{"CustomResourceDefinition of rabbitmq.com/RabbitmqCluster", "StorageClass (the default class)"}},
		{"a Percona XtraDB cluster's volume spec", "{apiVersion: pxc.percona.com/v1, kind: PerconaXtraDBCluster, metadata: {name: p}, spec: {pxc: {volumeSpec: {persistentVolumeClaim: {resources: {}}}}}}",
			[]string{"CustomResourceDefinition of pxc.percona.com/PerconaXtraDBCluster", "StorageClass (the default class)"}},
		{"a StatefulSet's claim templates", "{apiVersion: apps/v1, kind: StatefulSet, metadata: {name: s}, spec: {volumeClaimTemplates: [{spec: {storageClassName: general}}]}}",
			[]string{"StorageClass general"}},
		{"an Ingress's class and issuer", "{apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: i, annotations: {cert-manager.io/cluster-issuer: atmosphere, kubernetes.io/ingress.class: old}}, spec: {ingressClassName: atmosphere}}",
			[]string{"admission webhook of networking.k8s.io/ingresses", "IngressClass old", "ClusterIssuer atmosphere", "IngressClass atmosphere"}},
		{"a custom resource and its issuer", "{apiVersion: cert-manager.io/v1, kind: Certificate, metadata: {name: c, namespace: other}, spec: {issuerRef: {name: ca}}}",
			[]string{"CustomResourceDefinition of cert-manager.io/Certificate", "Issuer other/ca"}},
		{"a CRD's schema names nothing", "{apiVersion: apiextensions.k8s.io/v1, kind: CustomResourceDefinition, metadata: {name: x}, spec: {versions: [{schema: {storageClassName: {type: string}}}]}}", nil},
		{"a pod's Secrets", pod("{containers: [{name: c, env: [{name: E, valueFrom: {secretKeyRef: {name: env}}}], envFrom: [{secretRef: {name: from}}]}], volumes: [{name: v, secret: {secretName: vol}}, {name: p, projected: {sources: [{secret: {name: proj}}]}}]}"),
			[]string{"Secret ns/vol", "Secret ns/proj", "Secret ns/env", "Secret ns/from"}},
		{"optional Secrets are no need", pod("{containers: [{name: c, envFrom: [{secretRef: {name: from, optional: true}}]}], volumes: [{name: v, secret: {secretName: vol, optional: true}}]}"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o map[string]any
			if err := yaml.Unmarshal([]byte(tc.object), &o); err != nil {
				t.Fatal(err)
			}
			u := &renderedUnit{key: "x:install", component: "x", namespace: "ns", objects: []map[string]any{o}}
			var got []string
			for _, r := range u.names() {
				if r.kind != admissionKind || r.name == "networking.k8s.io/ingresses" {
					got = append(got, r.key())
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("names: got %q, want %q", got, tc.want)
			}
		})
	}
	provider := &renderedUnit{key: "p:install", component: "p", namespace: "ns", objects: []map[string]any{
		{"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": map[string]any{"name": "general",
			"annotations": map[string]any{defaultClassAnnotation: "true"}}},
		{"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": map[string]any{"name": "c"}, "spec": map[string]any{"secretName": "tls"}},
		{"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": map[string]any{"name": "things.example.org"},
			"spec": map[string]any{"group": "example.org", "names": map[string]any{"kind": "Thing"}}},
	}}
	var hooks map[string]any
	if err := yaml.Unmarshal([]byte(`{apiVersion: admissionregistration.k8s.io/v1, kind: ValidatingWebhookConfiguration, metadata: {name: w}, webhooks: [
	  {name: a, rules: [{apiGroups: [networking.k8s.io], operations: [CREATE, UPDATE], resources: [ingresses, ingresses/status]}]},
	  {name: b, rules: [{apiGroups: ["*"], operations: ["*"], resources: ["*/*"]}]},
	  {name: c, failurePolicy: Ignore, rules: [{apiGroups: [apps], operations: [CREATE], resources: [deployments]}]},
	  {name: d, rules: [{apiGroups: [batch], operations: [DELETE], resources: [jobs]}]}]}`), &hooks); err != nil {
		t.Fatal(err)
	}
	provider.objects = append(provider.objects, hooks)
	got := slices.Sorted(maps.Keys(providedBy([]*renderedUnit{provider})))
	want := []string{"CustomResourceDefinition of example.org/Thing", "Secret ns/tls", "StorageClass (the default class)", "StorageClass general",
		"admission webhook of */*", "admission webhook of networking.k8s.io/ingresses"}
	if !slices.Equal(got, want) {
		t.Errorf("providedBy: got %q, want %q", got, want)
	}
}

// TestUnitsNeedTheSecretsTheirValuesRead renders the release values of
// every component of the fidelity inventory (with each network backend),
// recording the cluster's Secrets they read (Settings.ClusterSecret: the
// Percona XtraDB cluster's root password, a RabbitMQ cluster's default
// user), and fails for each such Secret that another unit's objects make
// when a unit that renders those values — the component's Helm phase, and
// its queue phase, which reads its grants from them — does not need that
// unit, directly or through others: the read would find no Secret. A
// Secret no unit's objects make (an operator makes it) is logged.
func TestUnitsNeedTheSecretsTheirValuesRead(t *testing.T) {
	for _, backend := range []string{"", components.BackendOVN} {
		st, _ := fidelitySettings(t, backend, "")
		units := renderUnits(t, st)
		providers := providedBy(units)
		g, err := components.Default().Graph(st.Config.Config, components.GraphOptions{})
		if err != nil {
			t.Fatal(err)
		}
		loader := chartLoader()
		read := map[string]bool{}
		fake := st.Config.ClusterSecret
		st.Config.ClusterSecret = func(name, key string) (string, error) {
			read[name] = true
			return fake(name, key)
		}
		checked := 0
		unmade := map[string]bool{}
		for _, c := range components.Default().Components() {
			if c.Chart == nil || !c.IsEnabled(st.Config.Config) {
				continue
			}
			ch, err := loader.Load(context.Background(), *c.Chart)
			if err != nil {
				t.Fatal(err)
			}
			clear(read)
			if _, err := st.Values(c, ch.Values); err != nil {
				t.Fatal(err)
			}
			for _, p := range c.Phases {
				if p.Kind != components.Helm && p.Kind != components.Queue {
					continue
				}
				unit := components.UnitKey(c.Name, p.Name)
				ancestors := g.Ancestors(unit)
				for _, name := range slices.Sorted(maps.Keys(read)) {
					from := providers["Secret openstack/"+name]
					if len(from) == 0 {
						unmade[name] = true
						continue
					}
					checked++
					if !slices.ContainsFunc(from, func(p string) bool {
						pc, _ := components.SplitUnit(p)
						return pc == c.Name || slices.Contains(ancestors, p)
					}) {
						t.Errorf("unit %s renders values that read Secret openstack/%s, made by %s, but does not (transitively) need it",
							unit, name, strings.Join(from, " or "))
					}
				}
			}
		}
		t.Logf("backend %q: %d reads checked; Secrets read that no unit's objects make: %s", backend, checked,
			strings.Join(slices.Sorted(maps.Keys(unmade)), ", "))
	}
}
