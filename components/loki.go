package components

// loki declares loki, with what it renders.
func loki() *Component {
	c := release("loki", "loki", monitoring, chart("loki", "6.6.3"), 9, needs("csi"), kubeAPI)
	c.valuesYAML = lokiValues
	return c
}

// lokiValues are loki's own values for its chart.
func lokiValues(r *Render) string {
	return `
deploymentMode: SingleBinary
loki:
  server:
    log_level: warn
  image:` + r.bitnami("loki", 4) + `
  auth_enabled: false
  commonConfig:
    replication_factor: 1
  compactor:
    working_directory: /var/loki/compactor
    compaction_interval: 10m
    retention_enabled: true
    delete_request_store: filesystem
    retention_delete_delay: 2h
    retention_delete_worker_count: 150
  limits_config:
    max_label_names_per_series: 25
    retention_period: 30d
  rulerConfig:
    alertmanager_url: http://alertmanager-operated.monitoring:9093
    enable_alertmanager_v2: true
    enable_api: true
    rule_path: /var/loki/rules-temp
    ring:
      kvstore:
        store: inmemory
    storage:
      type: local
      local:
        directory: /var/loki/rulestorage
  storage:
    type: filesystem
  schemaConfig:
    configs:
      - from: "2024-04-01"
        store: tsdb
        object_store: filesystem
        schema: v13
        index:
          prefix: index_
          period: 24h
memcached:
  image:
    repository: ` + r.repository("memcached") + `
    tag: ` + r.tag("memcached") + `
memcachedExporter:
  image:
    repository: ` + r.repository("prometheus_memcached_exporter") + `
    tag: ` + r.tag("prometheus_memcached_exporter") + `
test:
  enabled: false
singleBinary:
  replicas: 1
  nodeSelector:
    openstack-control-plane: enabled
  persistence:
    size: 256Gi
  extraVolumeMounts:
    - name: rules
      mountPath: /var/loki/rulestorage/fake
  extraVolumes:
    - name: rules
      configMap:
        name: loki-alerting-rules
write:
  replicas: 0
read:
  replicas: 0
backend:
  replicas: 0
gateway:
  image:` + r.bitnami("loki_gateway", 4) + `
  nodeSelector:
    openstack-control-plane: enabled
lokiCanary:
  enabled: false
extraObjects:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: loki-alerting-rules
      labels:
        loki_rule: atmosphere
    data:
      loki-alerting-rules.yaml: |-
        groups:
          - name: additional-loki-rules
            rules:
              - alert: NovaCellNotResponding
                expr: 'count_over_time({pod_label_component="compute"} |= "not responding and hence is being omitted from the results" [1m]) > 0'
                labels:
                  severity: critical
                annotations:
                  summary: Nova Cell is not responding. It can cause port deletion in CAPI.
`
}
