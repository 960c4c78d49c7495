package manifest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

func TestMain(m *testing.M) {
	testenv.Main(m)
}

func obj(t testing.TB, doc string) Object {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	u.Object = wholeNumbers(u.Object).(map[string]any)
	return Object{Unstructured: u}
}

// wholeNumbers turns the float64s YAML decodes into the int64s the API
// server's JSON gives.
func wholeNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = wholeNumbers(x)
		}
	case []any:
		for i, x := range v {
			v[i] = wholeNumbers(x)
		}
	case float64:
		if v == float64(int64(v)) {
			return int64(v)
		}
	}
	return v
}

func TestReady(t *testing.T) {
	tests := []struct {
		name          string
		doc           string
		ready, failed bool
		reason        string
	}{
		{"deployment rolled out", "kind: Deployment\nmetadata: {generation: 2}\nspec: {replicas: 2}\nstatus: {observedGeneration: 2, updatedReplicas: 2, availableReplicas: 2}", true, false, ""},
		{"deployment stale", "kind: Deployment\nmetadata: {generation: 3}\nspec: {replicas: 2}\nstatus: {observedGeneration: 2, updatedReplicas: 2, availableReplicas: 2}", false, false, "not observed"},
		{"deployment short", "kind: Deployment\nmetadata: {generation: 1}\nspec: {replicas: 3}\nstatus: {observedGeneration: 1, updatedReplicas: 3, availableReplicas: 1}", false, false, "1 available"},
		{"statefulset updating", "kind: StatefulSet\nmetadata: {generation: 1}\nspec: {replicas: 1}\nstatus: {observedGeneration: 1, readyReplicas: 1, currentRevision: a, updateRevision: b}", false, false, "rolling update"},
		{"daemonset ready", "kind: DaemonSet\nmetadata: {generation: 1}\nstatus: {observedGeneration: 1, desiredNumberScheduled: 3, numberReady: 3, updatedNumberScheduled: 3}", true, false, ""},
		{"job failed", "kind: Job\nstatus: {conditions: [{type: Failed, status: 'True', reason: BackoffLimitExceeded}]}", false, true, "BackoffLimitExceeded"},
		{"job complete", "kind: Job\nstatus: {conditions: [{type: Complete, status: 'True'}]}", true, false, ""},
		{"pxc initializing", "kind: PerconaXtraDBCluster\nstatus: {state: initializing}", false, false, "initializing"},
		{"pxc ready", "kind: PerconaXtraDBCluster\nstatus: {state: ready}", true, false, ""},
		{"pxc error", "kind: PerconaXtraDBCluster\nstatus: {state: error, messages: [no quorum]}", false, true, "no quorum"},
		{"certificate without status", "kind: Certificate", false, false, "no Ready condition"},
		{"certificate issuing", "kind: Certificate\nstatus: {conditions: [{type: Ready, status: 'False', reason: Issuing}]}", false, false, "Issuing"},
		{"issuer ready", "kind: ClusterIssuer\nstatus: {conditions: [{type: Ready, status: 'True'}]}", true, false, ""},
		{"configmap", "kind: ConfigMap", true, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ready, reason, failed := Ready(obj(t, tt.doc).Unstructured)
			if ready != tt.ready || failed != tt.failed || !strings.Contains(reason, tt.reason) {
				t.Errorf("Ready = %v %q %v, want %v %q %v", ready, reason, failed, tt.ready, tt.reason, tt.failed)
			}
		})
	}
}

