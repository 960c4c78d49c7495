package components

// openstackExporter declares openstack-exporter, with what it renders.
func openstackExporter() *Component {
	c := manifests("openstack-exporter", openstack, 16, needs("cinder", "neutron"), nil)
	c.objects = openstackExporterObjects
	return c
}

// openstackExporterObjects are the objects openstack-exporter applies itself.
func openstackExporterObjects(Settings) (string, error) {
	return `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: openstack-exporter
  labels:
    application: openstack-exporter
spec:
  replicas: 1
  selector:
    matchLabels:
      application: openstack-exporter
  template:
    metadata:
      labels:
        application: openstack-exporter
    spec:
      nodeSelector:
        openstack-control-plane: enabled
      containers:
        - name: openstack-exporter
          image: ghcr.io/openstack-exporter/openstack-exporter:1.7.0
          args: ["--endpoint-type", "internal", "default", "--collect-metric-time", "--disable-service.identity", "--disable-service.image", "--disable-metric=cinder-limits_volume_max_gb", "--disable-metric=cinder-limits_volume_used_gb", "--disable-metric=nova-limits_vcpus_max", "--disable-metric=nova-limits_vcpus_used", "--disable-metric=nova-server_status", "--disable-metric=nova-limits_memory_max", "--disable-metric=nova-limits_memory_used"]
          ports:
            - name: metrics
              containerPort: 9180
          env:
            - name: OS_COMPUTE_API_VERSION
              value: "2.87"
---
apiVersion: v1
kind: Service
metadata:
  name: openstack-exporter
  labels:
    application: openstack-exporter
spec:
  ports:
    - name: metrics
      port: 9180
      targetPort: metrics
  selector:
    application: openstack-exporter
`, nil
}
