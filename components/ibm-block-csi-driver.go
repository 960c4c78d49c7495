package components

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The knobs ibm-block-csi-driver reads (roles/ibm_block_csi_driver: its
// defaults and tasks). The storage system's management address, the
// user and its password go into the Secret ibm-block-csi-credentials; the
// pool, the I/O group and the space efficiency (thin by default, the
// role's) are the StorageClass general's parameters. The role has no
// default for the first five and fails without them: each is required
// whenever the CSI driver is ibm-block (checkIBMBlockCSI refuses the
// inventory before the run, naming each missing key). The password's knob
// name marks it as a secret (IsSecretKnob): no problem shows it. Any
// string is taken, as the role takes it; the parameters of a
// StorageClass are strings, so a number is refused (quote it).
var (
	ibmBlockCSIKnobs             = knobsOf("ibm-block-csi-driver")
	ibmBlockCSIManagementAddress = ibmBlockCSIKnobs.str("ibm_block_csi_driver_management_address", "")
	ibmBlockCSIUsername          = ibmBlockCSIKnobs.str("ibm_block_csi_driver_username", "")
	ibmBlockCSIPassword          = ibmBlockCSIKnobs.str("ibm_block_csi_driver_password", "")
	ibmBlockCSIPool              = ibmBlockCSIKnobs.str("ibm_block_csi_driver_pool", "")
	ibmBlockCSIIOGroup           = ibmBlockCSIKnobs.str("ibm_block_csi_driver_io_group", "")
	ibmBlockCSISpaceEfficiency   = ibmBlockCSIKnobs.str("ibm_block_csi_driver_space_efficiency", "thin")
)

// ibmBlockCSIRequired are the knobs the role names with no default.
var ibmBlockCSIRequired = []knob[string]{ibmBlockCSIManagementAddress, ibmBlockCSIUsername, ibmBlockCSIPassword,
	ibmBlockCSIPool, ibmBlockCSIIOGroup}

func init() { ibmBlockCSIKnobs.check(checkIBMBlockCSI) }

// checkIBMBlockCSI finds, ibm-block-csi-driver being enabled (CheckKnobs
// runs it only then), each required knob not set or empty. A value of
// another type is the knob's own problem.
func checkIBMBlockCSI(vars map[string]any) []KnobProblem {
	var out []KnobProblem
	for _, k := range ibmBlockCSIRequired {
		if v, ok := vars[k.name]; !ok || v == nil || v == "" {
			out = append(out, KnobProblem{Key: k.name, Message: requiredByDriver(CSIDriverIBMBlock)})
		}
	}
	return out
}

// ibmBlockCSIOperator declares ibm-block-csi-operator: IBM's operator of
// its block storage CSI driver, as atmosphere's ibm_block_csi_driver role
// applies its manifest (in kube-system), enabled when csi_driver is
// ibm-block. The role applies the operator and the IBMBlockCSI resource in
// one task; here they are two units, the resource's
// (ibm-block-csi-driver) after this one, because a set of objects is
// resolved kind by kind before any is applied, and the kind IBMBlockCSI
// is served only once this manifest's CRD is (docs/differences.md). Its
// estimate is not measured: a share of csi's, the component the two stand
// in for.
func ibmBlockCSIOperator() *Component {
	c := enabledWhen(manifests("ibm-block-csi-operator", "kube-system", 4, needs("kubernetes"), nil),
		func(c Config) bool { return c.csiDriver() == CSIDriverIBMBlock })
	c.objects = ibmBlockCSIOperatorObjects
	return c
}

// ibmBlockCSIOperatorObjects are the objects of the role's operator
// manifest (ibm-block-csi-operator.objects.yaml: the CRDs of HostDefiner,
// HostDefinition and IBMBlockCSI, the operator's ServiceAccount,
// ClusterRole, ClusterRoleBinding and Deployment), the Deployment's
// container running the image table's ibm_block_csi_operator.
func ibmBlockCSIOperatorObjects(s Settings) ([]Object, error) {
	objs, err := staticObjects("ibm-block-csi-operator")
	if err != nil {
		return nil, err
	}
	r := &Render{Settings: s}
	for _, o := range objs {
		if o.GetKind() != "Deployment" || o.GetName() != "ibm-block-csi-operator" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		if len(containers) != 1 {
			return nil, fmt.Errorf("ibm-block-csi-operator.objects.yaml: want the operator's Deployment with one container, got %d", len(containers))
		}
		containers[0].(map[string]any)["image"] = r.image("ibm_block_csi_operator").String()
		if err := unstructured.SetNestedSlice(o.Object, containers, "spec", "template", "spec", "containers"); err != nil {
			return nil, fmt.Errorf("ibm-block-csi-operator's Deployment: %w", err)
		}
		return objs, nil
	}
	return nil, fmt.Errorf("ibm-block-csi-operator.objects.yaml lacks the Deployment ibm-block-csi-operator")
}

// ibmBlockCSIDriver declares ibm-block-csi-driver: the rest of atmosphere's
// ibm_block_csi_driver role — the IBMBlockCSI resource IBM's operator
// deploys the driver from, the Secret of the storage system's credentials
// and the StorageClass general, in kube-system — enabled when csi_driver
// is ibm-block, after the operator (whose manifest brings the
// IBMBlockCSI kind). It provides the StorageClass general the components
// claiming volumes name (storageProviders).
func ibmBlockCSIDriver() *Component {
	c := enabledWhen(manifests("ibm-block-csi-driver", "kube-system", 3, needs("ibm-block-csi-operator"), nil),
		func(c Config) bool { return c.csiDriver() == CSIDriverIBMBlock })
	c.objects = ibmBlockCSIDriverObjects
	return c
}

// ibmBlockCSIImages are the image table's keys of the IBMBlockCSI
// resource's images: its controller's and node's, and each sidecar's by
// its name.
var ibmBlockCSIImages = map[string]string{
	"controller":                "ibm_block_csi_driver_controller",
	"node":                      "ibm_block_csi_driver_node",
	"csi-node-driver-registrar": "ibm_block_csi_node_driver_registrar",
	"csi-provisioner":           "ibm_block_csi_provisioner",
	"csi-attacher":              "ibm_block_csi_attacher",
	"csi-snapshotter":           "ibm_block_csi_snapshotter",
	"csi-resizer":               "ibm_block_csi_resizer",
	"csi-addons-replicator":     "ibm_block_csi_addons_replicator",
	"csi-volume-group":          "ibm_block_csi_volume_group",
	"livenessprobe":             "ibm_block_csi_livenessprobe",
}

// ibmBlockCSICredentials is the Secret of the storage system's
// credentials, which the StorageClass's parameters name.
const ibmBlockCSICredentials = "ibm-block-csi-credentials"

// ibmBlockCSIDriverObjects are, in the role's order, the IBMBlockCSI
// resource of ibm-block-csi-driver.objects.yaml with the repository and
// tag of each image from the image table (ibmBlockCSIImages), the Secret
// ibm-block-csi-credentials (management_address, username, password) and
// the StorageClass general, the default class, of provisioner
// block.csi.ibm.com: expandable, in the inventory's pool and I/O group
// with its space efficiency, its provisioner reading the credentials from
// that Secret. The required knobs are an error when not set.
func ibmBlockCSIDriverObjects(s Settings) ([]Object, error) {
	objs, err := staticObjects("ibm-block-csi-driver")
	if err != nil {
		return nil, err
	}
	r := &Render{Settings: s}
	got := map[string]string{}
	for _, k := range ibmBlockCSIRequired {
		if got[k.name] = k.get(r); got[k.name] == "" && r.err == nil {
			r.fail(r.knobError(k.name, requiredByDriver(CSIDriverIBMBlock)))
		}
	}
	efficiency := ibmBlockCSISpaceEfficiency.get(r)
	if r.err != nil {
		return nil, r.err
	}
	if len(objs) != 1 || objs[0].GetKind() != "IBMBlockCSI" {
		return nil, fmt.Errorf("ibm-block-csi-driver.objects.yaml: want the IBMBlockCSI resource alone, got %d objects", len(objs))
	}
	if err := r.setIBMBlockCSIImages(objs[0].Object); err != nil {
		return nil, err
	}
	secret := object(map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata": map[string]any{"name": ibmBlockCSICredentials},
		"stringData": map[string]any{
			"management_address": got[ibmBlockCSIManagementAddress.name],
			"username":           got[ibmBlockCSIUsername.name],
			"password":           got[ibmBlockCSIPassword.name],
		},
	})
	class := object(map[string]any{
		"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
		"metadata": map[string]any{"name": "general",
			"annotations": map[string]any{"storageclass.kubernetes.io/is-default-class": "true"}},
		"provisioner":          "block.csi.ibm.com",
		"allowVolumeExpansion": true,
		"parameters": map[string]any{
			"pool":                                got[ibmBlockCSIPool.name],
			"io_group":                            got[ibmBlockCSIIOGroup.name],
			"SpaceEfficiency":                     efficiency,
			"csi.storage.k8s.io/secret-name":      ibmBlockCSICredentials,
			"csi.storage.k8s.io/secret-namespace": "kube-system",
		},
	})
	return append(objs, secret, class), nil
}

