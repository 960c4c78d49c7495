package helmrelease

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// kindChart is a chart whose one template is an object of kind, and whose
// crds/ holds crd when it is not nil.
func kindChart(t testing.TB, apiVersion, kind string, crd *unstructured.Unstructured) *chart.Chart {
	c := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "kinds", Version: "0.1.0"},
		Templates: []*chart.File{{Name: "templates/object.yaml", Data: []byte(
			"apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  round: {{ .Values.round }}\n")}},
	}
	if crd != nil {
		data, err := yaml.Marshal(crd.Object)
		if err != nil {
			t.Fatal(err)
		}
		c.Files = []*chart.File{{Name: "crds/crd.yaml", Data: data}}
	}
	return c
}

// TestDeployKindJustCreated installs releases whose template is an object
// of a kind whose CRD is created in the same instant, many times, so that
// the moment where the CRD exists but discovery does not serve it yet is
// met: Helm's build of the manifest must wait for the kind instead of
// failing with "no matches for kind". The CRD is created by the release's
// own crds/, or by another unit just before Helm builds the objects.
func TestDeployKindJustCreated(t *testing.T) {
	d, cfg := newDeployer(t)
	ns := testenv.Namespace(t, cfg)
	const rounds = 6
	for i := range rounds {
		t.Run(fmt.Sprintf("crds-%d", i), func(t *testing.T) {
			kind := testenv.NewKind("Race")
			testenv.DeleteCRDAtEnd(t, cfg, kind)
			r := Release{Name: fmt.Sprintf("crds-%d", i), Namespace: ns, Chart: kindChart(t, kind.GroupVersion().String(), kind.Kind, testenv.CRD(kind)),
				Values: map[string]any{"round": i}, Timeout: time.Minute}
			if _, err := d.Deploy(context.Background(), r); err != nil {
				t.Fatalf("install a release of the kind its crds/ just created: %v", err)
			}
		})
		t.Run(fmt.Sprintf("before-%d", i), func(t *testing.T) {
			kind := testenv.NewKind("Race")
			r := Release{Name: fmt.Sprintf("before-%d", i), Namespace: ns, Chart: kindChart(t, kind.GroupVersion().String(), kind.Kind, nil),
				Values: map[string]any{"round": i}, Timeout: time.Minute,
				BeforeChange: func(context.Context, kubernetes.Interface) error {
					testenv.CreateCRD(t, cfg, kind)
					return nil
				}}
			if _, err := d.Deploy(context.Background(), r); err != nil {
				t.Fatalf("install a release of a kind just created: %v", err)
			}
		})
	}
}

// TestDeployKindNothingProvides fails, naming the kind, without waiting for
// the release's timeout when no CRD and no API group provides the kind.
func TestDeployKindNothingProvides(t *testing.T) {
	d, cfg := newDeployer(t)
	ns := testenv.Namespace(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := Release{Name: "nothing", Namespace: ns, Chart: kindChart(t, "nothing.atmosphere.test/v1", "Nothing", nil), Values: map[string]any{"round": 0}, Timeout: 2 * time.Minute}
	_, err := d.Deploy(ctx, r)
	if err == nil || !strings.Contains(err.Error(), "Nothing") || !strings.Contains(err.Error(), "no matches for kind") {
		t.Fatalf("err = %v; want a no-match error naming the kind", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("waited for a kind nothing provides: %v", err)
	}
}
