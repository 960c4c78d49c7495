// Package secrets keeps the secrets a deployment generates (database,
// message queue, keystone and keycloak passwords) in one Kubernetes Secret:
// made on first use when the inventory does not set them, stored before
// they are handed out, and reused by every later run. Values are never
// logged or printed; Values lists them so that output can be checked or
// redacted.
package secrets

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"golang.org/x/crypto/ssh"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
	"github.com/vexxhost/atmosphere-go/internal/sshkey"
)

// DefaultName is the Secret atmosphere keeps its generated secrets in.
const DefaultName = "atmosphere-secrets"

// Length is the length of a generated secret.
const Length = 32

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// Store hands out secrets by key, from the inventory when it sets them,
// else from the Secret, else newly generated and stored first. It is safe
// for concurrent use, and two processes sharing the Secret agree on every
// value (the Secret is updated with optimistic concurrency).
type Store struct {
	// Client and Namespace/Name locate the Secret.
	Client          kubernetes.Interface
	Namespace, Name string
	// Overrides are secrets the inventory sets, by key.
	Overrides map[string]string

	mu     sync.Mutex
	cached map[string]string
	// pending are secrets Peek made up that no Get has stored yet: the
	// first Get stores that same value.
	pending map[string]string
}

// Get returns the secret of key ("keystone.glance"; letters, digits, ".", "-" and "_", as Secret keys allow).
func (s *Store) Get(ctx context.Context, key string) (string, error) {
	if v, ok := s.known(key); ok {
		return v, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.cached[key]; ok {
		return v, nil
	}
	for attempt := 0; ; attempt++ {
		v, err := s.getOrCreate(ctx, key)
		if err == nil {
			return v, nil
		}
		if !apierrors.IsConflict(err) && !apierrors.IsAlreadyExists(err) || attempt >= 10 {
			return "", fmt.Errorf("secret %s in %s/%s: %w", key, s.Namespace, s.name(), err)
		}
		// Another run stored a secret meanwhile: read again.
	}
}

// Peek returns the secret of key as Get would, without writing anything:
// a secret not stored yet is made up and kept in memory, and the first Get
// of that key stores that same value. It lets a run render everything that
// needs secrets before it changes the cluster.
func (s *Store) Peek(ctx context.Context, key string) (string, error) {
	if v, ok := s.known(key); ok {
		return v, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.cached[key]; ok {
		return v, nil
	}
	if v, ok := s.pending[key]; ok {
		return v, nil
	}
	current, err := s.Client.CoreV1().Secrets(s.Namespace).Get(ctx, s.name(), metav1.GetOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("secret %s in %s/%s: %w", key, s.Namespace, s.name(), err)
	}
	if err == nil {
		s.remember(current.Data)
		if v, ok := current.Data[key]; ok {
			return string(v), nil
		}
	}
	v, err := generate(key)
	if err != nil {
		return "", err
	}
	if s.pending == nil {
		s.pending = map[string]string{}
	}
	s.pending[key] = v
	return v, nil
}

// known is the inventory's value of key, when it sets one.
func (s *Store) known(key string) (string, bool) {
	v, ok := s.Overrides[key]
	return v, ok && v != ""
}

func (s *Store) name() string {
	if s.Name == "" {
		return DefaultName
	}
	return s.Name
}

// getOrCreate reads the Secret; a missing key is generated and written
// back before it is returned.
func (s *Store) getOrCreate(ctx context.Context, key string) (string, error) {
	secrets := s.Client.CoreV1().Secrets(s.Namespace)
	current, err := secrets.Get(ctx, s.name(), metav1.GetOptions{})
	found := err == nil
	if err != nil && !apierrors.IsNotFound(err) {
		return "", err
	}
	if found {
		s.remember(current.Data)
		if v, ok := current.Data[key]; ok {
			return string(v), nil
		}
	}
	value, ok := s.pending[key]
	if !ok {
		if value, err = generate(key); err != nil {
			return "", err
		}
	}
	if !found {
		if err := kubeutil.EnsureNamespace(ctx, s.Client, s.Namespace); err != nil {
			return "", err
		}
		sec := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: s.name(), Namespace: s.Namespace,
				Labels: map[string]string{"app.kubernetes.io/managed-by": "atmosphere"}},
			Type: corev1.SecretTypeOpaque,
			Data: map[string][]byte{key: []byte(value)},
		}
		if _, err := secrets.Create(ctx, sec, metav1.CreateOptions{FieldManager: "atmosphere"}); err != nil {
			return "", err
		}
	} else {
		updated := current.DeepCopy()
		if updated.Data == nil {
			updated.Data = map[string][]byte{}
		}
		updated.Data[key] = []byte(value)
		// The resourceVersion read above makes a concurrent writer's
		// update a conflict instead of a lost secret.
		if _, err := secrets.Update(ctx, updated, metav1.UpdateOptions{FieldManager: "atmosphere"}); err != nil {
			return "", err
		}
	}
	s.remember(map[string][]byte{key: []byte(value)})
	delete(s.pending, key)
	return value, nil
}

