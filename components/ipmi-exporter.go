package components

// ipmiExporter declares ipmi-exporter, with what it renders.
func ipmiExporter() *Component {
	c := manifests("ipmi-exporter", monitoring, 5, needs("kube-prometheus-stack"), kubeAPI)
	c.objects = ipmiExporterObjects
	return c
}

// ipmiExporterObjects are the objects ipmi-exporter applies itself, as data
// (ipmi-exporter.objects.yaml): the exporter's configuration and its
// DaemonSet on the compute nodes.
func ipmiExporterObjects(Settings) ([]Object, error) {
	return staticObjects("ipmi-exporter")
}
