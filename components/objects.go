package components

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/dag"
)

// objectFiles are the components' static objects, <component>.objects.yaml:
// streams of Kubernetes objects their roles apply as they are.
//
//go:embed *.objects.yaml
var objectFiles embed.FS

// staticObjects returns the objects of <component>.objects.yaml, parsed
// anew (the caller may change them), in the file's order; none of them
// create-only or after the release until the caller says so.
func staticObjects(component string) ([]Object, error) {
	name := component + ".objects.yaml"
	raw, err := objectFiles.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("static objects of %s: %w", component, err)
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var out []Object
	for i := 0; ; i++ {
		var m map[string]any
		if err := dec.Decode(&m); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("%s object %d: %w", name, i, err)
		}
		if len(m) > 0 {
			out = append(out, object(m))
		}
	}
}

// object is the Object of a Kubernetes object's fields.
func object(m map[string]any) Object {
	return Object{Unstructured: &unstructured.Unstructured{Object: m}}
}

// objectList is the Objects of docs, in order.
func objectList(docs ...map[string]any) []Object {
	out := make([]Object, 0, len(docs))
	for _, d := range docs {
		out = append(out, object(d))
	}
	return out
}

// afterRelease marks every object of list as applied after the release.
func afterRelease(list []Object) []Object {
	for i := range list {
		list[i].AfterRelease = true
	}
	return list
}

// caIssuer is a CA certificate signed by the self-signed ClusterIssuer and
// an Issuer named issuer that signs with it, as the roles create for the
// TLS of valkey, libvirt and octavia.
func caIssuer(issuer, commonName, secret, algorithm string, size int) []Object {
	return objectList(
		map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
			"metadata": map[string]any{"name": secret},
			"spec": map[string]any{
				"commonName":  commonName,
				"isCA":        true,
				"duration":    "87600h0m0s",
				"renewBefore": "720h0m0s",
				"privateKey":  map[string]any{"algorithm": algorithm, "size": size},
				"issuerRef":   map[string]any{"group": "cert-manager.io", "kind": "ClusterIssuer", "name": "self-signed"},
				"secretName":  secret,
			}},
		map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "Issuer",
			"metadata": map[string]any{"name": issuer},
			"spec":     map[string]any{"ca": map[string]any{"secretName": secret}}},
	)
}

// rabbitmqCluster is the RabbitmqCluster of a chart, as atmosphere's
// rabbitmq role makes it, with the inventory's <chart>_rabbitmq_spec laid
// over the spec.
func rabbitmqCluster(s Settings, chart string) (Object, error) {
	r := &Render{Settings: s}
	spec, err := plain(values.Values{
		"delayStartSeconds": 0,
		"image":             r.image("rabbitmq_server").String(),
		"affinity":          controlPlaneAffinity,
		"override":          map[string]any{},
		"persistence":       map[string]any{"storage": "10Gi"},
		"rabbitmq": map[string]any{"additionalConfig": "deprecated_features.permit.management_metrics_collection = true\n" +
			"vm_memory_high_watermark.relative = 0.9\n"},
		"replicas":                      1,
		"resources":                     map[string]any{"requests": map[string]any{"cpu": "500m", "memory": "1Gi"}},
		"secretBackend":                 map[string]any{"externalSecret": map[string]any{"name": ""}},
		"service":                       map[string]any{"type": "ClusterIP"},
		"terminationGracePeriodSeconds": 15,
		"tls":                           map[string]any{},
	})
	if r.err != nil {
		return Object{}, r.err
	}
	if err != nil {
		return Object{}, err
	}
	return object(map[string]any{
		"apiVersion": "rabbitmq.com/v1beta1", "kind": "RabbitmqCluster",
		"metadata": map[string]any{"name": "rabbitmq-" + chart},
		"spec":     map[string]any(values.Merge(spec, r.copyOf(rabbitMQSpec(chart)))),
	}), nil
}

// rabbitmqSkipSpecDiff is the rabbitmq role's rabbitmq_skip_spec_diff:
// when true, a change of a RabbitMQ cluster's spec is accepted without
// confirmation; when false (the role's default) it is refused, with its
// diff, until the operator confirms it by setting the knob true
// (rabbitmqSpecGuard). Every component with a RabbitMQ cluster reads it.
var rabbitmqSkipSpecDiff = knob[bool]{name: "rabbitmq_skip_spec_diff", want: "true or false", conv: func(v any) (bool, bool) {
	x, ok := v.(bool)
	return x, ok
}}

