package secrets

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

func TestMain(m *testing.M) {
	testenv.Main(m)
}

var _ provision.Passwords = (*Store)(nil)

func TestGenerate(t *testing.T) {
	shape := regexp.MustCompile(`^[A-Za-z0-9]{32}$`)
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		s, err := Generate()
		if err != nil || !shape.MatchString(s) || seen[s] {
			t.Fatalf("%q err %v (seen before: %v)", s, err, seen[s])
		}
		seen[s] = true
		for _, c := range s {
			counts[c]++
		}
	}
	// 64,000 characters over 62: about 1,032 each; a biased draw would
	// give the first 8 characters a third more.
	for c, n := range counts {
		if n < 850 || n > 1250 {
			t.Errorf("%q drawn %d times out of 64000", c, n)
		}
	}
}

// TestStoreOnTheCluster: a secret is generated once, stored, and the same
// value comes back to a new store (a later run) and to a concurrent one;
// the inventory's value wins.
func TestStoreOnTheCluster(t *testing.T) {
	client, ns := testenv.KubeNamespace(t)
	ctx := context.Background()
	first := &Store{Client: client, Namespace: ns}
	glance, err := first.Password(ctx, "glance", "glance")
	if err != nil {
		t.Fatal(err)
	}
	again, err := first.Password(ctx, "glance", "glance")
	if err != nil || again != glance {
		t.Fatalf("second ask: %q err %v", again, err)
	}

	// Two later runs at once, each asking for every key.
	keys := []string{"keystone.glance", "keystone.nova", "keystone.neutron", "db.keystone", "rabbitmq.nova"}
	stores := []*Store{{Client: client, Namespace: ns}, {Client: client, Namespace: ns}}
	got := make([]map[string]string, len(stores))
	var wg sync.WaitGroup
	for i, s := range stores {
		got[i] = map[string]string{}
		wg.Go(func() {
			for _, k := range keys {
				v, err := s.Get(ctx, k)
				if err != nil {
					t.Error(err)
				}
				got[i][k] = v
			}
		})
	}
	wg.Wait()
	for _, k := range keys {
		if got[0][k] != got[1][k] || got[0][k] == "" {
			t.Errorf("%s: the runs disagree: %q / %q", k, got[0][k], got[1][k])
		}
	}
	if got[0]["keystone.glance"] != glance {
		t.Errorf("a later run got another glance password")
	}
	sec, err := client.CoreV1().Secrets(ns).Get(ctx, DefaultName, metav1.GetOptions{})
	if err != nil || len(sec.Data) != len(keys) {
		t.Fatalf("stored %d keys, want %d (err %v)", len(sec.Data), len(keys), err)
	}

	override := &Store{Client: client, Namespace: ns,
		Overrides: OverridesFrom(map[string]any{"openstack_helm_endpoints_glance_keystone_password": "from-the-inventory", "other": "x"})}
	if v, err := override.Password(ctx, "glance", "glance"); err != nil || v != "from-the-inventory" {
		t.Errorf("override: %q err %v", v, err)
	}
	if vals := stores[0].Values(); len(vals) != len(keys) || !slices.Contains(vals, glance) {
		t.Errorf("values: %d, want %d", len(vals), len(keys))
	}
}

func TestGenerateByKind(t *testing.T) {
	key, err := generate("nova_ssh_key")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ssh.ParsePrivateKey([]byte(key)); err != nil {
		t.Errorf("nova_ssh_key is not an SSH private key: %v", err)
	}
	other, err := generate("openstack_helm_endpoints_glance_mariadb_password")
	if err != nil || len(other) != Length || strings.ContainsAny(other, "-\n") {
		t.Errorf("a password = %q, %v", other, err)
	}
}

