package components

// keepalived declares keepalived, with what it renders.
func keepalived() *Component {
	c := enabledWhen(manifests("keepalived", openstack, 4, needs("kubernetes"), nil), func(c Config) bool { return c.Keepalived })
	c.objects = keepalivedObjects
	return c
}

// keepalivedObjects are the objects keepalived applies itself, as data
// (keepalived.objects.yaml): its service account, the Role that lets it list
// pods, and its DaemonSet on the control plane.
func keepalivedObjects(Settings) ([]Object, error) {
	return staticObjects("keepalived")
}