// setIBMBlockCSIImages sets the repository and tag of the controller, the
// node and each sidecar of an IBMBlockCSI resource from the image table;
// an image the resource has and ibmBlockCSIImages does not name, or one it
// names the resource lacks, is an error.
func (r *Render) setIBMBlockCSIImages(cr map[string]any) error {
	set := func(m map[string]any, name string) error {
		key, ok := ibmBlockCSIImages[name]
		if !ok {
			return fmt.Errorf("ibm-block-csi-driver.objects.yaml: no image of the table for %s", name)
		}
		i := r.image(key)
		m["repository"], m["tag"] = i.Name(), i.Tag
		return nil
	}
	spec, _ := cr["spec"].(map[string]any)
	done := 0
	for _, part := range []string{"controller", "node"} {
		m, ok := spec[part].(map[string]any)
		if !ok {
			return fmt.Errorf("ibm-block-csi-driver.objects.yaml: the IBMBlockCSI resource lacks spec.%s", part)
		}
		if err := set(m, part); err != nil {
			return err
		}
		done++
	}
	sidecars, _ := spec["sidecars"].([]any)
	for _, sc := range sidecars {
		m, _ := sc.(map[string]any)
		name, _ := m["name"].(string)
		if err := set(m, name); err != nil {
			return err
		}
		done++
	}
	if done != len(ibmBlockCSIImages) {
		return fmt.Errorf("ibm-block-csi-driver.objects.yaml: %d images set, the table names %d", done, len(ibmBlockCSIImages))
	}
	return nil
}
