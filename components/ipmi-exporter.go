package components

// ipmiExporter declares ipmi-exporter, with what it renders.
func ipmiExporter() *Component {
	c := manifests("ipmi-exporter", monitoring, 5, needs("kube-prometheus-stack"), kubeAPI)
	c.objects = ipmiExporterObjects
	return c
}

// ipmiExporterObjects are the objects ipmi-exporter applies itself.
func ipmiExporterObjects(Settings) (string, error) {
	return `
apiVersion: v1
kind: ConfigMap
metadata:
  name: ipmi-exporter
data:
  config.yml: |
    modules:
      default:
        collectors:
          - bmc
          - ipmi
          - chassis
          - dcmi
          - sel
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ipmi-exporter
  labels:
    application: ipmi-exporter
spec:
  selector:
    matchLabels:
      application: ipmi-exporter
  template:
    metadata:
      labels:
        application: ipmi-exporter
        job: ipmi
    spec:
      nodeSelector:
        openstack-compute-node: enabled
      containers:
        - name: exporter
          image: quay.io/prometheuscommunity/ipmi-exporter:v1.10.1
          args: ["--config.file", "/config.yml"]
          ports:
            - name: metrics
              containerPort: 9290
          securityContext:
            privileged: true
          volumeMounts:
            - {name: dev-ipmi0, mountPath: /dev/ipmi0}
            - {name: ipmi-exporter, mountPath: /config.yml, subPath: config.yml}
      volumes:
        - name: dev-ipmi0
          hostPath:
            path: /dev/ipmi0
        - name: ipmi-exporter
          configMap:
            name: ipmi-exporter
`, nil
}
