package testenv

import (
	"context"
	"net/netip"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// ServiceRange is the test cluster's Service range: the CIDR of its
// "kubernetes" ServiceCIDR, the one the API server was started with.
func ServiceRange(t testing.TB, cfg *rest.Config) netip.Prefix {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sc, err := kubernetes.NewForConfigOrDie(cfg).NetworkingV1().ServiceCIDRs().Get(ctx, "kubernetes", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the cluster's Service range: %v", err)
	}
	if len(sc.Spec.CIDRs) == 0 {
		t.Fatal("the cluster's ServiceCIDR kubernetes has no CIDR")
	}
	p, err := netip.ParsePrefix(sc.Spec.CIDRs[0])
	if err != nil {
		t.Fatalf("the cluster's Service range: %v", err)
	}
	return p
}

// StaticServiceIP is the n-th address (from 1) of the static band of the
// test cluster's Service range (kubeutil.StaticServiceBand): a fixed
// cluster IP no Service made without one takes while the range has room.
func StaticServiceIP(t testing.TB, cfg *rest.Config, n int) string {
	t.Helper()
	r := ServiceRange(t, cfg)
	first, last, ok := kubeutil.StaticServiceBand(r)
	if !ok {
		t.Fatalf("Service range %s has no static band", r)
	}
	ip := first
	for range n - 1 {
		ip = ip.Next()
	}
	if n < 1 || ip.Compare(last) > 0 {
		t.Fatalf("address %d is outside the static band %s–%s of %s", n, first, last, r)
	}
	return ip.String()
}