func newApplier(t *testing.T) (*Applier, kubernetes.Interface, string) {
	t.Helper()
	cfg := testenv.Kube(t)
	a, err := NewApplierForConfig(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Interval = 200 * time.Millisecond
	return a, a.clientset, testenv.Namespace(t, cfg)
}

// appDeployment is a Deployment of 2 replicas that kwok's nodes run.
func appDeployment(t testing.TB) Object {
	return obj(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  replicas: 2
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      nodeSelector: {openstack-control-plane: enabled}
      tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
      containers: [{name: app, image: registry.invalid/app:1}]`)
}

func TestApplyRerunPrune(t *testing.T) {
	a, cs, ns := newApplier(t)
	ctx := context.Background()
	name := "test-" + ns // cluster-scoped names must not collide between tests
	config := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1'}")
	role := obj(t, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: "+name+"}\nrules: []")
	deploy := appDeployment(t)
	secret := obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: passwords}\nstringData: {root: first}")
	secret.CreateOnly = true

	set := Set{Component: "demo", Namespace: ns, Objects: []Object{config, role, deploy, secret}, Timeout: 2 * time.Minute}
	if found, _, err := a.Applied(ctx, "demo", ns); err != nil || found {
		t.Fatalf("applied before the apply: %v %v", found, err)
	}
	res, err := a.Apply(ctx, set)
	if err != nil {
		t.Fatal(err)
	}
	if res.Applied != 4 || res.Created != 1 || len(res.Changed) != 4 {
		t.Errorf("first apply: %+v", res)
	}
	if found, n, err := a.Applied(ctx, "demo", ns); err != nil || !found || n != 4 {
		t.Errorf("applied: %v with %d objects, err %v", found, n, err)
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("a namespace-less object must land in the set's namespace: %v", err)
	}
	if len(cm.ManagedFields) == 0 || cm.ManagedFields[0].Manager != FieldManager || cm.Labels[LabelComponent] != "demo" {
		t.Errorf("managed fields %v labels %v", cm.ManagedFields, cm.Labels)
	}
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "app", metav1.GetOptions{})
	if err != nil || d.Status.AvailableReplicas != 2 {
		t.Errorf("deployment not waited for: %v %+v", err, d.Status)
	}

	// A re-run changes nothing, and keeps the generated secret.
	secret2 := obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: passwords}\nstringData: {root: second}")
	secret2.CreateOnly = true
	set.Objects = []Object{config, role, deploy, secret2}
	res, err = a.Apply(ctx, set)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Changed) != 0 || res.Pruned != 0 || res.Created != 0 {
		t.Errorf("re-run: %+v", res)
	}
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, "passwords", metav1.GetOptions{})
	if err != nil || string(s.Data["root"]) != "first" {
		t.Errorf("create-only secret changed: %v %q", err, s.Data["root"])
	}

	// Dropping objects from the set prunes them, cluster-scoped ones too.
	set.Objects = []Object{deploy, secret2}
	res, err = a.Apply(ctx, set)
	if err != nil {
		t.Fatal(err)
	}
	if res.Pruned != 2 {
		t.Errorf("prune: %+v", res)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("configmap not pruned: %v", err)
	}
	if _, err := cs.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("clusterrole not pruned: %v", err)
	}
}

func TestBadSetChangesNothing(t *testing.T) {
	a, cs, ns := newApplier(t)
	good := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fine}")
	unknown := obj(t, "apiVersion: example.invalid/v1\nkind: Nothing\nmetadata: {name: x}")
	nameless := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {}")
	_, err := a.Apply(context.Background(), Set{Component: "bad", Namespace: ns, Objects: []Object{good, unknown, nameless}})
	if err == nil || !strings.Contains(err.Error(), "Nothing") || !strings.Contains(err.Error(), "object 2") || !strings.Contains(err.Error(), "component bad") {
		t.Fatalf("err = %v", err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(context.Background(), "fine", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a bad set applied its good objects: %v", err)
	}
}

func TestFailedJobEndsTheWait(t *testing.T) {
	a, _, ns := newApplier(t)
	job := obj(t, fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: fails}
spec:
  backoffLimit: 0
  template:
    metadata: {annotations: {%s: container}}
    spec:
      restartPolicy: Never
      nodeSelector: {openstack-control-plane: enabled}
      tolerations: [{key: kwok.x-k8s.io/node, operator: Exists, effect: NoSchedule}]
      containers: [{name: run, image: registry.invalid/run:1}]`, testenv.FailAnnotation))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := a.Apply(ctx, Set{Component: "jobs", Namespace: ns, Objects: []Object{job}, Timeout: 10 * time.Minute})
	var failed *FailedError
	if !errors.As(err, &failed) || !strings.Contains(failed.Object, "Job.batch/"+ns+"/fails") {
		t.Fatalf("err = %v, want a FailedError on the Job", err)
	}
}

