package secrets

import (
	"context"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

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
