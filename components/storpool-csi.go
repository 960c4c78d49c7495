package components

import "fmt"

// The knobs storpool-csi reads (roles/storpool_csi: its tasks name
// storpool_csi_template, which the role has no default for). The template
// is StorPool's placement template of the volumes of the StorageClass
// general: the role fails without it, so it is required whenever the CSI
// driver is storpool (checkStorPoolCSI refuses the inventory before the
// run). Any string is taken, as the role takes it.
var (
	storpoolCSIKnobs    = knobsOf("storpool-csi")
	storpoolCSITemplate = storpoolCSIKnobs.str("storpool_csi_template", "")
)

func init() { storpoolCSIKnobs.check(checkStorPoolCSI) }

// checkStorPoolCSI finds, storpool-csi being enabled (CheckKnobs runs it
// only then), storpool_csi_template not set or empty. A value of another
// type is the knob's own problem.
func checkStorPoolCSI(vars map[string]any) []KnobProblem {
	if v, ok := vars[storpoolCSITemplate.name]; ok && v != nil && v != "" {
		return nil
	}
	return []KnobProblem{{Key: storpoolCSITemplate.name, Message: requiredByDriver(CSIDriverStorPool)}}
}

// requiredByDriver is the problem of a knob the role of the CSI driver
// driver names with no default, and the inventory does not set.
func requiredByDriver(driver string) string {
	return fmt.Sprintf("required with csi_driver %s (its role has no default for it), and not set", driver)
}

// storpoolCSI declares storpool-csi: StorPool's CSI driver as atmosphere's
// storpool_csi role applies it (its manifests, in kube-system), in place of
// csi when csi_driver is storpool (roles/csi/meta/main.yml): it is enabled
// for that driver only, and provides the StorageClass general the
// components claiming volumes name (storageProviders). Its estimate is not
// measured: that of csi, the component it stands in for.
func storpoolCSI() *Component {
	c := enabledWhen(manifests("storpool-csi", "kube-system", 7, needs("kubernetes"), nil),
		func(c Config) bool { return c.csiDriver() == CSIDriverStorPool })
	c.objects = storpoolCSIObjects
	return c
}

// storpoolCSIObjects are the objects storpool-csi applies, in the role's
// order: those of storpool-csi.objects.yaml (the controller plugin's and
// the node plugin's RBAC, the controller plugin's Deployment, the
// CSIDriver csi.storpool.com, the node plugin's DaemonSet), then the
// StorageClass general, the default class, of provisioner
// csi.storpool.com: volumes made when their first pod is scheduled
// (WaitForFirstConsumer), expandable, deleted with their claim, placed by
// the inventory's storpool_csi_template (required: an error without it).
func storpoolCSIObjects(s Settings) ([]Object, error) {
	objs, err := staticObjects("storpool-csi")
	if err != nil {
		return nil, err
	}
	r := &Render{Settings: s}
	template := storpoolCSITemplate.get(r)
	if r.err != nil {
		return nil, r.err
	}
	if template == "" {
		return nil, r.knobError(storpoolCSITemplate.name, requiredByDriver(CSIDriverStorPool))
	}
	class := object(map[string]any{
		"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
		"metadata": map[string]any{"name": "general",
			"annotations": map[string]any{"storageclass.kubernetes.io/is-default-class": "true"}},
		"provisioner":          "csi.storpool.com",
		"allowVolumeExpansion": true,
		"volumeBindingMode":    "WaitForFirstConsumer",
		"reclaimPolicy":        "Delete",
		"parameters":           map[string]any{"template": template},
	})
	return append(objs, class), nil
}