// rabbitmqSpecGuard is the rabbitmq role's confirmation of a change of the
// spec of a chart's RabbitMQ cluster (its diff, then a pause): a deploy
// runs unattended, so a cluster in the cluster whose spec the rendered one
// changes is refused before anything is changed, the error listing each
// field that changes (from the live value to the rendered one), until
// rabbitmq_skip_spec_diff is true. Only the fields the rendered spec sets
// are compared: those the operator fills in itself are no change. A first
// install, and a cluster whose spec is unchanged, are not guarded.
func rabbitmqSpecGuard(chart string) UpgradeGuard {
	return UpgradeGuard{
		What:       "the spec change of RabbitMQ cluster rabbitmq-" + chart,
		APIVersion: "rabbitmq.com/v1beta1", Kind: "RabbitmqCluster", Name: "rabbitmq-" + chart,
		Changed: func(live, want *unstructured.Unstructured) bool {
			return len(rabbitmqSpecDiff(live, want)) > 0
		},
		Before: func(_ context.Context, _ Kube, live, want *unstructured.Unstructured) error {
			diff := rabbitmqSpecDiff(live, want)
			if len(diff) == 0 {
				return nil
			}
			return fmt.Errorf("RabbitmqCluster %s/%s: its spec would change:\n  %s\nset rabbitmq_skip_spec_diff: true to accept the change (the rabbitmq role's confirmation); nothing was changed",
				live.GetNamespace(), live.GetName(), strings.Join(diff, "\n  "))
		},
	}
}

// rabbitmqSpecDiff lists, sorted by path, each field the rendered object's
// spec sets whose value differs from the live object's ("spec.image:
// \"a\" -> \"b\""; a field the live spec lacks is "(unset)"). Values are
// compared as JSON, so that a number is the same whatever its Go type.
func rabbitmqSpecDiff(live, want *unstructured.Unstructured) []string {
	var out []string
	var walk func(path string, l, w any, lSet bool)
	walk = func(path string, l, w any, lSet bool) {
		if wm, ok := w.(map[string]any); ok {
			if lm, ok := l.(map[string]any); ok {
				for _, k := range slices.Sorted(maps.Keys(wm)) {
					lv, set := lm[k]
					walk(path+"."+k, lv, wm[k], set)
				}
				return
			}
		}
		if wm, ok := w.(map[string]any); ok && len(wm) == 0 && !lSet {
			return // an empty mapping the live spec leaves out is no change
		}
		wj, _ := json.Marshal(w)
		if !lSet {
			out = append(out, fmt.Sprintf("%s: (unset) -> %s", path, wj))
			return
		}
		lj, _ := json.Marshal(l)
		var lv, wv any
		_ = json.Unmarshal(lj, &lv)
		_ = json.Unmarshal(wj, &wv)
		if !reflect.DeepEqual(lv, wv) {
			out = append(out, fmt.Sprintf("%s: %s -> %s", path, lj, wj))
		}
	}
	l, lSet := live.Object["spec"]
	walk("spec", l, want.Object["spec"], lSet)
	return out
}

// rabbitmqClusterGuard is the rabbitmq role's step before an upgrade of
// the image of a chart's RabbitMQ cluster: every feature flag of the
// running cluster is enabled (rabbitmqctl enable_feature_flag all in its
// first pod), which the next RabbitMQ version may require. The cluster
// must be healthy first (its operator's AllReplicasReady and
// ClusterAvailable conditions), or nothing is touched.
func rabbitmqClusterGuard(chart string) UpgradeGuard {
	return UpgradeGuard{
		What:       "the image upgrade of RabbitMQ cluster rabbitmq-" + chart,
		APIVersion: "rabbitmq.com/v1beta1", Kind: "RabbitmqCluster", Name: "rabbitmq-" + chart,
		Version: func(u *unstructured.Unstructured) string {
			image, _, _ := unstructured.NestedString(u.Object, "spec", "image")
			return image
		},
		Before: rabbitmqBeforeUpgrade,
	}
}

