package components

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// caIssuer is a CA certificate signed by the self-signed ClusterIssuer and
// an Issuer named issuer that signs with it, as the roles create for the
// TLS of valkey, libvirt and octavia.
func caIssuer(issuer, commonName, secret, algorithm string, size int) string {
	return fmt.Sprintf(`apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: %[3]s
spec:
  commonName: %[2]q
  isCA: true
  duration: 87600h0m0s
  renewBefore: 720h0m0s
  privateKey:
    algorithm: %[4]s
    size: %[5]d
  issuerRef:
    group: cert-manager.io
    kind: ClusterIssuer
    name: self-signed
  secretName: %[3]s
---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: %[1]s
spec:
  ca:
    secretName: %[3]s
`, issuer, commonName, secret, algorithm, size)
}

// rabbitmqCluster is the RabbitmqCluster of a chart, as atmosphere's
// rabbitmq role makes it, with the inventory's <chart>_rabbitmq_spec laid
// over the spec.
func rabbitmqCluster(s Settings, chart string) (string, error) {
	r := &Render{Settings: s}
	spec := r.parse(`
delayStartSeconds: 0
image: ` + inline(r.image("rabbitmq_server").String()) + `
affinity: ` + inline(controlPlaneAffinity) + `
override: {}
persistence:
  storage: 10Gi
rabbitmq:
  additionalConfig: |
    deprecated_features.permit.management_metrics_collection = true
    vm_memory_high_watermark.relative = 0.9
replicas: 1
resources:
  requests:
    cpu: 500m
    memory: 1Gi
secretBackend:
  externalSecret:
    name: ""
service:
  type: ClusterIP
terminationGracePeriodSeconds: 15
tls: {}
`)
	if r.err != nil {
		return "", r.err
	}
	spec = values.Merge(spec, r.mapKnob(chart+"_rabbitmq_spec"))
	raw, err := yaml.Marshal(map[string]any{
		"apiVersion": "rabbitmq.com/v1beta1", "kind": "RabbitmqCluster",
		"metadata": map[string]any{"name": "rabbitmq-" + chart}, "spec": spec,
	})
	return string(raw), err
}

// Object is one object a component applies, as manifest.Object has it
// (the deployer converts one to the other): package components does not
// import package manifest, whose tests reach package components through
// the test environment (internal/testenv, components/database).
type Object struct {
	*unstructured.Unstructured
	// CreateOnly objects are created when missing and never changed after
	// (generated passwords: a re-run must not roll them).
	CreateOnly bool
	// AfterRelease objects of a Helm component are applied after its
	// release, as a set of their own.
	AfterRelease bool
}

// Objects returns the objects the component applies itself (none for
// most): its RabbitMQ cluster first, then its own objects, then its public
// Ingresses.
func (c *Component) Objects(s Settings) ([]Object, error) {
	if c.objects == nil && c.rabbitMQCluster == "" && len(c.ingresses) == 0 {
		return nil, nil
	}
	var text string
	if c.objects != nil {
		var err error
		if text, err = c.objects(s); err != nil {
			return nil, err
		}
	}
	if c.rabbitMQCluster != "" {
		doc, err := rabbitmqCluster(s, c.rabbitMQCluster)
		if err != nil {
			return nil, fmt.Errorf("RabbitMQ cluster of %s: %w", c.Name, err)
		}
		text = doc + "\n---\n" + text
	}
	if len(c.ingresses) > 0 {
		docs, err := ingressDocs(s, c.Name, c.ingresses)
		if err != nil {
			return nil, err
		}
		text += "\n---\n" + docs
	}
	var out []Object
	for i, doc := range strings.Split(text, "\n---\n") {
		createOnly := strings.Contains(doc, "#create-only\n")
		after := strings.Contains(doc, "#after-release\n")
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			return nil, fmt.Errorf("%s object %d: %w", c.Name, i, err)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, Object{Unstructured: &unstructured.Unstructured{Object: m}, CreateOnly: createOnly, AfterRelease: after})
	}
	return out, nil
}

// joinDocs is the YAML stream of docs.
func joinDocs(docs []map[string]any) (string, error) {
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		raw, err := yaml.Marshal(d)
		if err != nil {
			return "", err
		}
		out = append(out, string(raw))
	}
	return strings.Join(out, "\n---\n"), nil
}

// afterRelease marks every document of a YAML stream "#after-release".
func afterRelease(stream string) string {
	docs := strings.Split(stream, "\n---\n")
	for i, d := range docs {
		docs[i] = "#after-release\n" + d
	}
	return strings.Join(docs, "\n---\n")
}

// convert decodes an inventory value into out (a struct with json tags),
// refusing unknown fields.
func convert(v any, out any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}

// indentLines indents every line of s by n spaces.
func indentLines(s string, n int) string {
	pad := strings.Repeat(" ", n)
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString(pad + line)
		}
	}
	return b.String()
}

// password returns n random letters and digits.
func password(n int) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("random password: %w", err)
		}
		for _, b := range buf {
			// 248 = 4*62: rejecting the rest keeps every letter equally likely.
			if b < 248 && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
