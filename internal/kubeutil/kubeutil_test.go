package kubeutil

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
)

func TestIsUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"refused, wrapped", fmt.Errorf("install openstack/keystone: %w", refused), true},
		{"refused, as Helm's text", errors.New(`failed to create resource: Post "https://127.0.0.1:6443/api/v1/namespaces/openstack/services": dial tcp 127.0.0.1:6443: connect: connection refused`), true},
		{"cluster unreachable", errors.New("Kubernetes cluster unreachable: Get \"https://127.0.0.1:6443/version\": dial tcp: i/o timeout"), true},
		{"dropped mid-answer", errors.New(`Get "https://127.0.0.1:6443/api/v1/namespaces/openstack/pods": EOF`), true},
		{"throttled", apierrors.NewTooManyRequests("slow down", 1), true},
		{"unavailable", apierrors.NewServiceUnavailable("restarting"), true},
		{"template error with EOF", errors.New("parse error at (keystone/templates/x.yaml:3): unexpected EOF"), false},
		{"not found", apierrors.NewNotFound(schema.GroupResource{Resource: "pods"}, "x"), false},
		{"wait timed out", errors.New("context deadline exceeded"), false},
		{"pod failed", errors.New("Job openstack/keystone-db-sync failed: pod keystone-db-sync-x: Error (exit code 1)"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsUnavailable(tc.err); got != tc.want {
				t.Errorf("IsUnavailable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	cases := []struct {
		ceiling time.Duration
		want    []time.Duration
	}{
		{time.Second, []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, time.Second, time.Second}},
		{50 * time.Millisecond, []time.Duration{50 * time.Millisecond, 50 * time.Millisecond}},
	}
	for _, tc := range cases {
		b := NewBackoff(tc.ceiling)
		for i, want := range tc.want {
			if got := b.Next(); got != want {
				t.Errorf("ceiling %s: pause %d = %s, want %s", tc.ceiling, i, got, want)
			}
		}
	}
}

func TestStaticServiceBand(t *testing.T) {
	tests := []struct {
		cidr, first, last string
		ok                bool
	}{
		{"10.0.0.0/24", "10.0.0.1", "10.0.0.16", true},
		{"10.96.0.0/12", "10.96.0.1", "10.96.1.0", true},
		{"10.0.0.0/20", "10.0.0.1", "10.0.1.0", true},
		{"10.0.0.0/21", "10.0.0.1", "10.0.0.128", true},
		{"10.0.0.0/27", "10.0.0.1", "10.0.0.16", true},
		{"10.0.0.0/28", "", "", false},
		{"fd00:10:96::/108", "fd00:10:96::1", "fd00:10:96::100", true},
	}
	for _, tt := range tests {
		t.Run(tt.cidr, func(t *testing.T) {
			first, last, ok := StaticServiceBand(netip.MustParsePrefix(tt.cidr))
			if ok != tt.ok || (ok && (first.String() != tt.first || last.String() != tt.last)) {
				t.Errorf("band %s–%s ok %v, want %s–%s ok %v", first, last, ok, tt.first, tt.last, tt.ok)
			}
		})
	}
}

// TestEnsureNamespaceAsksOncePerRun: under WithKnownNamespaces a namespace
// found or made is not asked for again; without it every call asks.
func TestEnsureNamespaceAsksOncePerRun(t *testing.T) {
	tests := []struct {
		name       string
		run        bool
		existing   bool
		wantGets   int
		wantCreate int
	}{
		{name: "run, namespace there", run: true, existing: true, wantGets: 1},
		{name: "run, namespace made", run: true, existing: false, wantGets: 1, wantCreate: 1},
		{name: "no run, namespace there", run: false, existing: true, wantGets: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var objs []runtime.Object
			if tt.existing {
				objs = append(objs, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "openstack"}})
			}
			cs := fake.NewSimpleClientset(objs...)
			ctx := context.Background()
			if tt.run {
				ctx = WithKnownNamespaces(ctx)
			}
			for range 3 {
				if err := EnsureNamespace(ctx, cs, "openstack"); err != nil {
					t.Fatal(err)
				}
			}
			gets, creates := 0, 0
			for _, a := range cs.Actions() {
				switch a.GetVerb() {
				case "get":
					gets++
				case "create":
					creates++
				}
			}
			if gets != tt.wantGets || creates != tt.wantCreate {
				t.Errorf("gets %d, creates %d; want %d, %d", gets, creates, tt.wantGets, tt.wantCreate)
			}
			if _, err := cs.CoreV1().Namespaces().Get(ctx, "openstack", metav1.GetOptions{}); err != nil {
				t.Errorf("namespace not there after EnsureNamespace: %v", err)
			}
		})
	}
}
