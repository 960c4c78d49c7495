package manifest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestApplyKindJustCreated applies an object of a kind in the same instant
// its CRD is created, many times, so that the moment where the CRD exists
// but discovery does not serve it yet is met: each apply must wait for the
// kind instead of failing on it.
func TestApplyKindJustCreated(t *testing.T) {
	a, _, ns := newApplier(t)
	cfg := testenv.Kube(t)
	const rounds = 15
	for i := range rounds {
		kind := testenv.NewKind("Race")
		testenv.CreateCRD(t, cfg, kind)
		o := &unstructured.Unstructured{}
		o.SetGroupVersionKind(kind)
		o.SetName(fmt.Sprintf("race-%d", i))
		o.Object["spec"] = map[string]any{"round": int64(i)}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := a.Apply(ctx, Set{Component: fmt.Sprintf("race-%d", i), Namespace: ns, Objects: []Object{{Unstructured: o}}})
		cancel()
		if err != nil {
			t.Fatalf("round %d of %d: apply an object of the kind just created: %v", i+1, rounds, err)
		}
	}
}

// TestApplyKindNothingProvides fails at once, naming the kind, when no CRD
// and no API group provides it.
func TestApplyKindNothingProvides(t *testing.T) {
	a, _, ns := newApplier(t)
	o := &unstructured.Unstructured{}
	o.SetAPIVersion("nothing.atmosphere.test/v1")
	o.SetKind("Nothing")
	o.SetName("nothing")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, err := a.Apply(ctx, Set{Component: "nothing", Namespace: ns, Objects: []Object{{Unstructured: o}}})
	if err == nil || !strings.Contains(err.Error(), "Nothing") || !strings.Contains(err.Error(), "no matches for kind") {
		t.Fatalf("err = %v; want a no-match error naming the kind", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("waited for a kind nothing provides: %v", err)
	}
}
