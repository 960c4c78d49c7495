package action

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/secrets"
)

// TestRedactVaultValues: what a unit's error and the events say hides the
// values the inventory decrypted from ansible-vault, and the error still
// unwraps to the unit's own.
func TestRedactVaultValues(t *testing.T) {
	const plaintext = "vault-value-plaintext-Hk3pR9"
	c := New(Options{Inventory: "../testdata/inventories/vault", VaultPasswordFile: "../testdata/inventories/vault/test-vault-password"})
	if _, _, err := c.Settings(); err != nil {
		t.Fatal(err)
	}
	cause := errors.New("render glance: password " + plaintext + " refused")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"holds a decrypted value", cause, "render glance: password [vault-encrypted] refused"},
		{"holds none", errors.New("timed out"), "timed out"},
		{"a usage error stays one", &UsageError{Err: cause}, "render glance: password [vault-encrypted] refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := c.redacting(components.DeployerFunc(func(context.Context, *components.Component, components.Phase) error { return tt.err }))
			err := d.Deploy(context.Background(), nil, components.Phase{})
			if err.Error() != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("error %q (unwraps to the unit's: %v), want %q", err, errors.Is(err, tt.err), tt.want)
			}
			var ue *UsageError
			if errors.As(tt.err, &ue) && !errors.As(err, &ue) {
				t.Errorf("%v is no longer a UsageError (exit 2)", err)
			}
			var got deploy.Event
			c.redactingObserver(deploy.ObserverFunc(func(e deploy.Event) { got = e })).Observe(deploy.Event{Detail: tt.err.Error(), Error: tt.err.Error()})
			if got.Detail != tt.want || got.Error != tt.want {
				t.Errorf("event %+v, want %q", got, tt.want)
			}
		})
	}
	if c.redactingObserver(nil) != nil {
		t.Errorf("a nil observer is not nil")
	}
	if strings.Contains(c.redact(plaintext), plaintext) {
		t.Errorf("redact leaves the value")
	}
}

// TestDiffHidesSecretValues: a diff hides every secret the store knows,
// also inside a longer string, and leaves short values and other text.
func TestDiffHidesSecretValues(t *testing.T) {
	c := &Configuration{secrets: &secrets.Store{Overrides: map[string]string{
		"keystone_database_password": "s3cret-Db-pass-9Qx",
		"short":                      "abc",
	}}}
	for _, tc := range []struct{ in, want string }{
		{"+  connection: mysql+pymysql://keystone:s3cret-Db-pass-9Qx@db/keystone", "+  connection: mysql+pymysql://keystone:(hidden)@db/keystone"},
		{"-  password: s3cret-Db-pass-9Qx", "-  password: (hidden)"},
		{"+  name: abc", "+  name: abc"},
	} {
		if got := c.hideSecretValues(tc.in); got != tc.want {
			t.Errorf("hideSecretValues(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
