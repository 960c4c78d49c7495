package components

// frrK8s declares frr-k8s.
func frrK8s() *Component {
	return enabledWhen(release("frr-k8s", "frr-k8s", "frr-k8s-system", chart("frr-k8s"), 0, needs("kubernetes"), nil),
		func(c Config) bool { return c.BGPAgent })
}
