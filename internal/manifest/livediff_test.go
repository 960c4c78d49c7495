package manifest

import (
	"context"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vexxhost/atmosphere-go/internal/manifestdiff"
)

// TestProject: the live side of a diff is the live object restricted to
// the fields applied declares, so that what the server sets does not show
// and what differs does; a Secret's data is named by key, never shown.
func TestProject(t *testing.T) {
	deployment := `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, labels: {app: web}}
spec:
  replicas: 1
  template:
    spec:
      hostNetwork: false
      containers: [{name: web, image: "web:1", env: [{name: A, value: ""}], resources: {limits: {cpu: 1000m}}}]
`
	for _, tt := range []struct {
		name          string
		applied, live string
		// diff has the lines the diff must hold, none when it must be
		// empty; hidden are strings it must not hold.
		diff, hidden []string
	}{
		{"server-set fields dropped", deployment, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, labels: {app: web, extra: x}, generation: 2, resourceVersion: "7", uid: u,
  creationTimestamp: "2026-01-01T00:00:00Z", managedFields: [{manager: atmosphere}]}
spec:
  replicas: 1
  progressDeadlineSeconds: 600
  template:
    spec:
      containers: [{name: web, image: "web:1", env: [{name: A}], imagePullPolicy: IfNotPresent, resources: {limits: {cpu: "1"}}}]
status: {replicas: 1}
`, nil, nil},
		{"a changed field shown", deployment, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, labels: {app: web}, uid: u}
spec:
  replicas: 3
  template:
    spec:
      containers: [{name: web, image: "web:2", env: [{name: A}], resources: {limits: {cpu: "1"}}}]
`, []string{"-  replicas: 3", "+  replicas: 1", "-        image: web:2", "+        image: web:1"}, []string{"uid"}},
		{"a list of another length shown whole", deployment, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, labels: {app: web}}
spec:
  replicas: 1
  template:
    spec:
      containers: [{name: web, image: "web:1"}, {name: side, image: "side:1", imagePullPolicy: Always}]
`, []string{"-      - image: side:1", "-        imagePullPolicy: Always"}, nil},
		{"a Secret's changed key named, no value", `apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: ns}
stringData: {token: "n3w-t0ken", user: admin}
`, `apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: ns, uid: u}
type: Opaque
data: {token: ` + base64.StdEncoding.EncodeToString([]byte("0ld-t0ken")) + `, user: ` + base64.StdEncoding.EncodeToString([]byte("admin")) + `}
`, []string{"+  token: " + manifestdiff.Changed, "-  token: " + manifestdiff.Hidden},
			[]string{"t0ken", base64.StdEncoding.EncodeToString([]byte("0ld-t0ken")), base64.StdEncoding.EncodeToString([]byte("n3w-t0ken")),
				"user: " + manifestdiff.Changed, "Opaque"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			applied := secretAsData(unstr(t, tt.applied))
			live := unstr(t, tt.live)
			before := live.DeepCopy()
			got := Project(applied, live)
			if !reflect.DeepEqual(live, before) {
				t.Errorf("Project changed the live object")
			}
			deployed, err := documents([]map[string]any{got.Object})
			if err != nil {
				t.Fatal(err)
			}
			wanted, err := documents([]map[string]any{applied.Object})
			if err != nil {
				t.Fatal(err)
			}
			diff, err := manifestdiff.Manifests(deployed, wanted)
			if err != nil {
				t.Fatal(err)
			}
			if len(tt.diff) == 0 && diff != "" {
				t.Errorf("diff, want none:\n%s", diff)
			}
			for _, l := range tt.diff {
				if !strings.Contains(diff, l+"\n") {
					t.Errorf("the diff has no line %q:\n%s", l, diff)
				}
			}
			for _, s := range tt.hidden {
				if strings.Contains(diff, s) {
					t.Errorf("the diff shows %q:\n%s", s, diff)
				}
			}
		})
	}
}

// TestManifestsOfASet: against a cluster, the diff of a set applied and
// then changed shows the changed field, an object not there all added, an
// object the set dropped all removed, a create-only object that is there
// unchanged, and none of what the server set; Manifests changes nothing.
func TestManifestsOfASet(t *testing.T) {
	a, cs, ns := newApplier(t)
	ctx := context.Background()
	config := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1', b: '2'}")
	dropped := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: old}\ndata: {x: 'y'}")
	deploy := appDeployment(t)
	secret := obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: passwords}\nstringData: {root: first-pass}")
	secret.CreateOnly = true
	set := Set{Component: "diffdemo", Namespace: ns, Objects: []Object{config, dropped, deploy, secret}, Timeout: 2 * time.Minute}
	if _, err := a.Apply(ctx, set); err != nil {
		t.Fatal(err)
	}
	diffOf := func(set Set) string {
		t.Helper()
		deployed, wanted, err := a.Manifests(ctx, set)
		if err != nil {
			t.Fatal(err)
		}
		d, err := manifestdiff.Manifests(deployed, wanted)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := diffOf(set); d != "" {
		t.Errorf("the diff of the set as applied, want none:\n%s", d)
	}

	changed := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1', b: '3'}")
	added := obj(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh}\ndata: {m: 'new'}")
	secret2 := obj(t, "apiVersion: v1\nkind: Secret\nmetadata: {name: passwords}\nstringData: {root: second-pass}")
	secret2.CreateOnly = true
	unserved := obj(t, "apiVersion: example.invalid/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 2}")
	set.Objects = []Object{changed, added, deploy, secret2, unserved}
	before, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d := diffOf(set)
	for _, want := range []string{
		"--- deployed ConfigMap " + ns + "/settings\n", "-  b: \"2\"\n", "+  b: \"3\"\n",
		"--- deployed ConfigMap " + ns + "/fresh (absent)\n", "+  m: new\n",
		"+++ wanted ConfigMap " + ns + "/old (absent)\n", "-  x: \"y\"\n",
		"--- deployed Widget w (absent)\n", "+  size: 2\n",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("the diff has no %q:\n%s", want, d)
		}
	}
	for _, not := range []string{"Deployment", "Secret", "resourceVersion", "uid", "managedFields", "status", "creationTimestamp"} {
		if strings.Contains(d, not) {
			t.Errorf("the diff shows %q:\n%s", not, d)
		}
	}
	after, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{})
	if err != nil || after.ResourceVersion != before.ResourceVersion {
		t.Errorf("Manifests changed the ConfigMap: %v", err)
	}
	if _, err := cs.CoreV1().ConfigMaps(ns).Get(ctx, "fresh", metav1.GetOptions{}); err == nil {
		t.Errorf("Manifests created the new ConfigMap")
	}
}
