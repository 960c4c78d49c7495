// Package lease keeps two deploys off one cluster at once: a run holds a
// coordination.k8s.io Lease, renewing it while it works. A second run is
// refused at once with the holder's name; a lease its holder stopped
// renewing (a killed run) is taken over once it expires, or at once when
// the holder was a process of this host that no longer runs.
package lease

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// DefaultName is the Lease a deploy holds.
const DefaultName = "atmosphere-deploy"

// Options locate and time the lease.
type Options struct {
	Namespace, Name string
	// Identity names the holder in the refusal others get ("ops@bastion
	// pid 4242"); Identity() when empty.
	Identity string
	// Duration is how long the lease lasts without renewal (a killed
	// run's lease is free after it); renewals come every third of it.
	Duration time.Duration
}

// HeldError refuses a run while another holds the lease.
type HeldError struct {
	Holder  string
	Renewed time.Time
	Expires time.Time
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("another deploy holds the cluster: %s (renewed %s ago; free at %s unless renewed)",
		e.Holder, time.Since(e.Renewed).Round(time.Second), e.Expires.Format(time.RFC3339))
}

// Identity is "user@host pid N".
func Identity() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("%s@%s pid %d", name, host, os.Getpid())
}

// Gone reports whether a holder identity names a process of this host
// that no longer runs: "user@host pid N" with this hostname and no process
// N. A pid reused since only makes the lease wait for its expiry.
func Gone(holder string) bool {
	who, pidText, ok := strings.Cut(holder, " pid ")
	if !ok {
		return false
	}
	_, host, ok := strings.Cut(who, "@")
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil || pid <= 0 {
		return false
	}
	if this, err := os.Hostname(); err != nil || host != this {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// Held is a lease this process holds.
type Held struct {
	// TookOver names the holder whose lease this run took over because it
	// expired or its process was gone ("" when the lease was free).
	TookOver string

	client kubernetes.Interface
	opts   Options
	stop   context.CancelFunc
	done   chan struct{}
	lost   chan struct{}
	once   sync.Once
}

// Acquire takes the lease, or returns a *HeldError naming the holder. The
// lease is renewed until Release or until ctx ends; Lost is closed when
// renewal fails for longer than the lease lasts.
func Acquire(ctx context.Context, client kubernetes.Interface, opts Options) (*Held, error) {
	if opts.Name == "" {
		opts.Name = DefaultName
	}
	if opts.Identity == "" {
		opts.Identity = Identity()
	}
	if opts.Duration <= 0 {
		opts.Duration = 30 * time.Second
	}
	if err := kubeutil.EnsureNamespace(ctx, client, opts.Namespace); err != nil {
		return nil, fmt.Errorf("lease %s/%s: %w", opts.Namespace, opts.Name, err)
	}
	previous, err := take(ctx, client, opts, 0)
	if err != nil {
		return nil, err
	}
	renewCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	h := &Held{TookOver: previous, client: client, opts: opts, stop: stop, done: make(chan struct{}), lost: make(chan struct{})}
	go h.renew(renewCtx)
	return h, nil
}

// take writes this holder into the lease when it is free, expired, held
// by a gone process or already ours, and returns the holder it took it
// over from; a race with another run is looked at again, a few times.
func take(ctx context.Context, client kubernetes.Interface, opts Options, attempt int) (string, error) {
	if attempt > 5 {
		return "", fmt.Errorf("lease %s/%s: still contended after %d attempts", opts.Namespace, opts.Name, attempt)
	}
	leases := client.CoordinationV1().Leases(opts.Namespace)
	now := metav1.NewMicroTime(time.Now())
	seconds := int32(opts.Duration / time.Second)
	l, err := leases.Get(ctx, opts.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		l = &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: opts.Name, Namespace: opts.Namespace},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &opts.Identity, LeaseDurationSeconds: &seconds, AcquireTime: &now, RenewTime: &now}}
		_, err := leases.Create(ctx, l, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			return take(ctx, client, opts, attempt+1) // another run made it first: look again
		}
		if err != nil {
			return "", fmt.Errorf("lease %s/%s: %w", opts.Namespace, opts.Name, err)
		}
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("lease %s/%s: %w", opts.Namespace, opts.Name, err)
	}
	previous := ""
	if holder := deref(l.Spec.HolderIdentity); holder != "" && holder != opts.Identity {
		renewed := l.Spec.RenewTime
		if renewed == nil {
			renewed = l.Spec.AcquireTime
		}
		last := time.Time{}
		if renewed != nil {
			last = renewed.Time
		}
		expires := last.Add(time.Duration(derefInt(l.Spec.LeaseDurationSeconds)) * time.Second)
		if time.Now().Before(expires) && !Gone(holder) {
			return "", &HeldError{Holder: holder, Renewed: last, Expires: expires}
		}
		previous = holder
	}
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.AcquireTime, l.Spec.RenewTime = &opts.Identity, &seconds, &now, &now
	// The resourceVersion read makes two runs taking an expired lease at
	// once a conflict for one of them.
	if _, err := leases.Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		if apierrors.IsConflict(err) {
			return take(ctx, client, opts, attempt+1)
		}
		return "", fmt.Errorf("lease %s/%s: %w", opts.Namespace, opts.Name, err)
	}
	return previous, nil
}

func (h *Held) renew(ctx context.Context) {
	defer close(h.done)
	tick := time.NewTicker(h.opts.Duration / 3)
	defer tick.Stop()
	lastOK := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		err := h.update(ctx, func(l *coordinationv1.Lease) bool {
			if deref(l.Spec.HolderIdentity) != h.opts.Identity {
				return false
			}
			now := metav1.NewMicroTime(time.Now())
			l.Spec.RenewTime = &now
			return true
		})
		switch {
		case err == nil:
			lastOK = time.Now()
		case time.Since(lastOK) > h.opts.Duration || err == errTaken:
			h.once.Do(func() { close(h.lost) })
			return
		}
	}
}

var errTaken = errors.New("the lease was taken over")

// update reads the lease, applies change and writes it back.
func (h *Held) update(ctx context.Context, change func(*coordinationv1.Lease) bool) error {
	leases := h.client.CoordinationV1().Leases(h.opts.Namespace)
	l, err := leases.Get(ctx, h.opts.Name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if !change(l) {
		return errTaken
	}
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

// Lost is closed when the lease could not be renewed for longer than it
// lasts, or another run took it: the holder should stop.
func (h *Held) Lost() <-chan struct{} { return h.lost }

// Release stops renewing and frees the lease for the next run.
func (h *Held) Release(ctx context.Context) error {
	h.stop()
	<-h.done
	err := h.update(ctx, func(l *coordinationv1.Lease) bool {
		if deref(l.Spec.HolderIdentity) != h.opts.Identity {
			return false
		}
		l.Spec.HolderIdentity, l.Spec.RenewTime = nil, nil
		return true
	})
	if err == errTaken || apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release lease %s/%s: %w", h.opts.Namespace, h.opts.Name, err)
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefInt(i *int32) int32 {
	if i == nil {
		return 0
	}
	return *i
}
