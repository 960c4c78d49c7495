package action

import (
	"bytes"
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/vexxhost/atmosphere-go/charts"
	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
	"github.com/vexxhost/atmosphere-go/internal/kubephase"
	"github.com/vexxhost/atmosphere-go/internal/secrets"
	"github.com/vexxhost/atmosphere-go/inventory"
)

// cloudReleases are a running cloud's releases, in memory.
type cloudReleases map[string]helmrelease.Running

func (r cloudReleases) DeployedReleases(context.Context) ([]helmrelease.DeployedRelease, error) {
	var out []helmrelease.DeployedRelease
	for _, k := range []string{"openstack/glance", "openstack/heat"} {
		if run, ok := r[k]; ok {
			ns, name, _ := strings.Cut(k, "/")
			out = append(out, helmrelease.DeployedRelease{Namespace: ns, Name: name, Revision: run.Revision, Ours: run.Ours})
		}
	}
	return out, nil
}

func (r cloudReleases) Running(_ context.Context, ns, name string) (helmrelease.Running, error) {
	return r[ns+"/"+name], nil
}

// withPasswords are a chart's values holding a database password and
// memcached's secret key.
func withPasswords(user, db, memcache string, ours bool) helmrelease.Running {
	return helmrelease.Running{Found: true, Revision: 1, Ours: ours, Config: map[string]any{"endpoints": map[string]any{
		"oslo_db":    map[string]any{"auth": map[string]any{user: map[string]any{"username": user, "password": db}}},
		"oslo_cache": map[string]any{"auth": map[string]any{"memcache_secret_key": memcache}},
	}}}
}

// TestSecretProblems: a secret that a release another tool made, of a
// unit of the run, holds with another value than the inventory's (or, when
// it sets none, the store's) is a problem naming the variable, where each
// value is, and no value; atmosphere's own releases and the releases of
// units not run are not checked; two releases another tool made that
// disagree, nothing else setting the secret, are a warning.
func TestSecretProblems(t *testing.T) {
	const dbVar = "openstack_helm_endpoints_glance_mariadb_password"
	for _, tc := range []struct {
		name     string
		vars     map[string]any
		stored   map[string][]byte
		releases cloudReleases
		keys     []string
		want     []string // substrings of the one problem; none for no problem
		warning  string
	}{
		{name: "the inventory disagrees", vars: map[string]any{dbVar: "inventoryValue1"},
			releases: cloudReleases{"openstack/glance": withPasswords("glance", "cloudValue1", "m", false)}, keys: []string{"glance:install"},
			want: []string{"secret " + dbVar + ": the inventory's group_vars/all/secrets.yml sets a value other than the one release openstack/glance (endpoints.oslo_db.auth.glance.password) holds"}},
		{name: "the store disagrees", stored: map[string][]byte{dbVar: []byte("storedValue1")},
			releases: cloudReleases{"openstack/glance": withPasswords("glance", "cloudValue1", "m", false)}, keys: []string{"glance:install"},
			want: []string{"secret " + dbVar + ": the secrets store atmosphere/atmosphere-secrets sets a value other than"}},
		{name: "the inventory agrees", vars: map[string]any{dbVar: "cloudValue1"},
			releases: cloudReleases{"openstack/glance": withPasswords("glance", "cloudValue1", "m", false)}, keys: []string{"glance:install"}},
		{name: "atmosphere's own release: a rotation", vars: map[string]any{dbVar: "inventoryValue1"},
			releases: cloudReleases{"openstack/glance": withPasswords("glance", "cloudValue1", "m", true)}, keys: []string{"glance:install"}},
		{name: "glance not run", vars: map[string]any{dbVar: "inventoryValue1"},
			releases: cloudReleases{"openstack/glance": withPasswords("glance", "cloudValue1", "m", false)}, keys: []string{"heat:install"}},
		{name: "two releases disagree, nothing sets it", releases: cloudReleases{
			"openstack/glance": withPasswords("glance", "g", "memcacheOne1", false), "openstack/heat": withPasswords("heat", "h", "memcacheTwo2", false)},
			keys:    []string{"glance:install", "heat:install"},
			warning: "warning: secret openstack_helm_endpoints_memcached_secret_key: release openstack/glance (endpoints.oslo_cache.auth.memcache_secret_key) and release openstack/heat (endpoints.oslo_cache.auth.memcache_secret_key) hold different values; the first is taken\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset()
			if tc.stored != nil {
				if _, err := client.CoreV1().Secrets("atmosphere").Create(context.Background(), &corev1.Secret{
					ObjectMeta: metav1.ObjectMeta{Name: secrets.DefaultName}, Data: tc.stored}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			settings := components.DefaultSettings()
			settings.Vars = map[string]any{"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com", "openstack_helm_endpoints_region_name": "RegionOne"}
			settings.Secret = func(name string) (string, error) { return name, nil }
			settings.ClusterSecret = func(name, _ string) (string, error) {
				return "", apierrors.NewNotFound(schema.GroupResource{Resource: "secrets"}, name)
			}
			reg := components.Default()
			glance, _ := reg.Get("glance")
			heat, _ := reg.Get("heat")
			var warn bytes.Buffer
			c := &Configuration{registry: reg, warn: &warn,
				inventory: &inventory.Inventory{Vars: tc.vars, Sources: map[string]string{dbVar: "group_vars/all/secrets.yml"}},
				secrets:   &secrets.Store{Client: client, Namespace: "atmosphere"},
				cloudSecrets: &kubephase.CloudSecrets{Releases: tc.releases, Components: []*components.Component{glance, heat},
					Stack: &kubephase.Stack{Config: settings, Charts: &charts.Loader{Catalog: charts.Default(),
						Sources: []charts.Source{charts.DirSource{Dir: "../../shared/atmosphere/charts"}}}}}}
			problems, err := c.secretProblems(context.Background(), tc.keys)
			if err != nil {
				t.Fatal(err)
			}
			if len(tc.want) == 0 && len(problems) > 0 || len(tc.want) > 0 && len(problems) != 1 {
				t.Fatalf("problems %q, want %d", problems, min(len(tc.want), 1))
			}
			for _, w := range tc.want {
				if !strings.Contains(problems[0], w) {
					t.Errorf("problem %q does not say %q", problems[0], w)
				}
			}
			for _, p := range problems {
				for _, v := range []string{"inventoryValue1", "storedValue1", "cloudValue1"} {
					if strings.Contains(p, v) {
						t.Errorf("problem %q shows a value", p)
					}
				}
			}
			if warn.String() != tc.warning {
				t.Errorf("warnings %q, want %q", warn.String(), tc.warning)
			}
		})
	}
}

// TestSameSecret: an SSH private key with and without its last line break
// is one secret (the components add it); any other difference, and a line
// break of another secret, is a difference.
func TestSameSecret(t *testing.T) {
	const key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn\n-----END OPENSSH PRIVATE KEY-----"
	for _, tc := range []struct {
		name, v, a, b string
		want          bool
	}{
		{"a key with and without its line break", "nova_ssh_key", key, key + "\n", true},
		{"another key", "nova_ssh_key", key, strings.Replace(key, "b3Bl", "b3Bm", 1) + "\n", false},
		{"a password with a line break", "openstack_helm_endpoints_glance_mariadb_password", "p", "p\n", false},
		{"the same password", "openstack_helm_endpoints_glance_mariadb_password", "p", "p", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := sameSecret(tc.v, tc.a, tc.b); got != tc.want {
				t.Errorf("sameSecret = %v, want %v", got, tc.want)
			}
		})
	}
}