func (s *Store) remember(data map[string][]byte) {
	if s.cached == nil {
		s.cached = map[string]string{}
	}
	for k, v := range data {
		s.cached[k] = string(v)
	}
}

// Values returns every secret the store has handed out or read, and the
// inventory's, for checking or redacting output.
func (s *Store) Values() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := maps.Clone(s.cached)
	if all == nil {
		all = map[string]string{}
	}
	for k, v := range s.Overrides {
		all["override/"+k] = v
	}
	for k, v := range s.pending {
		all["pending/"+k] = v
	}
	values := slices.Collect(maps.Values(all))
	slices.Sort(values)
	return slices.Compact(values)
}

// Password implements bootstrap.Passwords: the keystone password of a
// component's service user, keyed "keystone.<user>".
func (s *Store) Password(ctx context.Context, _, user string) (string, error) {
	return s.Get(ctx, "keystone."+user)
}

// SSHKeySuffix ends the key of every secret that is an SSH private key
// (nova_ssh_key, for migrations between hypervisors; manila_ssh_key, for
// its share servers; octavia_ssh_key, for the amphorae), as the roles name
// them.
const SSHKeySuffix = "_ssh_key"

// generate makes a new secret of the kind key holds.
func generate(key string) (string, error) {
	if strings.HasSuffix(key, SSHKeySuffix) {
		return GenerateSSHKey()
	}
	return Generate()
}

// GenerateSSHKey makes an Ed25519 private key in OpenSSH's PEM form.
func GenerateSSHKey() (string, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate an SSH key: %w", err)
	}
	block, err := ssh.MarshalPrivateKey(key, "atmosphere")
	if err != nil {
		return "", fmt.Errorf("generate an SSH key: %w", err)
	}
	return string(pem.EncodeToMemory(block)), nil
}

// PublicKey is the public key of an SSH private key in OpenSSH's PEM form,
// in authorized_keys form without a comment.
func PublicKey(private string) (string, error) { return sshkey.PublicKey(private) }

// Generate makes a random secret of Length characters from letters and
// digits (safe in URLs, DSNs and config files without quoting), each
// uniformly drawn.
func Generate() (string, error) {
	out := make([]byte, 0, Length)
	buf := make([]byte, Length*2)
	for len(out) < Length {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("generate a secret: %w", err)
		}
		for _, c := range buf {
			// Bytes past the largest multiple of the alphabet's size are
			// dropped, so no character is likelier than another.
			if int(c) < 256-256%len(alphabet) && len(out) < Length {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}

// VarKey is the key a secret inventory variable is kept under: a keystone
// user's password (openstack_helm_endpoints_<user>_keystone_password) under
// the key Password uses for that user ("keystone.<user>"), so that the
// charts' values and the keystone set-up agree; any other under its name.
func VarKey(name string) string {
	if user, ok := strings.CutPrefix(name, "openstack_helm_endpoints_"); ok {
		if user, ok = strings.CutSuffix(user, "_keystone_password"); ok {
			return "keystone." + user
		}
	}
	return name
}

// OverridesFrom takes the keystone passwords an inventory sets
// (openstack_helm_endpoints_<user>_keystone_password) as overrides keyed
// as Password keys them.
func OverridesFrom(vars map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range vars {
		user, ok := strings.CutPrefix(k, "openstack_helm_endpoints_")
		if !ok {
			continue
		}
		if user, ok = strings.CutSuffix(user, "_keystone_password"); ok {
			if s, ok := v.(string); ok && s != "" {
				out["keystone."+user] = s
			}
		}
	}
	return out
}
