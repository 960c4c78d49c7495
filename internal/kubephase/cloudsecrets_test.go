package kubephase

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
	"github.com/vexxhost/atmosphere-go/internal/secrets"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestSecretOfAnObjectAnotherToolMade: on a cluster of its own, the
// Secret of the prometheus UI's oauth2-proxy cookie, as the roles made it
// (no release holds that secret), is where the secrets store takes the
// secret from when it has none: found, stored for the next run, its
// source named; a secret no object holds is generated.
func TestSecretOfAnObjectAnotherToolMade(t *testing.T) {
	cfg := testenv.PrivateKube(t, 1)
	ctx := t.Context()
	cs := kubernetes.NewForConfigOrDie(cfg)
	const cookie = "cookieTheRolesMadeLongAgo1234567"
	for _, ns := range []string{"monitoring", "atmosphere"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cs.CoreV1().Secrets("monitoring").Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "kube-prometheus-stack-prometheus-cookie-secret"},
		Data:       map[string][]byte{"password": []byte(cookie)}}, metav1.CreateOptions{FieldManager: "kubernetes.core.k8s"}); err != nil {
		t.Fatal(err)
	}
	f, err := helmrelease.NewFactory(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	kps, _ := components.Default().Get("kube-prometheus-stack")
	found := &CloudSecrets{Stack: placesStack(), Components: []*components.Component{kps},
		Releases: helmrelease.New(f, nil), Key: secrets.VarKey,
		Objects: LiveObjects{Dynamic: dynamic.NewForConfigOrDie(cfg), Mapper: f.Mapper()}}
	store := &secrets.Store{Client: cs, Namespace: "atmosphere", Find: found.Find}

	got, err := store.Get(ctx, "kube_prometheus_stack_prometheus_cookie_secret")
	if err != nil || got != cookie {
		t.Fatalf("Get = %q, %v; want the Secret's", got, err)
	}
	if src, want := store.Source("kube_prometheus_stack_prometheus_cookie_secret"),
		"object Secret/monitoring/kube-prometheus-stack-prometheus-cookie-secret (data.password)"; src != want {
		t.Errorf("source %q, want %q", src, want)
	}
	stored, err := store.Snapshot(ctx)
	if err != nil || stored["kube_prometheus_stack_prometheus_cookie_secret"] != cookie {
		t.Errorf("not stored for the next run (%v)", err)
	}
	if _, err := store.Get(ctx, "kube_prometheus_stack_alertmanager_cookie_secret"); err != nil {
		t.Fatal(err)
	}
	if src := store.Source("kube_prometheus_stack_alertmanager_cookie_secret"); src != secrets.FromGenerated {
		t.Errorf("alertmanager's cookie, which no object holds: source %q, want generated", src)
	}
}

var _ ReleaseReader = (*helmrelease.Deployer)(nil)

// fakeReleases are releases of a running cloud, held in memory.
type fakeReleases struct {
	deployed []helmrelease.DeployedRelease
	running  map[string]helmrelease.Running
	reads    []string
	lists    int
}

func (f *fakeReleases) DeployedReleases(context.Context) ([]helmrelease.DeployedRelease, error) {
	f.lists++
	return f.deployed, nil
}

func (f *fakeReleases) Running(_ context.Context, ns, name string) (helmrelease.Running, error) {
	f.reads = append(f.reads, ns+"/"+name)
	return f.running[ns+"/"+name], nil
}

