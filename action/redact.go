package action

import (
	"context"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/deploy"
)

// redact hides the values the inventory decrypted from ansible-vault in s
// (inventory.Inventory.Redact); s as it is before the inventory is loaded.
func (c *Configuration) redact(s string) string {
	if c.inventory == nil {
		return s
	}
	return c.inventory.Redact(s)
}

// redactedError is an error whose text had vault-decrypted values hidden;
// it unwraps to the error it hides them from.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactErr is err with the decrypted values hidden in its text; err
// itself when its text holds none.
func (c *Configuration) redactErr(err error) error {
	if err == nil {
		return nil
	}
	if msg := c.redact(err.Error()); msg != err.Error() {
		return &redactedError{msg: msg, err: err}
	}
	return err
}

// redacting is d whose errors (what the events and the timing report say
// of a failed unit) hide the decrypted values.
func (c *Configuration) redacting(d components.Deployer) components.Deployer {
	return components.DeployerFunc(func(ctx context.Context, comp *components.Component, p components.Phase) error {
		return c.redactErr(d.Deploy(ctx, comp, p))
	})
}

// redactingObserver is o receiving events whose detail and error hide the
// decrypted values; nil for nil.
func (c *Configuration) redactingObserver(o deploy.Observer) deploy.Observer {
	if o == nil {
		return nil
	}
	return deploy.ObserverFunc(func(e deploy.Event) {
		e.Detail, e.Error = c.redact(e.Detail), c.redact(e.Error)
		o.Observe(e)
	})
}
