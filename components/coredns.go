package components

import "github.com/vexxhost/atmosphere-go/components/values"

// The knobs coredns reads (roles/coredns/defaults/main.yml).
var (
	corednsKnobs     = knobsOf("coredns")
	corednsClusterIP = corednsKnobs.str("neutron_coredns_cluster_ip", "10.96.0.20")
)

// coredns declares coredns, with what it renders.
func coredns() *Component {
	c := enabledWhen(release("coredns", "neutron-coredns", openstack, chart("coredns"), 3, needs("kubernetes"), nil),
		func(c Config) bool { return c.NetworkBackend != BackendOVN })
	c.values = corednsValues
	return c
}

// corednsValues are coredns's own values for its chart: its static values
// with the image and the Service's cluster IP.
func corednsValues(r *Render) values.Values {
	return merge(r.static("coredns"), values.Values{
		"image":   map[string]any{"repository": r.image("neutron_coredns").Name()},
		"service": map[string]any{"clusterIP": corednsClusterIP.get(r)},
	})
}