func TestCloudSecrets(t *testing.T) {
	s := placesStack()
	ctx := context.Background()
	reg := components.Default()
	glance, _ := reg.Get("glance")
	keycloak, _ := reg.Get("keycloak")
	placement, _ := reg.Get("placement")
	// The cloud's glance holds the test settings' secrets, but for its
	// database password; keycloak is atmosphere's own.
	cfg, _ := s.lenient(false)
	rel, err := s.releaseWith(ctx, glance, cfg)
	if err != nil {
		t.Fatal(err)
	}
	cloudValues := rel.Values
	auth := cloudValues["endpoints"].(map[string]any)["oslo_db"].(map[string]any)["auth"].(map[string]any)
	auth["glance"] = map[string]any{"username": "glance", "password": "from-the-cloud"}
	releases := &fakeReleases{
		deployed: []helmrelease.DeployedRelease{
			{Namespace: glance.Namespace, Name: glance.Release, Revision: 1},
			{Namespace: keycloak.Namespace, Name: keycloak.Release, Revision: 4, Ours: true},
		},
		running: map[string]helmrelease.Running{
			glance.Namespace + "/" + glance.Release:     {Found: true, Config: cloudValues, Revision: 1},
			keycloak.Namespace + "/" + keycloak.Release: {Found: true, Config: map[string]any{"auth": map[string]any{"adminPassword": "kc"}}, Revision: 4, Ours: true},
		},
	}
	// Heat's deployed revision is another tool's, but atmosphere's
	// upgrade failed over it: atmosphere's now.
	heat, _ := reg.Get("heat")
	heatValues := map[string]any{"endpoints": map[string]any{"oslo_db": map[string]any{"auth": map[string]any{"heat": map[string]any{"password": "heat-db"}}}}}
	releases.deployed = append(releases.deployed, helmrelease.DeployedRelease{Namespace: heat.Namespace, Name: heat.Release, Revision: 1})
	releases.running[heat.Namespace+"/"+heat.Release] = helmrelease.Running{Found: true, Config: heatValues, Revision: 1, Ours: true}
	cs := &CloudSecrets{Stack: s, Components: []*components.Component{glance, keycloak, placement, heat}, Releases: releases}

	v, where, found, err := cs.Find(ctx, "openstack_helm_endpoints_glance_mariadb_password")
	if err != nil || !found || v != "from-the-cloud" ||
		where != "release openstack/glance (endpoints.oslo_db.auth.glance.password)" {
		t.Errorf("Find = %q, %q, %v, %v", v, where, found, err)
	}
	if v, _, found, _ := cs.Find(ctx, "openstack_helm_endpoints_heat_mariadb_password"); !found || v != "heat-db" {
		t.Errorf("heat's: %q, %v", v, found)
	}
	if v, _, found, _ := cs.Find(ctx, "keycloak_admin_password"); !found || v != "kc" {
		t.Errorf("keycloak's own release: %q, %v", v, found)
	}
	// Placement has no release: nothing to read.
	if _, _, found, err := cs.Find(ctx, "openstack_helm_endpoints_placement_mariadb_password"); found || err != nil {
		t.Errorf("placement: found %v, %v", found, err)
	}
	foreign, err := cs.Foreign(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range foreign {
		if f.Release != "openstack/glance" {
			t.Errorf("foreign secret of %s (atmosphere's own)", f.Release)
		}
	}
	if len(foreign) < 2 {
		t.Errorf("foreign = %v", foreign)
	}
	if none, err := cs.Foreign(ctx, func(release string) bool { return release != "openstack/glance" }); err != nil || len(none) > 0 {
		t.Errorf("foreign but glance's = %v, %v; want none", none, err)
	}
	if releases.lists != 1 || len(releases.reads) != 3 {
		t.Errorf("%d lists, reads %v: want one list and each release read once", releases.lists, releases.reads)
	}
	if !strings.Contains(fmt.Sprint(releases.reads), "keycloak") {
		t.Errorf("reads %v", releases.reads)
	}
}

// liveMap is a cluster's objects in memory, by "Kind/namespace/name".
type liveMap map[string]map[string]any

func (l liveMap) Live(_ context.Context, _, kind, namespace, name string) (map[string]any, bool, error) {
	obj, ok := l[kind+"/"+namespace+"/"+name]
	return obj, ok, nil
}

// TestForeignObjects: while a release of the cloud is another tool's (an
// adoption), the secrets of the components' live objects that another
// tool made (no atmosphere component label) are listed with where they
// are; an object atmosphere applied is not; on a cloud whose releases are
// all atmosphere's, no object is read.
func TestForeignObjects(t *testing.T) {
	ctx := context.Background()
	kps, _ := components.Default().Get("kube-prometheus-stack")
	const name = "Secret/monitoring/kube-prometheus-stack-prometheus-cookie-secret"
	secret := func(labels map[string]any) map[string]any {
		meta := map[string]any{"name": "kube-prometheus-stack-prometheus-cookie-secret", "namespace": "monitoring"}
		if labels != nil {
			meta["labels"] = labels
		}
		return map[string]any{"apiVersion": "v1", "kind": "Secret", "metadata": meta,
			"data": map[string]any{"password": base64.StdEncoding.EncodeToString([]byte("cookieOfTheRoles"))}}
	}
	for _, tc := range []struct {
		name    string
		ours    bool // the cloud's one release is atmosphere's
		labels  map[string]any
		want    []string
		noReads bool
	}{
		{name: "another tool's object while adopting", want: []string{"kube_prometheus_stack_prometheus_cookie_secret=cookieOfTheRoles at object " + name + " (data.password)"}},
		{name: "atmosphere's object", labels: map[string]any{manifest.LabelComponent: "kube-prometheus-stack"}},
		{name: "atmosphere's cloud", ours: true, noReads: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			live := liveMap{name: secret(tc.labels)}
			reads := 0
			reader := countingReader{live, &reads}
			releases := &fakeReleases{deployed: []helmrelease.DeployedRelease{{Namespace: "monitoring", Name: "kube-prometheus-stack", Revision: 1, Ours: tc.ours}}}
			cs := &CloudSecrets{Stack: placesStack(), Components: []*components.Component{kps}, Releases: releases, Objects: reader}
			found, err := cs.ForeignObjects(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range found {
				if f.Var == "kube_prometheus_stack_prometheus_cookie_secret" {
					got = append(got, f.Var+"="+f.Value+" at "+f.Where())
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("foreign objects' secrets %q, want %q", got, tc.want)
			}
			if tc.noReads && reads > 0 {
				t.Errorf("%d objects read on atmosphere's own cloud", reads)
			}
		})
	}
}

// countingReader is an ObjectReader that counts its reads.
type countingReader struct {
	live  liveMap
	reads *int
}

func (c countingReader) Live(ctx context.Context, apiVersion, kind, namespace, name string) (map[string]any, bool, error) {
	*c.reads++
	return c.live.Live(ctx, apiVersion, kind, namespace, name)
}
