package components

import "github.com/vexxhost/atmosphere-go/components/values"

// localPathProvisioner declares local-path-provisioner: rancher's
// local-path-provisioner chart, which provisions volumes in a directory of
// the node their pod runs on, as atmosphere's local_path_provisioner role
// deploys it (release local-path-provisioner in local-path-storage, the
// role's values), in place of csi when csi_driver is
// local-path-provisioner (roles/csi/meta/main.yml): it is enabled for that
// driver only. Its values make the StorageClass general, the default
// class, which the components claiming volumes name and need it for
// (storageProviders). Its estimate is not measured (the orchestrator's
// timings ran ceph-csi-rbd): that of csi, the component it stands in for.
func localPathProvisioner() *Component {
	c := enabledWhen(release("local-path-provisioner", "local-path-provisioner", "local-path-storage",
		chart("local-path-provisioner"), 7, needs("kubernetes"), nil),
		func(c Config) bool { return c.csiDriver() == CSIDriverLocalPath })
	c.values = localPathProvisionerValues
	return c
}

// localPathProvisionerValues are local-path-provisioner's own values for
// its chart: its static values (the StorageClass) with the images
// (atmosphere_images' local_path_provisioner and
// local_path_provisioner_helper) as repository and tag. The operator's
// local_path_provisioner_helm_values are laid over them, as over every
// component's own values.
func localPathProvisionerValues(r *Render) values.Values {
	return merge(r.static("local-path-provisioner"), values.Values{
		"image":       r.repositoryImage("local_path_provisioner"),
		"helperImage": r.repositoryImage("local_path_provisioner_helper"),
	})
}
