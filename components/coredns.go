package components

// coredns declares coredns, with what it renders.
func coredns() *Component {
	c := enabledWhen(release("coredns", "neutron-coredns", openstack, chart("coredns", "1.31.0"), 3, needs("kubernetes"), nil),
		func(c Config) bool { return c.NetworkBackend != BackendOVN })
	c.valuesYAML = corednsValues
	return c
}

// corednsValues are coredns's own values for its chart.
func corednsValues(r *Render) string {
	forward := func(port, upstreams, server string) string {
		return `
  - port: ` + port + `
    zones:
      - zone: .
    plugins:
      - name: forward
        parameters: . ` + upstreams + `
        configBlock: |-
          tls_servername ` + server + `
          health_check 5s`
	}
	return `
image:
  repository: ` + r.repository("neutron_coredns") + `
replicaCount: 3
prometheus:
  service:
    enabled: true
service:
  name: neutron-coredns
  clusterIP: ` + inline(r.knob("neutron_coredns_cluster_ip", "10.96.0.20")) + `
isClusterService: false
servers:
  - port: 53
    zones:
      - zone: .
    plugins:
      - name: errors
      - name: ready
      - name: health
        configBlock: |-
          lameduck 5s
      - name: prometheus
        parameters: 0.0.0.0:9153
      - name: cache
      - name: reload
      - name: loadbalance
      - name: forward
        parameters: . 127.0.0.1:5301 127.0.0.1:5302` +
		forward("5301", "tls://1.1.1.1 tls://1.0.0.1", "cloudflare-dns.com") +
		forward("5302", "tls://8.8.8.8 tls://8.8.4.4", "dns.google") + `
nodeSelector:
  openstack-control-plane: enabled
customLabels:
  application: neutron
  component: coredns
deployment:
  name: neutron-coredns
`
}
