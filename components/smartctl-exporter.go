package components

import "github.com/vexxhost/atmosphere-go/components/values"

// smartctlExporter declares smartctl-exporter: the
// prometheus-smartctl-exporter chart, a DaemonSet exposing the disks' SMART
// metrics, as atmosphere's smartctl_exporter role deploys it (release
// prometheus-smartctl-exporter in monitoring, the role's defaults). It
// needs kube-prometheus-stack: its values enable a ServiceMonitor, whose
// CRD that chart brings. Its estimate is not measured (the orchestrator's
// timings predate the role): that of prometheus-pushgateway, a chart of
// the same size.
func smartctlExporter() *Component {
	c := release("smartctl-exporter", "prometheus-smartctl-exporter", monitoring, chart("prometheus-smartctl-exporter"), 6,
		needs("kube-prometheus-stack"), kubeAPI)
	c.values = smartctlExporterValues
	return c
}

// smartctlExporterValues are smartctl-exporter's own values for its chart:
// its static values with the image (atmosphere_images'
// prometheus_smartctl_exporter) as repository and tag. The operator's
// smartctl_exporter_helm_values are laid over them, as over every
// component's own values.
func smartctlExporterValues(r *Render) values.Values {
	return merge(r.static("smartctl-exporter"), values.Values{
		"image": r.repositoryImage("prometheus_smartctl_exporter"),
	})
}
