package kubeutil

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
