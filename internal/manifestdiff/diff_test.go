package manifestdiff

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/internal/golden"
)

// deployed is a release's manifest as Helm keeps it: documents headed by
// their template, a Secret with data and stringData.
const deployed = `---
# Source: probe/templates/configmap.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: probe-etc
  namespace: openstack
data:
  probe.conf: |
    [DEFAULT]
    debug = false
    workers = 4
  policy.yaml: "{}"
---
# Source: probe/templates/secret.yaml
apiVersion: v1
kind: Secret
metadata:
  name: probe-keystone
  namespace: openstack
type: Opaque
data:
  OS_USERNAME: ` + "cHJvYmU=" + `
  OS_PASSWORD: ` + "czNjcjN0LW9uZQ==" + `
stringData:
  db-password: plain-one
---
# Source: probe/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: probe-api
  namespace: openstack
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: api
        image: registry.example/probe:1.0
`

// The secret values of the fixtures: none may reach a diff, in plain or in
// base64.
var secretValues = []string{"s3cr3t-one", "s3cr3t-two", "plain-one", "plain-two"}

func TestManifests(t *testing.T) {
	tests := []struct {
		name   string
		wanted string
		// lines are the diff's changed lines (+ and -, headers left out),
		// in order; none when the diff must be empty.
		lines []string
	}{
		{name: "unchanged", wanted: deployed},
		{name: "unchanged, documents reordered", wanted: reorder(deployed)},
		{name: "one value", wanted: strings.Replace(deployed, "replicas: 1", "replicas: 3", 1),
			lines: []string{"-  replicas: 1", "+  replicas: 3"}},
		{name: "one line of a file in a ConfigMap", wanted: strings.Replace(deployed, "debug = false", "debug = true", 1),
			lines: []string{"-    debug = false", "+    debug = true"}},
		{name: "a Secret's key changed in data", wanted: strings.Replace(deployed, "czNjcjN0LW9uZQ==", b64("s3cr3t-two"), 1),
			lines: []string{"-  OS_PASSWORD: (hidden)", "+  OS_PASSWORD: (hidden, changed)"}},
		{name: "a Secret's key changed in stringData", wanted: strings.Replace(deployed, "plain-one", "plain-two", 1),
			lines: []string{"-  db-password: (hidden)", "+  db-password: (hidden, changed)"}},
		{name: "a Secret's key added", wanted: strings.Replace(deployed, "stringData:\n", "stringData:\n  api-key: plain-two\n", 1),
			lines: []string{"+  api-key: (hidden)"}},
		{name: "an object removed", wanted: deployed[:strings.Index(deployed, "---\n# Source: probe/templates/deployment.yaml")],
			lines: []string{"-apiVersion: apps/v1", "-kind: Deployment", "-metadata:", "-  name: probe-api", "-  namespace: openstack", "-spec:",
				"-  replicas: 1", "-  template:", "-    spec:", "-      containers:", "-      - image: registry.example/probe:1.0", "-        name: api"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Manifests(deployed, tt.wanted)
			if err != nil {
				t.Fatal(err)
			}
			if got := changed(d); strings.Join(got, "\n") != strings.Join(tt.lines, "\n") {
				t.Errorf("changed lines:\n%s\nwant:\n%s\nthe diff:\n%s", strings.Join(got, "\n"), strings.Join(tt.lines, "\n"), d)
			}
			noSecret(t, d)
		})
	}
}

// TestManifestsGolden: the text of a diff of every kind of change at once.
func TestManifestsGolden(t *testing.T) {
	wanted := strings.NewReplacer("replicas: 1", "replicas: 3", "czNjcjN0LW9uZQ==", b64("s3cr3t-two"),
		"# Source: probe/templates/deployment.yaml", "# Source: probe/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata: {name: probe, namespace: openstack}\nspec: {ports: [{port: 80}]}\n---").
		Replace(deployed)
	d, err := Manifests(deployed, wanted)
	if err != nil {
		t.Fatal(err)
	}
	noSecret(t, d)
	golden.Check(t, "manifests.diff", d)
	golden.Check(t, "manifests-colour.diff", Colour(d))
}