// TestRerunReusesWhatIsAsApplied re-runs a set: objects as atmosphere left
// them are read, not applied again; objects deleted or edited since, and
// objects whose rendering changed, are applied; an inventory without
// records (written before they were kept) applies everything once.
func TestRerunReusesWhatIsAsApplied(t *testing.T) {
	a, cs, ns := newApplier(t)
	ctx := context.Background()
	name := "reuse-" + ns
	config := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1'}")
	role := obj(t, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: "+name+"}\nrules: []")
	deploy := appDeployment(t)
	t.Cleanup(func() { _ = cs.RbacV1().ClusterRoles().Delete(context.Background(), name, metav1.DeleteOptions{}) })
	set := Set{Component: "reuse", Namespace: ns, Objects: []Object{config, role, deploy}, Timeout: 2 * time.Minute}
	apply := func(step string, reused int, changed ...string) {
		t.Helper()
		res, err := a.Apply(ctx, set)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		var got []string
		for _, c := range res.Changed {
			got = append(got, c[:strings.IndexByte(c, '/')])
		}
		if res.Applied != len(set.Objects) || res.Reused != reused || strings.Join(got, ",") != strings.Join(changed, ",") {
			t.Errorf("%s: %+v, want %d reused and changed %v", step, res, reused, changed)
		}
	}
	apply("first", 0, "ConfigMap", "ClusterRole.rbac.authorization.k8s.io", "Deployment.apps")
	// The Deployment's status moved since (its rollout): not an edit.
	apply("re-run", 3)

	// Edits and a deletion behind atmosphere's back are put right.
	d, err := cs.AppsV1().Deployments(ns).Get(ctx, "app", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	one := int32(1)
	d.Spec.Replicas = &one
	if _, err := cs.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["a"] = "edited"
	if _, err := cs.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := cs.RbacV1().ClusterRoles().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	apply("after edits", 0, "ConfigMap", "ClusterRole.rbac.authorization.k8s.io", "Deployment.apps")
	d, err = cs.AppsV1().Deployments(ns).Get(ctx, "app", metav1.GetOptions{})
	if err != nil || *d.Spec.Replicas != 2 {
		t.Errorf("deployment not put right: %v", err)
	}
	cm, err = cs.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil || cm.Data["a"] != "1" {
		t.Errorf("configmap not put right: %v %v", err, cm.Data)
	}

	// A changed rendering is applied; the rest is reused.
	set.Objects[0] = obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '2'}")
	apply("changed rendering", 2, "ConfigMap")

	// An inventory without records: everything is applied once (nothing
	// changes), and the records are kept from then on.
	inv, err := cs.CoreV1().Secrets(ns).Get(ctx, inventoryName("reuse"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var refs []ref
	if err := json.Unmarshal(inv.Data["objects"], &refs); err != nil {
		t.Fatal(err)
	}
	for i := range refs {
		if refs[i].Digest == "" {
			t.Errorf("%s: no record", refs[i])
		}
		refs[i].applied = applied{}
	}
	if inv.Data["objects"], err = json.Marshal(refs); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets(ns).Update(ctx, inv, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	apply("old inventory", 0)
	apply("after the old inventory", 3)
}

// TestObjectMovedToAnotherSetIsNotPruned: an object that a component's
// set held and that a set of another name (a phase of its own) now holds
// is left to that set when the first set is applied without it, keeps the
// owner's label, and is pruned once no set holds it.
func TestObjectMovedToAnotherSetIsNotPruned(t *testing.T) {
	a, cs, ns := newApplier(t)
	ctx := context.Background()
	moved := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cluster}\ndata: {a: '1'}")
	stays := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1'}")
	if _, err := a.Apply(ctx, Set{Component: "nova", Namespace: ns, Objects: []Object{moved, stays}}); err != nil {
		t.Fatal(err)
	}
	// As the new phase runs first: its set takes the object over.
	if _, err := a.Apply(ctx, Set{Component: "nova-rabbitmq", Owner: "nova", Namespace: ns, Objects: []Object{moved}}); err != nil {
		t.Fatal(err)
	}
	res, err := a.Apply(ctx, Set{Component: "nova", Namespace: ns, Objects: []Object{stays}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Pruned != 0 {
		t.Errorf("the set without the moved object pruned %d objects, want 0", res.Pruned)
	}
	cm, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "cluster", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the object the other set holds was deleted: %v", err)
	}
	if cm.Labels[LabelComponent] != "nova" {
		t.Errorf("label %s=%q, want the owner nova", LabelComponent, cm.Labels[LabelComponent])
	}
	// Dropped by the set that holds it now: pruned.
	res, err = a.Apply(ctx, Set{Component: "nova-rabbitmq", Owner: "nova", Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "cluster", metav1.GetOptions{}); res.Pruned != 1 || !apierrors.IsNotFound(err) {
		t.Errorf("dropped by its set: pruned %d, get: %v; want pruned 1, not found", res.Pruned, err)
	}
}
