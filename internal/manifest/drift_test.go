package manifest

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func unstr(t *testing.T, text string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

// TestCompare: only the fields applied are compared; what the server adds
// (defaults, status, metadata) is not drift; a Secret's data is named by
// key, never shown.
func TestCompare(t *testing.T) {
	deployment := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, labels: {app: web}}
spec:
  replicas: 1
  template:
    spec:
      hostNetwork: false
      containers: [{name: web, image: "web:1", env: [{name: A, value: ""}], volumeMounts: []}]
`
	for _, tt := range []struct {
		name          string
		applied, live string
		want          []FieldDrift
	}{
		{"as applied, with the server's defaults and status", deployment, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, labels: {app: web, extra: x}, generation: 2, resourceVersion: "7", uid: u}
spec:
  replicas: 1
  progressDeadlineSeconds: 600
  template:
    spec:
      containers: [{name: web, image: "web:1", env: [{name: A}], imagePullPolicy: IfNotPresent}]
status: {replicas: 1}
`, nil},
		{"scaled, image changed, label changed", deployment, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, labels: {app: other}}
spec:
  replicas: 3
  template:
    spec:
      containers: [{name: web, image: "web:2", env: [{name: A}]}]
`, []FieldDrift{{Path: "metadata.labels.app", Applied: `"web"`, Live: `"other"`},
			{Path: "spec.replicas", Applied: "1", Live: "3"},
			{Path: "spec.template.spec.containers[0].image", Applied: `"web:1"`, Live: `"web:2"`}}},
		{"a container added", deployment, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, labels: {app: web}}
spec:
  replicas: 1
  template:
    spec:
      containers: [{name: web, image: "web:1"}, {name: side, image: "side:1"}]
`, []FieldDrift{{Path: "spec.template.spec.containers", Applied: `[{"env":[{"name":"A","value":""}],"image":"web:1","name":"web","volumeMounts":[]}]`,
			Live: `[{"image":"web:1","name":"web"},{"image":"side:1","name":"side"}]`}}},
		{"quantities in the server's canonical form", `{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {resources: {limits: {cpu: 1, memory: "1024Mi", x: "1000m"}}}}`,
			`{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {resources: {limits: {cpu: "1", memory: "1Gi", x: "1"}}}}`, nil},
		{"a ConfigMap key changed and one removed", `{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: "1", b.conf: "2"}}`,
			`{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, data: {a: "9", c: "3"}}`,
			[]FieldDrift{{Path: "data.a", Applied: `"1"`, Live: `"9"`}, {Path: `data["b.conf"]`, Applied: `"2"`}}},
		{"a Secret's stringData as data, by key only", `{apiVersion: v1, kind: Secret, metadata: {name: s}, stringData: {password: hunter2, user: admin}}`,
			`{apiVersion: v1, kind: Secret, metadata: {name: s}, data: {password: Y2hhbmdlZA==, user: YWRtaW4=}}`,
			[]FieldDrift{{Path: "data.password"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(unstr(t, tt.applied), unstr(t, tt.live))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Compare:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestFieldDriftString: the text of a drifted field; a Secret's never has
// a value.
func TestFieldDriftString(t *testing.T) {
	for _, tt := range []struct {
		f    FieldDrift
		want string
	}{
		{FieldDrift{Path: "spec.replicas", Applied: "1", Live: "3"}, "spec.replicas 1 → 3"},
		{FieldDrift{Path: "data.b", Applied: `"2"`}, `data.b "2" → (absent)`},
		{FieldDrift{Path: "data.password"}, "data.password changed"},
		{FieldDrift{Path: "data.x", Applied: `"` + `0123456789012345678901234567890123456789"`, Live: `"a"`},
			`data.x "012345678901234567890123456789012345678… → "a"`},
	} {
		if got := tt.f.String(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.f, got, tt.want)
		}
	}
}
