package helmrelease

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// heldIPMessage is how the API server refuses a Service whose fixed
// cluster IP is already allocated.
var heldIPMessage = regexp.MustCompile(`failed to allocate IP ([0-9A-Fa-f.:]+): provided IP is already allocated`)

// ClusterIPHeldError is a Service of the release asking for a fixed
// cluster IP (a knob such as neutron_coredns_cluster_ip) that another
// object of the cluster already holds.
type ClusterIPHeldError struct {
	// IP is the address asked for.
	IP string
	// Holder names what holds it ("Service openstack/dns"), empty when
	// the cluster does not say.
	Holder string
	// Err is the API server's refusal, as Helm returned it.
	Err error
}

func (e *ClusterIPHeldError) Error() string {
	holder := "another Service"
	if e.Holder != "" {
		holder = e.Holder
	}
	return fmt.Sprintf("%s: it is held by %s; give the release another fixed IP, "+
		"best one of the first addresses of the Service range, which the API server hands out last", refusal(e.Err), holder)
}

// refusal is the line of Helm's error that holds the API server's
// refusal, without the list markup Helm wraps it in.
func refusal(err error) string {
	for line := range strings.Lines(err.Error()) {
		if heldIPMessage.MatchString(line) {
			return strings.TrimPrefix(strings.TrimSpace(line), "* ")
		}
	}
	return err.Error()
}

// Unwrap returns the API server's refusal.
func (e *ClusterIPHeldError) Unwrap() error { return e.Err }

// explainHeldIP turns the API server's "provided IP is already allocated"
// into a ClusterIPHeldError naming the holder; other errors are returned
// as they are.
func explainHeldIP(ctx context.Context, client kubernetes.Interface, err error) error {
	m := heldIPMessage.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	return &ClusterIPHeldError{IP: m[1], Holder: ipHolder(ctx, client, m[1]), Err: err}
}

// ipHolder names the object holding a cluster IP: the IPAddress object's
// parent (Kubernetes 1.33 and later), else the Service using it; empty
// when neither says.
func ipHolder(ctx context.Context, client kubernetes.Interface, ip string) string {
	if addr, err := client.NetworkingV1().IPAddresses().Get(ctx, ip, metav1.GetOptions{}); err == nil && addr.Spec.ParentRef != nil {
		p := addr.Spec.ParentRef
		kind := p.Resource
		if kind == "services" && p.Group == "" {
			kind = "Service"
		}
		if p.Namespace == "" {
			return fmt.Sprintf("%s %s", kind, p.Name)
		}
		return fmt.Sprintf("%s %s/%s", kind, p.Namespace, p.Name)
	}
	services, err := client.CoreV1().Services(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return ""
	}
	for _, s := range services.Items {
		for _, a := range s.Spec.ClusterIPs {
			if a == ip {
				return fmt.Sprintf("Service %s/%s", s.Namespace, s.Name)
			}
		}
	}
	return ""
}
