// Package queue does the work an OpenStack service needs in its RabbitMQ
// cluster before its pods connect: the service's user with its password,
// its virtual host, the user's permissions there and the chart's policies:
// what openstack-helm's rabbit-init Job does with rabbitmqadmin, done here
// through the cluster's management API (rabbit-hole), so that the chart's
// Job can be turned off.
package queue

import (
	"context"
	"crypto/md5" //nolint:gosec // RabbitMQ's legacy password hashing, only compared
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"reflect"
	"slices"

	rabbithole "github.com/michaelklishin/rabbit-hole/v3"
)

// Grant is what one service needs in one RabbitMQ cluster, as its chart's
// rabbit-init Job reads it from the chart's values.
type Grant struct {
	// Cluster names the RabbitMQ cluster, for messages ("rabbitmq-nova").
	Cluster string
	// User and Password are the service's user; Vhost its virtual host
	// ("/" for the default one).
	User, Password, Vhost string
	// Tags are the user's tags; the Job gives "user".
	Tags []string
	// Policies are the chart's policies (its conf.rabbitmq.policies).
	Policies []rabbithole.Policy
}

// Validate says which field of the grant is unusable.
func (g Grant) Validate() error {
	switch {
	case g.User == "":
		return fmt.Errorf("RabbitMQ cluster %s: no user name", g.Cluster)
	case g.Password == "":
		return fmt.Errorf("RabbitMQ cluster %s: user %s: empty password", g.Cluster, g.User)
	case g.Vhost == "":
		return fmt.Errorf("RabbitMQ cluster %s: user %s: no virtual host", g.Cluster, g.User)
	}
	for i, p := range g.Policies {
		if p.Name == "" || p.Vhost == "" || p.Pattern == "" {
			return fmt.Errorf("RabbitMQ cluster %s: policy %d (%q): want a name, a vhost and a pattern", g.Cluster, i, p.Name)
		}
	}
	return nil
}

// everything is the permission the Job grants on each of configure, write
// and read.
const everything = ".*"

// Ensure makes the grant true in the cluster the client talks to, reading
// each thing before it writes it: the user (created, or its password or
// tags set when they differ: the password is compared with the stored
// hash, never read back), the virtual host, the user's permissions on it,
// each policy; and the user guest deleted, as the Job does. It returns
// what it changed, in order; none when everything was in place. The
// password is never part of an error or of what it returns.
func Ensure(ctx context.Context, c *rabbithole.Client, g Grant) ([]string, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	var changed []string
	step := func(what string, read func() (bool, error), write func() (*http.Response, error)) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		ok, err := read()
		if err != nil {
			return fmt.Errorf("RabbitMQ cluster %s: read %s: %w", g.Cluster, what, err)
		}
		if ok {
			return nil
		}
		res, err := write()
		if res != nil && res.Body != nil {
			res.Body.Close()
		}
		if err != nil {
			// Another run doing the same at once (a second process) may
			// have got there first: what it left is read again.
			if ok, rerr := read(); rerr == nil && ok {
				return nil
			}
			return fmt.Errorf("RabbitMQ cluster %s: set %s: %w", g.Cluster, what, err)
		}
		changed = append(changed, what)
		return nil
	}
	tags := rabbithole.UserTags(g.Tags)
	if err := step("user "+g.User, func() (bool, error) {
		u, err := c.GetUser(g.User)
		if isNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return samePassword(u, g.Password) && sameTags(u.Tags, g.Tags), nil
	}, func() (*http.Response, error) {
		return c.PutUser(g.User, rabbithole.UserSettings{Password: g.Password, Tags: tags})
	}); err != nil {
		return changed, err
	}
	if g.Vhost != "/" {
		if err := step("vhost "+g.Vhost, func() (bool, error) {
			_, err := c.GetVhost(g.Vhost)
			if isNotFound(err) {
				return false, nil
			}
			return err == nil, err
		}, func() (*http.Response, error) {
			return c.PutVhost(g.Vhost, rabbithole.VhostSettings{})
		}); err != nil {
			return changed, err
		}
	}
	if err := step("permissions of "+g.User+" on vhost "+g.Vhost, func() (bool, error) {
		p, err := c.GetPermissionsIn(g.Vhost, g.User)
		if isNotFound(err) {
			return false, nil
		}
		return p.Configure == everything && p.Write == everything && p.Read == everything, err
	}, func() (*http.Response, error) {
		return c.UpdatePermissionsIn(g.Vhost, g.User, rabbithole.Permissions{Configure: everything, Write: everything, Read: everything})
	}); err != nil {
		return changed, err
	}
	for _, want := range g.Policies {
		if err := step("policy "+want.Name+" on vhost "+want.Vhost, func() (bool, error) {
			have, err := c.GetPolicy(want.Vhost, want.Name)
			if isNotFound(err) {
				return false, nil
			}
			if err != nil {
				return false, err
			}
			return samePolicy(*have, want), nil
		}, func() (*http.Response, error) {
			return c.PutPolicy(want.Vhost, want.Name, want)
		}); err != nil {
			return changed, err
		}
	}
	if err := step("removal of user guest", func() (bool, error) {
		_, err := c.GetUser("guest")
		if isNotFound(err) {
			return true, nil
		}
		return false, err
	}, func() (*http.Response, error) {
		return c.DeleteUser("guest")
	}); err != nil {
		return changed, err
	}
	return changed, nil
}

