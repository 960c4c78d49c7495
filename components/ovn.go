package components

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
)

// ovn declares ovn, with what it renders.
func ovn() *Component {
	c := enabledWhen(release("ovn", "ovn", openstack, chart("ovn", "1.1.0"), 12, needs("openvswitch", "csi"), nil),
		func(c Config) bool { return c.NetworkBackend == BackendOVN })
	c.valuesYAML = ovnValues
	c.BeforeChange = ovnBeforeChange
	c.PrePull = &PrePull{Image: "ovn_controller", Selector: "labels.ovn_controller"}
	return c
}

// ovnValues are ovn's own values for its chart.
func ovnValues(r *Render) string {
	selector := "\n    node_selector_key: openstack-control-plane\n    node_selector_value: enabled"
	return `
images:
  tags: ` + inline(r.imageTags()) + `
labels:
  ovn_ovsdb_nb:` + selector + `
  ovn_ovsdb_sb:` + selector + `
  ovn_northd:` + selector + `
  ovn_controller_gw:` + selector + `
volume:
  ovn_ovsdb_nb:
    size: 20Gi
  ovn_ovsdb_sb:
    size: 20Gi
conf:
  ovn_bgp_agent:
    DEFAULT:
      bgp_driver: frr_k8s` + podLabels + `  probes:
    ovn_northd:
      northd:
        liveness:
          enabled: true
          params:
            initialDelaySeconds: 30
            timeoutSeconds: 30
            periodSeconds: 60
  affinity:
    anti:
      type:
        default: requiredDuringSchedulingIgnoredDuringExecution
      topologyKey:
        default: kubernetes.io/hostname
      weight:
        default: 10
  replicas:
    ovn_ovsdb_nb: 3
    ovn_ovsdb_sb: 3
    ovn_northd: 3
  sidecars:
    ovn_logging_parser: ` + inline(r.knob("ovn_network_logging_parser_enabled", true)) + `
    vector: ` + inline(r.knob("ovn_network_logging_parser_enabled", true)) + `
manifests:
  daemonset_ovn_bgp_agent: ` + inline(r.Config.BGPAgent) + `
`
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