// rabbitmqBeforeUpgrade refuses to upgrade a RabbitMQ cluster whose
// operator does not report it healthy, and enables all its feature flags.
func rabbitmqBeforeUpgrade(ctx context.Context, k Kube, live, want *unstructured.Unstructured) error {
	from, _, _ := unstructured.NestedString(live.Object, "spec", "image")
	to, _, _ := unstructured.NestedString(want.Object, "spec", "image")
	var bad []string
	for _, cond := range []string{"AllReplicasReady", "ClusterAvailable"} {
		if status, reason := conditionStatus(live, cond); status != "True" {
			bad = append(bad, strings.TrimSuffix(fmt.Sprintf("%s=%s %s", cond, status, reason), " "))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("RabbitmqCluster %s/%s is not healthy (%s): fix the cluster before its upgrade from %s to %s; nothing was changed",
			live.GetNamespace(), live.GetName(), strings.Join(bad, ", "), from, to)
	}
	pod := live.GetName() + "-server-0"
	command := []string{"rabbitmqctl", "enable_feature_flag", "all"}
	if _, stderr, err := k.Exec.Exec(ctx, live.GetNamespace(), pod, "rabbitmq", command); err != nil {
		return fmt.Errorf("enable the feature flags of RabbitmqCluster %s/%s before its upgrade to %s (%s in pod %s): %w%s",
			live.GetNamespace(), live.GetName(), to, strings.Join(command, " "), pod, err, stderrSuffix(stderr))
	}
	return nil
}

// conditionStatus is the status ("True", "False", "Unknown"; "missing"
// when it is not there) and reason of an object's condition.
func conditionStatus(u *unstructured.Unstructured, kind string) (status, reason string) {
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]any); ok && m["type"] == kind {
			status, _ = m["status"].(string)
			reason, _ = m["reason"].(string)
			return status, reason
		}
	}
	return "missing", ""
}

// stderrSuffix is a command's stderr, trimmed, for an error message.
func stderrSuffix(stderr string) string {
	if s := strings.TrimSpace(stderr); s != "" {
		return ": " + s
	}
	return ""
}

// imageTag is the tag of an image reference ("" for none).
func imageTag(image string) string {
	if i := strings.LastIndex(image, "@"); i >= 0 {
		image = image[:i]
	}
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return image[i+1:]
	}
	return ""
}

// pollUntil calls check every second or so until it says nothing is
// left to wait for (""), telling the run what it waits on; it ends with
// ctx, naming what it waited for and what was last missing, or at check's
// first error.
func pollUntil(ctx context.Context, what string, check func(context.Context) (string, error)) error {
	dag.ReporterFrom(ctx).Note(dag.Note{Waiting: what})
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		missing, err := check(ctx)
		if err != nil {
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		if missing == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %s: %w", what, missing, ctx.Err())
		case <-tick.C:
		}
	}
}

// Object is one object a component applies, as manifest.Object has it
// (the deployer converts one to the other): package components does not
// import package manifest, whose tests reach package components through
// the test environment (internal/testenv, internal/database).
type Object struct {
	*unstructured.Unstructured
	// CreateOnly objects are created when missing and never changed after
	// (generated passwords: a re-run must not roll them).
	CreateOnly bool
	// AfterRelease objects of a Helm component are applied after its
	// release, as a set of their own.
	AfterRelease bool
	// AwaitCRD, when set, names the CustomResourceDefinition an operator
	// that the component's other objects deploy creates when it runs (not
	// a chart's, not one of the component's own objects): the object is
	// applied after all the others, with the others that await a CRD, as
	// a set of their own (<component>-after-crd), once every CRD they
	// await is there and Established; the wait is bounded by the
	// component's timeout and, when it ends, fails naming the CRD.
	AwaitCRD string
	// Phase names the phase of the component that applies the object,
	// as a set of its own (<component>-<phase>), when it is not the
	// component's install phase (its RabbitMQ cluster: PhaseRabbitMQ).
	Phase string
}

// Objects returns the objects the component applies itself (none for
// most): its RabbitMQ cluster first (applied by PhaseRabbitMQ), then its
// own objects, then its public Ingresses. Their fields are in YAML's types (maps of string keys, lists
// of any, float64 numbers), as a parsed manifest has them.
func (c *Component) Objects(s Settings) ([]Object, error) {
	if c.objects == nil && c.rabbitMQCluster == "" && len(c.ingresses) == 0 {
		return nil, nil
	}
	var out []Object
	if c.rabbitMQCluster != "" {
		o, err := rabbitmqCluster(s, c.rabbitMQCluster)
		if err != nil {
			return nil, fmt.Errorf("RabbitMQ cluster of %s: %w", c.Name, err)
		}
		o.Phase = PhaseRabbitMQ
		out = append(out, o)
	}
	if c.objects != nil {
		own, err := c.objects(s)
		if err != nil {
			return nil, err
		}
		out = append(out, own...)
	}
	if len(c.ingresses) > 0 {
		ingresses, err := ingressObjects(s, c.Name, c.ingresses)
		if err != nil {
			return nil, err
		}
		out = append(out, ingresses...)
	}
	for i, o := range out {
		m, err := plain(values.Values(o.Object))
		if err != nil {
			return nil, fmt.Errorf("%s object %d: %w", c.Name, i, err)
		}
		out[i].Unstructured = &unstructured.Unstructured{Object: m}
	}
	return out, nil
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