func isNotFound(err error) bool {
	var e rabbithole.ErrorResponse
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}

// samePassword reports whether password is the one whose salted hash the
// server stores for u (RabbitMQ's scheme: base64 of a 4-byte salt followed
// by hash(salt + password)). A hash it cannot read is a different one.
func samePassword(u *rabbithole.UserInfo, password string) bool {
	stored, err := base64.StdEncoding.DecodeString(u.PasswordHash)
	if err != nil || len(stored) < 5 {
		return false
	}
	var h hash.Hash
	switch u.HashingAlgorithm {
	case rabbithole.HashingAlgorithmSHA256, "":
		h = sha256.New()
	case rabbithole.HashingAlgorithmSHA512:
		h = sha512.New()
	case rabbithole.HashingAlgorithmMD5:
		h = md5.New() //nolint:gosec // compared, not used to protect
	default:
		return false
	}
	salt := stored[:4]
	h.Write(salt)
	h.Write([]byte(password))
	return slices.Equal(h.Sum(nil), stored[4:])
}

// sameTags compares tags as sets (the server may order them its own way).
func sameTags(have, want []string) bool {
	a := slices.DeleteFunc(slices.Clone(have), func(s string) bool { return s == "" })
	b := slices.Clone(want)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// samePolicy compares what the server stores of a policy with the wanted
// one; the definition's numbers are compared as JSON numbers.
func samePolicy(have, want rabbithole.Policy) bool {
	applyTo := want.ApplyTo
	if applyTo == "" {
		applyTo = "all"
	}
	return have.Pattern == want.Pattern && have.ApplyTo == applyTo && have.Priority == want.Priority &&
		reflect.DeepEqual(jsonNumbers(map[string]any(have.Definition)), jsonNumbers(map[string]any(want.Definition)))
}

// jsonNumbers turns every number of v into a float64, as decoding JSON
// does, so that a rendered 70000 (an int) equals a read one.
func jsonNumbers(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonNumbers(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonNumbers(e)
		}
		return out
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	}
	return v
}

// NewClient is a management API client of the RabbitMQ cluster at
// baseURL ("http://host:15672") as user, whose every request is bounded by
// ctx.
func NewClient(ctx context.Context, baseURL, user, password string) (*rabbithole.Client, error) {
	c, err := rabbithole.NewClient(baseURL, user, password)
	if err != nil {
		return nil, fmt.Errorf("RabbitMQ management API at %s: %w", baseURL, err)
	}
	c.SetTransport(contextTransport{ctx: ctx, base: http.DefaultTransport})
	return c, nil
}

// contextTransport sends each request with ctx (rabbit-hole's requests
// carry none).
type contextTransport struct {
	ctx  context.Context
	base http.RoundTripper
}

func (t contextTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return t.base.RoundTrip(r.WithContext(t.ctx))
}
