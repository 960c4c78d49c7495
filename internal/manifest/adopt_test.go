package manifest

import (
	"context"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestApplyAdoptsWhatAnotherToolMade: objects another tool created (as
// the Ansible collection's kubernetes.core.k8s does, with the python
// client's field manager) are adopted when they hold what the set
// applies: only atmosphere's labels added, the rest as it was; one that
// differs, or whose label atmosphere's replaces, is changed.
func TestApplyAdoptsWhatAnotherToolMade(t *testing.T) {
	a, cs, ns := newApplier(t)
	ctx := context.Background()
	made := func(name string, data map[string]string, labels map[string]string) {
		t.Helper()
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: labels}, Data: data}
		if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{FieldManager: "OpenAPI-Generator"}); err != nil {
			t.Fatal(err)
		}
	}
	made("same", map[string]string{"a": "1"}, map[string]string{"team": "cloud"})
	made("other", map[string]string{"a": "2"}, nil)
	made("helm-labelled", map[string]string{"a": "1"}, map[string]string{LabelManagedBy: "Helm"})
	before, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "same", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	set := Set{Component: "demo", Namespace: ns, Timeout: time.Minute, Objects: []Object{
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: same, labels: {team: cloud}}\ndata: {a: '1'}"),
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other}\ndata: {a: '1'}"),
		obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: helm-labelled}\ndata: {a: '1'}"),
	}}
	adoptable := func(objs ...Object) bool {
		t.Helper()
		ok, err := a.Adoptable(ctx, Set{Component: "demo", Namespace: ns, Objects: objs})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !adoptable(set.Objects[0]) || adoptable(set.Objects...) || adoptable(set.Objects[1]) || adoptable(set.Objects[2]) {
		t.Errorf("adoptable before the apply: same %v, all %v, other %v, helm-labelled %v, want true, false, false, false",
			adoptable(set.Objects[0]), adoptable(set.Objects...), adoptable(set.Objects[1]), adoptable(set.Objects[2]))
	}
	res, err := a.Apply(ctx, set)
	if err != nil {
		t.Fatal(err)
	}
	if adoptable(set.Objects[0]) {
		t.Error("an object atmosphere applied is still adoptable")
	}
	adopted := "ConfigMap/" + ns + "/same"
	if !slices.Equal(res.Adopted, []string{adopted}) || len(res.Changed) != 2 || slices.Contains(res.Changed, adopted) {
		t.Errorf("apply over another tool's objects: adopted %v, changed %v", res.Adopted, res.Changed)
	}
	after, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "same", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.Data["a"] != "1" || after.Labels["team"] != "cloud" || after.Labels[LabelComponent] != "demo" || after.UID != before.UID {
		t.Errorf("adopted object: labels %v data %v", after.Labels, after.Data)
	}
	// Once atmosphere's, a re-run is as for any object of its own.
	res, err = a.Apply(ctx, set)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Adopted) != 0 || len(res.Changed) != 0 {
		t.Errorf("re-run: adopted %v, changed %v", res.Adopted, res.Changed)
	}
}

func TestSameContent(t *testing.T) {
	u := func(rv string, labels map[string]string, data string) *unstructured.Unstructured {
		o := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": map[string]any{"a": data}}}
		o.SetName("x")
		o.SetResourceVersion(rv)
		o.SetLabels(labels)
		return o
	}
	ours := map[string]string{LabelManagedBy: "atmosphere", LabelComponent: "demo"}
	tests := []struct {
		name          string
		before, after *unstructured.Unstructured
		want          bool
	}{
		{"our labels added", u("1", nil, "v"), u("2", ours, "v"), true},
		{"data changed", u("1", nil, "v"), u("2", ours, "w"), false},
		{"another tool's managed-by replaced", u("1", map[string]string{LabelManagedBy: "Helm"}, "v"), u("2", ours, "v"), false},
		{"a label of its own dropped", u("1", map[string]string{"team": "x"}, "v"), u("2", ours, "v"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameContent(tc.before, tc.after); got != tc.want {
				t.Errorf("sameContent = %v, want %v", got, tc.want)
			}
		})
	}
}