func TestValues(t *testing.T) {
	base := func() map[string]any {
		return map[string]any{
			"pod": map[string]any{"replicas": map[string]any{"api": 1}},
			"endpoints": map[string]any{"identity": map[string]any{"auth": map[string]any{
				"admin": map[string]any{"username": "admin", "password": "s3cr3t-one"}}}},
			"conf":  map[string]any{"users": []any{map[string]any{"name": "a", "secret_key": "plain-one"}}},
			"token": "s3cr3t-one",
		}
	}
	tests := []struct {
		name   string
		change func(map[string]any)
		lines  []string
	}{
		{name: "unchanged", change: func(map[string]any) {}},
		{name: "one value", change: func(v map[string]any) { v["pod"].(map[string]any)["replicas"].(map[string]any)["api"] = 2 },
			lines: []string{"-    api: 1", "+    api: 2"}},
		{name: "a password", change: func(v map[string]any) {
			v["endpoints"].(map[string]any)["identity"].(map[string]any)["auth"].(map[string]any)["admin"].(map[string]any)["password"] = "s3cr3t-two"
		}, lines: []string{"-        password: (hidden)", "+        password: (hidden, changed)"}},
		{name: "a secret in a list", change: func(v map[string]any) {
			v["conf"].(map[string]any)["users"].([]any)[0].(map[string]any)["secret_key"] = "plain-two"
		}, lines: []string{"-    secret_key: (hidden)", "+    secret_key: (hidden, changed)"}},
		{name: "a token added", change: func(v map[string]any) { v["conf"].(map[string]any)["token"] = "plain-two" },
			lines: []string{"+  token: (hidden)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wanted := base()
			tt.change(wanted)
			d, err := Values(base(), wanted)
			if err != nil {
				t.Fatal(err)
			}
			if got := changed(d); strings.Join(got, "\n") != strings.Join(tt.lines, "\n") {
				t.Errorf("changed lines:\n%s\nwant:\n%s\nthe diff:\n%s", strings.Join(got, "\n"), strings.Join(tt.lines, "\n"), d)
			}
			noSecret(t, d)
		})
	}
}

// TestColourOnlyMarksLines: colouring adds escapes and nothing else.
func TestColourOnlyMarksLines(t *testing.T) {
	d, err := Manifests(deployed, strings.Replace(deployed, "replicas: 1", "replicas: 3", 1))
	if err != nil {
		t.Fatal(err)
	}
	c := Colour(d)
	if !strings.Contains(c, "\x1b[31m-  replicas: 1\x1b[0m\n") || !strings.Contains(c, "\x1b[32m+  replicas: 3\x1b[0m\n") {
		t.Errorf("colour diff:\n%q", c)
	}
	for _, esc := range []string{"\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[1m", "\x1b[0m"} {
		c = strings.ReplaceAll(c, esc, "")
	}
	if c != d {
		t.Errorf("without its escapes the colour diff is\n%s\nwant\n%s", c, d)
	}
}

func TestManifestsBadDocument(t *testing.T) {
	for name, manifest := range map[string]string{
		"not YAML": "kind: [",
		"no name":  "apiVersion: v1\nkind: ConfigMap\n",
		"twice":    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := Manifests(deployed, manifest); err == nil || !strings.Contains(err.Error(), "the wanted manifest: document") {
				t.Errorf("error %v, want one naming the wanted manifest's document", err)
			}
		})
	}
}

// changed are the lines of a unified diff that add or remove, without its
// file headers.
func changed(diff string) []string {
	var out []string
	for _, l := range strings.Split(diff, "\n") {
		if strings.HasPrefix(l, "---") || strings.HasPrefix(l, "+++") {
			continue
		}
		if strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+") {
			out = append(out, l)
		}
	}
	return out
}

// noSecret fails when a secret value of the fixtures, or its base64, is in
// the diff.
func noSecret(t *testing.T, diff string) {
	t.Helper()
	for _, s := range secretValues {
		for _, form := range []string{s, b64(s), base64.RawStdEncoding.EncodeToString([]byte(s))} {
			if strings.Contains(diff, form) {
				t.Errorf("the diff shows the secret %q as %q:\n%s", s, form, diff)
			}
		}
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// reorder puts the documents of a manifest in reverse order.
func reorder(manifest string) string {
	docs := splitDocs(manifest)
	for i, j := 0, len(docs)-1; i < j; i, j = i+1, j-1 {
		docs[i], docs[j] = docs[j], docs[i]
	}
	return strings.Join(docs, "\n---\n")
}
