package components

// The host components: Ansible roles (or atmosphere's collection
// playbooks, for ceph (declared in ceph.go with its facts) and kubernetes)
// run against the inventory's hosts,
// as atmosphere's playbooks run them (playbooks/openstack.yml, ceph.yml,
// kubernetes.yml), with nothing of their own to render.

// kubernetesCluster declares kubernetes.
func kubernetesCluster() *Component {
	c := ansible("kubernetes", 506, nil, hostLock)
	c.Ansible = &AnsibleWork{Playbook: "vexxhost.atmosphere.kubernetes"}
	return c
}

// lpfc declares lpfc.
func lpfc() *Component {
	c := ansible("lpfc", 3, nil, nil)
	c.Ansible = &AnsibleWork{Hosts: "controllers:computes", Role: "vexxhost.atmosphere.lpfc", Become: true, GatherFacts: true}
	return c
}

// multipathd declares multipathd.
func multipathd() *Component {
	c := ansible("multipathd", 24, nil, []string{ResourceApt})
	c.Ansible = &AnsibleWork{Hosts: "controllers:computes", Role: "vexxhost.atmosphere.multipathd", Become: true, GatherFacts: true}
	return c
}

// iscsi declares iscsi.
func iscsi() *Component {
	c := ansible("iscsi", 511, nil, []string{ResourceApt})
	c.Ansible = &AnsibleWork{Hosts: "controllers:computes", Role: "vexxhost.atmosphere.iscsi", Become: true, GatherFacts: true}
	return c
}

// udev declares udev.
func udev() *Component {
	c := ansible("udev", 4, nil, nil)
	c.Ansible = &AnsibleWork{Hosts: "controllers:computes", Role: "vexxhost.atmosphere.udev", Become: true, GatherFacts: true}
	return c
}

// imageWarmup declares image-warmup.
func imageWarmup() *Component {
	c := ansible("image-warmup", 60, needs("kubernetes"), nil)
	c.Ansible = &AnsibleWork{Hosts: "controllers:computes", Role: "vexxhost.atmosphere.image_warmup", Become: true, GatherFacts: true}
	return c
}

// openstackCli declares openstack-cli.
func openstackCli() *Component {
	c := ansible("openstack-cli", 16, needs("keystone"), nil)
	c.Ansible = &AnsibleWork{Hosts: "controllers", Role: "vexxhost.atmosphere.openstack_cli", Become: true, GatherFacts: true}
	return c
}
