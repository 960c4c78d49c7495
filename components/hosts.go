package components

// The host components: Ansible roles run against the inventory's hosts,
// with nothing of their own to render.

// ceph declares ceph.
func ceph() *Component {
	return ansible("ceph", 362, nil, hostLock)
}

// kubernetesCluster declares kubernetes.
func kubernetesCluster() *Component {
	return ansible("kubernetes", 506, nil, hostLock)
}

// lpfc declares lpfc.
func lpfc() *Component {
	return ansible("lpfc", 3, nil, nil)
}

// multipathd declares multipathd.
func multipathd() *Component {
	return ansible("multipathd", 24, nil, []string{ResourceApt})
}

// iscsi declares iscsi.
func iscsi() *Component {
	return ansible("iscsi", 511, nil, []string{ResourceApt})
}

// udev declares udev.
func udev() *Component {
	return ansible("udev", 4, nil, nil)
}

// imageWarmup declares image-warmup.
func imageWarmup() *Component {
	return ansible("image-warmup", 60, needs("kubernetes"), nil)
}

// openstackCli declares openstack-cli.
func openstackCli() *Component {
	return ansible("openstack-cli", 16, needs("keystone"), nil)
}
