package components

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// The knobs ovn reads (roles/ovn/defaults/main.yml).
var (
	ovnKnobs                       = knobsOf("ovn")
	ovnNetworkLoggingParserEnabled = ovnKnobs.boolean("ovn_network_logging_parser_enabled", true)
)

// ovn declares ovn, with what it renders.
func ovn() *Component {
	// The ovsdb volumes claim StorageClass general (withStorage). Not
	// openvswitch: ovn-controller's pods wait for the Open vSwitch pod of
	// their node themselves (dependencies.static.ovn_controller.pod), and
	// openvswitch waits for nothing of ovn's (#25, docs/edges.md).
	c := enabledWhen(release("ovn", "ovn", openstack, chart("ovn"), 12, withStorage(), nil),
		func(c Config) bool { return c.NetworkBackend == BackendOVN })
	c.values = ovnValues
	c.BeforeChange = ovnBeforeChange
	c.notWaitedFor = ovnNotWaitedFor
	c.PrePull = &PrePull{Image: "ovn_controller", Selector: "labels.ovn_controller"}
	return c
}

// ovnValues are ovn's own values for its chart: its static values with
// the images' tags, the logging sidecars and the BGP agent.
func ovnValues(r *Render) values.Values {
	logging := ovnNetworkLoggingParserEnabled.get(r)
	return merge(r.static("ovn"), values.Values{
		"images":    map[string]any{"tags": r.imageTags()},
		"pod":       map[string]any{"sidecars": map[string]any{"ovn_logging_parser": logging, "vector": logging}},
		"manifests": map[string]any{"daemonset_ovn_bgp_agent": r.Config.BGPAgent},
	})
}

// ovnNotWaitedFor: with the log-parser sidecar
// (ovn_network_logging_parser_enabled), ovn-controller's pods mount Secret
// neutron-etc, which neutron's release makes, and neutron needs ovn (its
// ML2/OVN driver talks to ovn's databases): a wait for the DaemonSet would
// last until its timeout on a real cluster. Its pods start once neutron
// has made the Secret; ovn's databases (its StatefulSets), which neutron
// needs, are still waited for, and so is ovn-controller once neutron-etc
// is there (an upgrade). The role installs ovn without any wait.
func ovnNotWaitedFor(s Settings) []WaitException {
	if !ovnNetworkLoggingParserEnabled.in(s.Vars) {
		return nil
	}
	// The chart renders ovn-controller-default, and one more set per
	// group of nodes of its overrides (ovn-controller-<digest>).
	return []WaitException{{Kind: "DaemonSet", Name: "ovn-controller-*",
		Why:         "its log-parser sidecar mounts Secret neutron-etc, which neutron's release makes after ovn's",
		UntilSecret: "neutron-etc"}}
}

// ovn-controller's selector no longer has the "type" label, and a
// DaemonSet's selector cannot change: one made with it is deleted
// (roles/ovn: "Replace unnecessary label in ovn-controller daemonset").
func ovnBeforeChange(ctx context.Context, client kubernetes.Interface, namespace string) error {
	sets := client.AppsV1().DaemonSets(namespace)
	ds, err := sets.Get(ctx, "ovn-controller", metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read DaemonSet %s/ovn-controller: %w", namespace, err)
	}
	if ds.Spec.Selector == nil || ds.Spec.Selector.MatchLabels["type"] == "" {
		return nil
	}
	return kubeutil.DeleteAndWait(ctx, "DaemonSet "+namespace+"/ovn-controller",
		func(ctx context.Context, opts metav1.DeleteOptions) error {
			opts.Preconditions = &metav1.Preconditions{UID: &ds.UID}
			return sets.Delete(ctx, ds.Name, opts)
		},
		func(ctx context.Context) error {
			got, err := sets.Get(ctx, ds.Name, metav1.GetOptions{})
			if err == nil && got.UID != ds.UID {
				return apierrors.NewNotFound(ds.GroupVersionKind().GroupVersion().WithResource("daemonsets").GroupResource(), ds.Name)
			}
			return err
		})
}
