// Package kubeutil holds the small Kubernetes helpers the Helm deployer and
// the manifest applier share.
package kubeutil

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// EnsureNamespace creates the namespace when it is missing. Under a
// context of WithKnownNamespaces, a namespace it found or made once is
// not asked for again.
func EnsureNamespace(ctx context.Context, cs kubernetes.Interface, name string) error {
	known, _ := ctx.Value(knownNamespacesKey{}).(*sync.Map)
	if known != nil {
		if _, ok := known.Load(name); ok {
			return nil
		}
	}
	if _, err := cs.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{}); err != nil {
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("read namespace %s: %w", name, err)
		}
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create namespace %s: %w", name, err)
		}
	}
	if known != nil {
		known.Store(name, true)
	}
	return nil
}

type knownNamespacesKey struct{}

// WithKnownNamespaces returns a context under which EnsureNamespace
// remembers the namespaces it found or made, so that the units of one run
// ask the cluster once per namespace, not once per release and set. Give
// it to one run against one cluster: a namespace deleted during the run
// is not seen again.
func WithKnownNamespaces(ctx context.Context) context.Context {
	return context.WithValue(ctx, knownNamespacesKey{}, &sync.Map{})
}

// IsTransient reports API errors a wait should ride out: throttling,
// timeouts, an API server restarting.
func IsTransient(err error) bool {
	return apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) ||
		apierrors.IsServiceUnavailable(err) || apierrors.IsInternalError(err) ||
		strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "EOF")
}

// IsUnavailable reports errors of an API server that was away for a
// moment (restarting, throttling, a dropped connection), after which the
// same work can be done again. Errors of the work itself (a template that
// does not render, a pod that fails, a wait that timed out) are not: Helm
// wraps errors as text, so the connection errors are matched as text too.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsServiceUnavailable(err) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset by peer", "http2: client connection lost",
		"server sent GOAWAY", "the server is currently unable to handle the request", "Kubernetes cluster unreachable"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return droppedRequest.MatchString(msg)
}

// droppedRequest is a request whose connection ended mid-answer, as
// net/http reports it: `Get "https://…": EOF`.
var droppedRequest = regexp.MustCompile(`"https?://[^"]*": (unexpected )?EOF`)

// Backoff spaces the polls of a wait: short at first, when what was just
// applied is often ready within moments, then doubling up to a ceiling, so
// that a long wait costs the API server no more than polling at the
// ceiling.
type Backoff struct{ next, ceiling time.Duration }

// FirstPoll is the first pause of a Backoff.
const FirstPoll = 100 * time.Millisecond

// NewBackoff returns a Backoff whose pauses grow from FirstPoll (or the
// ceiling, when lower) to ceiling.
func NewBackoff(ceiling time.Duration) *Backoff {
	return &Backoff{next: min(FirstPoll, ceiling), ceiling: ceiling}
}

// Next returns the next pause.
func (b *Backoff) Next() time.Duration {
	d := b.next
	b.next = min(2*b.next, b.ceiling)
	return d
}
