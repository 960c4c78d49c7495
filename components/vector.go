package components

// vector declares vector, with what it renders.
func vector() *Component {
	c := release("vector", "vector", monitoring, chart("vector", "0.33.0"), 6, needs("loki"), kubeAPI)
	c.valuesYAML = vectorValues
	return c
}

// vectorValues are vector's own values for its chart.
func vectorValues(r *Render) string {
	// The labels are Vector templates, given to the chart as Helm
	// template text that prints them.
	label := func(field string) string { return inline(`{{ print "{{ ` + field + ` }}" }}`) }
	return `
role: Agent
image:
  repository: ` + r.repository("vector") + `
  tag: ` + r.tag("vector") + `
service:
  enabled: false
customConfig:
  data_dir: /vector-data-dir
  sources:
    journald:
      type: journald
    kubernetes_logs:
      type: kubernetes_logs
  sinks:
    loki_kubernetes_logs:
      out_of_order_action: accept
      type: loki
      endpoint: http://loki-gateway
      inputs: [kubernetes_logs]
      encoding:
        codec: text
      labels:
        source_type: ` + label("source_type") + `
        node: ` + label("kubernetes.pod_node_name") + `
        pod_namespace: ` + label("kubernetes.pod_namespace") + `
        pod_uid: ` + label("kubernetes.pod_uid") + `
        pod_name: ` + label("kubernetes.pod_name") + `
        pod_ip: ` + label("kubernetes.pod_ip") + `
        pod_label_*: ` + label("kubernetes.pod_labels") + `
        container_name: ` + label("kubernetes.container_name") + `
        container_image: ` + label("kubernetes.container_image") + `
        stream: ` + label("kubernetes.stream") + `
    loki_journald:
      out_of_order_action: accept
      type: loki
      endpoint: http://loki-gateway
      inputs: [journald]
      encoding:
        codec: text
      labels:
        source_type: ` + label("source_type") + `
        node: ` + label("host") + `
        unit: ` + label("_SYSTEMD_UNIT") + `
        stream: ` + label("_TRANSPORT") + `
extraVolumes:
  - name: etc-machineid
    hostPath:
      path: /etc/machine-id
      type: File
extraVolumeMounts:
  - name: etc-machineid
    mountPath: /etc/machine-id
    readOnly: true
`
}
