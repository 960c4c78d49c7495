package kubephase

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/images"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

var (
	pxcGVR    = schema.GroupVersionResource{Group: "pxc.percona.com", Version: "v1", Resource: "perconaxtradbclusters"}
	rabbitGVR = schema.GroupVersionResource{Group: "rabbitmq.com", Version: "v1beta1", Resource: "rabbitmqclusters"}
)

// TestUpgradeGuards: the roles' upgrade guards on a kwok cluster with the
// stand-in operators' status. A first install and an unchanged version do
// no guard work; a RabbitMQ spec change (its new image) is refused with
// its diff, and nothing changed, until rabbitmq_skip_spec_diff is true;
// then a new version of a healthy cluster enables RabbitMQ's
// feature flags (the command recorded by the exec stand-in) before the
// new image is applied, and the Percona XtraDB cluster's unit ends only
// once the stand-in operator reports it ready at the new version; an
// unhealthy cluster fails its unit, naming the cluster and what is not
// healthy, and nothing is changed.
func TestUpgradeGuards(t *testing.T) {
	cfg := testenv.PrivateKube(t, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := testenv.StandIns(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(cfg)
	cs := kubernetes.NewForConfigOrDie(cfg)
	for _, gvk := range []schema.GroupVersionKind{
		{Group: "pxc.percona.com", Version: "v1", Kind: "PerconaXtraDBCluster"},
		{Group: "rabbitmq.com", Version: "v1beta1", Kind: "RabbitmqCluster"},
	} {
		if _, err := dyn.Resource(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}).
			Create(ctx, testenv.CRD(gvk), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "openstack"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	reg := components.Default()
	pxc, _ := reg.Get("percona-xtradb-cluster")
	barbican, _ := reg.Get("barbican")
	// percona-xtradb-cluster's objects, and barbican's RabbitMQ cluster
	// (its phase of its own).
	objectsOnly := components.Phase{Name: "install", Kind: components.Manifest}
	barbicanRabbitMQ, _ := barbican.Phase(components.PhaseRabbitMQ)
	phaseOf := map[*components.Component]components.Phase{pxc: objectsOnly, barbican: barbicanRabbitMQ}

	const (
		pxcOld, pxcNew        = "docker.io/percona/percona-xtradb-cluster:8.0.42-33.1", "docker.io/percona/percona-xtradb-cluster:8.0.43-34.1"
		rabbitOld, rabbitNew  = "docker.io/library/rabbitmq:4.1.4-management", "docker.io/library/rabbitmq:4.1.5-management"
		pxcNewer, rabbitNewer = "docker.io/percona/percona-xtradb-cluster:8.4.5-5.1", "docker.io/library/rabbitmq:4.2.0-management"
	)
	featureFlags := "openstack/rabbitmq-barbican-server-0/rabbitmq: rabbitmqctl enable_feature_flag all"
	steps := []struct {
		name            string
		pxcImage        string
		rabbitImage     string
		unhealthy       bool
		confirm         bool  // rabbitmq_skip_spec_diff: true
		execErr         error // what the exec stand-in fails with
		wantRan         []string
		wantPlan        []string // the guards each unit's plan names, in the order pxc, barbican
		wantErrs        []string // one per failing unit, in the order pxc, barbican
		wantPXCImage    string
		wantPXCVersion  string
		wantRabbitImage string
	}{
		{name: "install", pxcImage: pxcOld, rabbitImage: rabbitOld,
			wantPXCImage: pxcOld, wantPXCVersion: "8.0.42-33.1", wantRabbitImage: rabbitOld},
		{name: "unchanged", pxcImage: pxcOld, rabbitImage: rabbitOld,
			wantPXCImage: pxcOld, wantPXCVersion: "8.0.42-33.1", wantRabbitImage: rabbitOld},
		{name: "spec change not confirmed", pxcImage: pxcOld, rabbitImage: rabbitNew,
			wantPlan: []string{
				"the spec change of RabbitMQ cluster rabbitmq-barbican",
				"the image upgrade of RabbitMQ cluster rabbitmq-barbican: " + rabbitOld + " to " + rabbitNew,
			},
			wantErrs: []string{"barbican: the spec change of RabbitMQ cluster rabbitmq-barbican: RabbitmqCluster openstack/rabbitmq-barbican: its spec would change:\n" +
				"  spec.image: \"" + rabbitOld + "\" -> \"" + rabbitNew + "\"\nset rabbitmq_skip_spec_diff: true to accept the change (the rabbitmq role's confirmation); nothing was changed"},
			wantPXCImage: pxcOld, wantPXCVersion: "8.0.42-33.1", wantRabbitImage: rabbitOld},
		{name: "upgrade of healthy clusters", confirm: true, pxcImage: pxcNew, rabbitImage: rabbitNew, wantRan: []string{featureFlags},
			wantPlan: []string{
				"the version upgrade of the Percona XtraDB cluster: " + pxcOld + " to " + pxcNew,
				"the image upgrade of RabbitMQ cluster rabbitmq-barbican: " + rabbitOld + " to " + rabbitNew,
			},
			wantPXCImage: pxcNew, wantPXCVersion: "8.0.43-34.1", wantRabbitImage: rabbitNew},
		{name: "feature flags fail", confirm: true, pxcImage: pxcNew, rabbitImage: rabbitNewer, execErr: errors.New("command terminated with exit code 69"),
			wantRan:  []string{featureFlags},
			wantPlan: []string{"the image upgrade of RabbitMQ cluster rabbitmq-barbican: " + rabbitNew + " to " + rabbitNewer},
			wantErrs: []string{"barbican: the image upgrade of RabbitMQ cluster rabbitmq-barbican: enable the feature flags of RabbitmqCluster openstack/rabbitmq-barbican before its upgrade to " +
				rabbitNewer + " (rabbitmqctl enable_feature_flag all in pod rabbitmq-barbican-server-0): command terminated with exit code 69"},
			wantPXCImage: pxcNew, wantPXCVersion: "8.0.43-34.1", wantRabbitImage: rabbitNew},
		{name: "upgrade of unhealthy clusters", confirm: true, pxcImage: pxcNewer, rabbitImage: rabbitNewer, unhealthy: true,
			wantPlan: []string{
				"the version upgrade of the Percona XtraDB cluster: " + pxcNew + " to " + pxcNewer,
				"the image upgrade of RabbitMQ cluster rabbitmq-barbican: " + rabbitNew + " to " + rabbitNewer,
			},
			wantErrs: []string{
				"PerconaXtraDBCluster openstack/percona-xtradb is not healthy (state initializing, 2 of 3 members ready): fix the cluster before its upgrade from " + pxcNew + " to " + pxcNewer + "; nothing was changed",
				"RabbitmqCluster openstack/rabbitmq-barbican is not healthy (AllReplicasReady=False StandIn, ClusterAvailable=False StandIn): fix the cluster before its upgrade from " + rabbitNew + " to " + rabbitNewer + "; nothing was changed",
			},
			wantPXCImage: pxcNew, wantPXCVersion: "8.0.43-34.1", wantRabbitImage: rabbitNew},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			if step.unhealthy {
				makeUnhealthy(t, ctx, dyn)
			}
			table, err := images.New(images.Options{Overrides: map[string]string{
				"percona_xtradb_cluster": step.pxcImage, "rabbitmq_server": step.rabbitImage}})
			if err != nil {
				t.Fatal(err)
			}
			s := newStack(t, cfg, nil)
			s.Config.Images = table
			if step.confirm {
				vars := maps.Clone(s.Config.Vars)
				vars["rabbitmq_skip_spec_diff"] = true
				s.Config.Vars = vars
			}
			exec := &testenv.RecordedExec{Err: step.execErr}
			s.Cluster.Exec = exec
			var planned []string
			for _, c := range []*components.Component{pxc, barbican} {
				change, err := ManifestEngine{Stack: s}.Plan(ctx, c, phaseOf[c])
				if err != nil {
					t.Fatal(err)
				}
				for _, why := range change.Why {
					if strings.HasPrefix(why, "the ") {
						planned = append(planned, why)
					}
				}
			}
			if !slices.Equal(planned, step.wantPlan) {
				t.Errorf("plans name the guards %q, want %q", planned, step.wantPlan)
			}
			var errs []string
			for _, c := range []*components.Component{pxc, barbican} {
				if err := s.Deploy(ctx, c, phaseOf[c]); err != nil {
					errs = append(errs, err.Error())
				}
			}
			if len(errs) != len(step.wantErrs) {
				t.Errorf("errors %q, want %q", errs, step.wantErrs)
			}
			for i := range min(len(errs), len(step.wantErrs)) {
				if !strings.Contains(errs[i], step.wantErrs[i]) {
					t.Errorf("error %q, want it to say %q", errs[i], step.wantErrs[i])
				}
			}
			if ran := exec.Ran(); !slices.Equal(ran, step.wantRan) {
				t.Errorf("ran in the pods %q, want %q", ran, step.wantRan)
			}
			live, err := dyn.Resource(pxcGVR).Namespace("openstack").Get(ctx, "percona-xtradb", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			image, _, _ := unstructured.NestedString(live.Object, "spec", "pxc", "image")
			version, _, _ := unstructured.NestedString(live.Object, "status", "pxc", "version")
			if image != step.wantPXCImage || version != step.wantPXCVersion {
				t.Errorf("PerconaXtraDBCluster at image %s reporting version %q, want %s at %q", image, version, step.wantPXCImage, step.wantPXCVersion)
			}
			rabbit, err := dyn.Resource(rabbitGVR).Namespace("openstack").Get(ctx, "rabbitmq-barbican", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if image, _, _ := unstructured.NestedString(rabbit.Object, "spec", "image"); image != step.wantRabbitImage {
				t.Errorf("RabbitmqCluster at image %s, want %s", image, step.wantRabbitImage)
			}
		})
	}
}

// makeUnhealthy takes both clusters from their stand-in operators
// (testenv.StandInPaused) and writes the status a real operator writes of
// an unhealthy cluster: a PXC member down, RabbitMQ's replicas not ready.
func makeUnhealthy(t *testing.T, ctx context.Context, dyn dynamic.Interface) {
	t.Helper()
	for _, o := range []struct {
		gvr    schema.GroupVersionResource
		name   string
		status func(u *unstructured.Unstructured)
	}{
		{pxcGVR, "percona-xtradb", func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedField(u.Object, "initializing", "status", "state")
			_ = unstructured.SetNestedField(u.Object, int64(2), "status", "pxc", "ready")
		}},
		{rabbitGVR, "rabbitmq-barbican", func(u *unstructured.Unstructured) {
			_ = unstructured.SetNestedSlice(u.Object, []any{
				map[string]any{"type": "AllReplicasReady", "status": "False", "reason": "StandIn"},
				map[string]any{"type": "ClusterAvailable", "status": "False", "reason": "StandIn"},
			}, "status", "conditions")
		}},
	} {
		// Retried: the stand-in may write the object meanwhile.
		deadline := time.Now().Add(30 * time.Second)
		for {
			u, err := dyn.Resource(o.gvr).Namespace("openstack").Get(ctx, o.name, metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ann := u.GetAnnotations()
			if ann == nil {
				ann = map[string]string{}
			}
			ann[testenv.StandInPaused] = "true"
			u.SetAnnotations(ann)
			o.status(u)
			if _, err = dyn.Resource(o.gvr).Namespace("openstack").Update(ctx, u, metav1.UpdateOptions{}); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("make %s unhealthy: %v", o.name, err)
			}
		}
	}
}