// Peek writes nothing, and the first Get stores what Peek made up.
func TestPeekThenGet(t *testing.T) {
	cs := kubernetes.NewForConfigOrDie(testenv.Kube(t))
	ns := testenv.Namespace(t, testenv.Kube(t))
	s := &Store{Client: cs, Namespace: ns, Name: "peek-test"}
	ctx := context.Background()
	peeked, err := s.Peek(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets(ns).Get(ctx, "peek-test", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("after Peek the Secret exists or cannot be read: %v", err)
	}
	if again, _ := s.Peek(ctx, "a"); again != peeked {
		t.Errorf("a second Peek made up another secret")
	}
	if !slices.Contains(s.Values(), peeked) {
		t.Error("a peeked secret is not among Values, which output is checked against")
	}
	got, err := s.Get(ctx, "a")
	if err != nil || got != peeked {
		t.Fatalf("Get = %q, %v; want what Peek made up", got, err)
	}
	other := &Store{Client: cs, Namespace: ns, Name: "peek-test"}
	if stored, err := other.Get(ctx, "a"); err != nil || stored != peeked {
		t.Errorf("stored %q, %v; want %q", stored, err, peeked)
	}
}

// TestStoreFindsBeforeGenerating: a key neither the inventory nor the
// Secret has is looked up in the running cloud (Find) before one is
// generated; Peek keeps what it found for the first Get, which stores it;
// a failed look-up generates nothing; each key's source is recorded.
func TestStoreFindsBeforeGenerating(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name      string
		stored    map[string][]byte
		overrides map[string]string
		find      Finder
		peek      bool
		want      string // "" for a generated one
		source    string
		err       string
		asked     int
	}{
		{name: "found by Get", find: foundIn("cloud-value"), want: "cloud-value", source: "release openstack/glance (p)", asked: 1},
		{name: "found by Peek, stored by Get", find: foundIn("cloud-value"), peek: true, want: "cloud-value", source: "release openstack/glance (p)", asked: 1},
		{name: "not found: generated", find: notFound, source: FromGenerated, asked: 1},
		{name: "no finder: generated", source: FromGenerated},
		{name: "stored: not looked up", stored: map[string][]byte{"k": []byte("stored-value")}, find: foundIn("cloud-value"), want: "stored-value", source: FromStore},
		{name: "the inventory's: not looked up", overrides: map[string]string{"k": "inventory-value"}, find: foundIn("cloud-value"), want: "inventory-value", source: FromInventory},
		{name: "look-up fails: nothing generated", find: failing, err: "look it up in the running cloud: API down", asked: 1},
		{name: "look-up fails on Peek", find: failing, peek: true, err: "look it up in the running cloud: API down", asked: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset()
			if tc.stored != nil {
				if _, err := client.CoreV1().Secrets("state").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: DefaultName, Namespace: "state"}, Data: tc.stored}, metav1.CreateOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			asked := 0
			var find Finder
			if tc.find != nil {
				find = func(ctx context.Context, key string) (string, string, bool, error) {
					asked++
					return tc.find(ctx, key)
				}
			}
			s := &Store{Client: client, Namespace: "state", Overrides: tc.overrides, Find: find}
			var got string
			var err error
			if tc.peek {
				if got, err = s.Peek(ctx, "k"); err == nil {
					// Nothing written by Peek.
					if _, gerr := client.CoreV1().Secrets("state").Get(ctx, DefaultName, metav1.GetOptions{}); !apierrors.IsNotFound(gerr) {
						t.Errorf("Peek wrote the Secret: %v", gerr)
					}
				}
			}
			if err == nil {
				var again string
				again, err = s.Get(ctx, "k")
				if tc.peek && err == nil && again != got {
					t.Errorf("Get = %q after Peek = %q", again, got)
				}
				got = again
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if sec, gerr := client.CoreV1().Secrets("state").Get(ctx, DefaultName, metav1.GetOptions{}); gerr == nil && len(sec.Data) > 0 {
					t.Errorf("stored %v after a failed look-up", slices.Collect(maps.Keys(sec.Data)))
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if tc.want != "" && got != tc.want || tc.want == "" && len(got) != Length {
					t.Errorf("Get = %q, want %q", got, tc.want)
				}
				if src := s.Source("k"); src != tc.source {
					t.Errorf("Source = %q, want %q", src, tc.source)
				}
				// Found or generated, it is in the Secret for the next run
				// (the inventory's is not).
				snap, err := s.Snapshot(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if _, inInventory := tc.overrides["k"]; !inInventory && snap["k"] != got {
					t.Errorf("the Secret holds %q, want %q", snap["k"], got)
				}
			}
			if asked != tc.asked {
				t.Errorf("Find asked %d times, want %d", asked, tc.asked)
			}
		})
	}
}

func foundIn(v string) Finder {
	return func(context.Context, string) (string, string, bool, error) {
		return v, "release openstack/glance (p)", true, nil
	}
}

func notFound(context.Context, string) (string, string, bool, error) { return "", "", false, nil }

func failing(context.Context, string) (string, string, bool, error) {
	return "", "", false, errors.New("API down")
}

func TestKeyVar(t *testing.T) {
	for _, name := range []string{"openstack_helm_endpoints_glance_keystone_password", "keycloak_admin_password", "openstack_helm_endpoints_glance_mariadb_password"} {
		if got := KeyVar(VarKey(name)); got != name {
			t.Errorf("KeyVar(VarKey(%s)) = %s", name, got)
		}
	}
}
