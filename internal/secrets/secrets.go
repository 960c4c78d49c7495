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
// else from the Secret, else from the running cloud (Find), else newly
// generated; a value found or generated is stored first. It is safe for
// concurrent use, and two processes sharing the Secret agree on every
// value (the Secret is updated with optimistic concurrency). It records
// where each value it handed out came from (Source), never logging it.
type Store struct {
	// Client and Namespace/Name locate the Secret.
	Client          kubernetes.Interface
	Namespace, Name string
	// Overrides are secrets the inventory sets, by key.
	Overrides map[string]string
	// Find, when set, looks a key the Secret lacks up in the running
	// cloud before one is generated: its value and where it was found
	// ("release openstack/glance (endpoints.oslo_db.auth.glance.password)"),
	// found false when the cloud has none. An error fails the look-up
	// (nothing is generated: that could rotate a password in use). It is
	// called with the store locked: it must not call the store.
	Find Finder

	mu     sync.Mutex
	cached map[string]string
	// pending are secrets Peek made up or found that no Get has stored
	// yet: the first Get stores that same value.
	pending map[string]string
	// sources say where each key's value came from (Source).
	sources map[string]string
}

// Finder looks a secret up by key in the running cloud (Store.Find).
type Finder func(ctx context.Context, key string) (value, where string, found bool, err error)

// Where a value the store handed out came from (Store.Source), unless it
// was found in the running cloud: then Source is what Find said.
const (
	FromInventory = "inventory"
	FromStore     = "store"
	FromGenerated = "generated"
)

// Get returns the secret of key ("keystone.glance"; letters, digits, ".", "-" and "_", as Secret keys allow).
func (s *Store) Get(ctx context.Context, key string) (string, error) {
	if v, ok := s.known(key); ok {
		return v, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.cached[key]; ok {
		s.from(key, FromStore)
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
// a secret not stored yet is found in the running cloud (Find) or made up,
// and kept in memory, and the first Get of that key stores that same
// value. It lets a run render everything that needs secrets before it
// changes the cluster.
func (s *Store) Peek(ctx context.Context, key string) (string, error) {
	if v, ok := s.known(key); ok {
		return v, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if v, ok := s.cached[key]; ok {
		s.from(key, FromStore)
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
			s.sources[key] = FromStore
			return string(v), nil
		}
	}
	v, err := s.findOrGenerate(ctx, key)
	if err != nil {
		return "", err
	}
	if s.pending == nil {
		s.pending = map[string]string{}
	}
	s.pending[key] = v
	return v, nil
}

// Snapshot returns what the Secret holds, read once now (nothing the
// inventory sets, nothing only peeked at); empty when it is not there. It
// writes nothing.
func (s *Store) Snapshot(ctx context.Context) (map[string]string, error) {
	current, err := s.Client.CoreV1().Secrets(s.Namespace).Get(ctx, s.name(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the secrets store %s/%s: %w", s.Namespace, s.name(), err)
	}
	out := make(map[string]string, len(current.Data))
	for k, v := range current.Data {
		out[k] = string(v)
	}
	return out, nil
}

// Where names the Secret of the store ("the secrets store atmosphere/atmosphere-secrets").
func (s *Store) Where() string { return "the secrets store " + s.Namespace + "/" + s.name() }

// findOrGenerate is the value of a key the Secret lacks: the running
// cloud's (Find), else a new one; its source is recorded.
func (s *Store) findOrGenerate(ctx context.Context, key string) (string, error) {
	if s.Find != nil {
		v, where, found, err := s.Find(ctx, key)
		if err != nil {
			return "", fmt.Errorf("secret %s: look it up in the running cloud: %w", key, err)
		}
		if found {
			s.from(key, where)
			return v, nil
		}
	}
	v, err := generate(key)
	if err != nil {
		return "", err
	}
	s.from(key, FromGenerated)
	return v, nil
}

// from records where key's value came from, unless known already. Called
// with the store locked.
func (s *Store) from(key, where string) {
	if s.sources == nil {
		s.sources = map[string]string{}
	}
	if _, ok := s.sources[key]; !ok {
		s.sources[key] = where
	}
}

// Source says where the value the store handed out for key came from:
// FromInventory, FromStore, FromGenerated, or where Find found it; empty
// when the store has handed out none.
func (s *Store) Source(key string) string {
	if _, ok := s.known(key); ok {
		return FromInventory
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sources[key]
}

// Sources are the keys the store has handed out a value of (the
// inventory's aside), each with where it came from (Source).
func (s *Store) Sources() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.sources)
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
			s.sources[key] = FromStore
			return string(v), nil
		}
	}
	value, ok := s.pending[key]
	if !ok {
		if value, err = s.findOrGenerate(ctx, key); err != nil {
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
	if s.sources == nil {
		s.sources = map[string]string{}
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

// KeyVar is the inventory variable whose secret is kept under key: the
// inverse of VarKey.
func KeyVar(key string) string {
	if user, ok := strings.CutPrefix(key, "keystone."); ok {
		return "openstack_helm_endpoints_" + user + "_keystone_password"
	}
	return key
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
