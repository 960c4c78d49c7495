package components

// openstackExporter declares openstack-exporter, with what it renders.
func openstackExporter() *Component {
	c := manifests("openstack-exporter", openstack, 16, needs("cinder", "neutron"), nil)
	c.objects = openstackExporterObjects
	return c
}

// openstackExporterObjects are the objects openstack-exporter applies
// itself, as data (openstack-exporter.objects.yaml): its Deployment and the
// Service Prometheus scrapes.
func openstackExporterObjects(Settings) ([]Object, error) {
	return staticObjects("openstack-exporter")
}
