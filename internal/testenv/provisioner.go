package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// StandInProvisioners are the external provisioners the test bed plays:
// those of the StorageClasses atmosphere's charts make on the kwok
// inventory, whose pods kwok never runs: "general", ceph-csi-rbd's
// (rbd.csi.ceph.com, csi_driver rbd), local-path-provisioner's
// (cluster.local/local-path-provisioner, csi_driver
// local-path-provisioner), hpe-csi-driver's, applied after its chart
// (csi.hpe.com, HPE's CSI driver, csi_driver hpe-nimble: no array to
// provision on here), storpool-csi's (csi.storpool.com, csi_driver
// storpool: a WaitForFirstConsumer class, whose claims the PV controller
// hands over once the scheduler has picked their pod's node) or
// ibm-block-csi-driver's (block.csi.ibm.com, csi_driver ibm-block) or
// Portworx's CSI driver's (pxd.portworx.com, csi_driver portworx), each
// played as a stand-in. ceph-provisioners' and rook's classes are
// turned off by atmosphere's values, and the test bed's own default class
// is served by the controller manager.
var StandInProvisioners = []string{"rbd.csi.ceph.com", "cluster.local/local-path-provisioner", "csi.hpe.com", "csi.storpool.com", "block.csi.ibm.com", "pxd.portworx.com"}

// Annotations of the PV controller and of external provisioners.
const (
	// annStorageProvisioner is set by the PV controller on a claim it
	// leaves to an external provisioner; the beta form is older.
	annStorageProvisioner     = "volume.kubernetes.io/storage-provisioner"
	annBetaStorageProvisioner = "volume.beta.kubernetes.io/storage-provisioner"
	// annProvisionedBy names, on a volume, the provisioner that made it.
	annProvisionedBy = "pv.kubernetes.io/provisioned-by"
)

// StandInVolumeDir is the directory the stand-in's hostPath volumes name.
// Nothing is written there: kwok runs no kubelet to mount them.
const StandInVolumeDir = "/var/lib/atmosphere-test/volumes"

// standInIdentity is the stand-in provisioner's name in the events it
// posts, after the provisioner's, as an external provisioner signs them.
const standInIdentity = "atmosphere-test-stand-in"

// volumeProvisioner plays external provisioners on the test cluster: a
// Pending claim the PV controller handed to one of them (the claim's
// storage-provisioner annotation) gets a hostPath PersistentVolume of its
// size, access modes, volume mode and class, pre-bound to it by a claimRef,
// which the PV controller then binds; a volume it made that is Released and
// whose reclaim policy is Delete is deleted, as the provisioner would.
type volumeProvisioner struct {
	cs           kubernetes.Interface
	provisioners []string
}

// sync makes one pass over the cluster's claims and volumes. It is
// idempotent: a claim's volume is named after the claim's UID, as
// external-provisioner names it, so two passes (or two stand-ins on one
// cluster) make one volume.
func (p *volumeProvisioner) sync(ctx context.Context) error {
	claims, err := p.cs.CoreV1().PersistentVolumeClaims("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list claims: %w", err)
	}
	var errs []error
	for i := range claims.Items {
		c := &claims.Items[i]
		prov := claimProvisioner(c)
		if c.Status.Phase != corev1.ClaimPending || c.Spec.VolumeName != "" || c.DeletionTimestamp != nil ||
			!slices.Contains(p.provisioners, prov) {
			continue
		}
		if err := p.provision(ctx, c, prov); err != nil {
			errs = append(errs, err)
		}
	}
	volumes, err := p.cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list volumes: %w", err))...)
	}
	for _, v := range volumes.Items {
		if v.Status.Phase != corev1.VolumeReleased || v.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete ||
			!slices.Contains(p.provisioners, v.Annotations[annProvisionedBy]) {
			continue
		}
		if err := p.cs.CoreV1().PersistentVolumes().Delete(ctx, v.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("delete released volume %s: %w", v.Name, err))
		}
	}
	return errors.Join(errs...)
}

// claimProvisioner is the provisioner the PV controller handed a claim to,
// "" when it has handed it to none.
func claimProvisioner(c *corev1.PersistentVolumeClaim) string {
	if p := c.Annotations[annStorageProvisioner]; p != "" {
		return p
	}
	return c.Annotations[annBetaStorageProvisioner]
}

// provision makes the volume of one claim and tells the claim, as an
// external provisioner does.
func (p *volumeProvisioner) provision(ctx context.Context, c *corev1.PersistentVolumeClaim, prov string) error {
	class := ""
	if c.Spec.StorageClassName != nil {
		class = *c.Spec.StorageClassName
	}
	reclaim := corev1.PersistentVolumeReclaimDelete
	if class != "" {
		sc, err := p.cs.StorageV1().StorageClasses().Get(ctx, class, metav1.GetOptions{})
		if err != nil {
			return fmt.Errorf("claim %s/%s: read its StorageClass %s: %w", c.Namespace, c.Name, class, err)
		}
		if sc.ReclaimPolicy != nil {
			reclaim = *sc.ReclaimPolicy
		}
	}
	size, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]
	if !ok {
		size = resource.MustParse("1Gi")
	}
	name := "pvc-" + string(c.UID)
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisionedBy: prov}},
		Spec: corev1.PersistentVolumeSpec{
			Capacity:                      corev1.ResourceList{corev1.ResourceStorage: size},
			AccessModes:                   c.Spec.AccessModes,
			VolumeMode:                    c.Spec.VolumeMode,
			StorageClassName:              class,
			PersistentVolumeReclaimPolicy: reclaim,
			ClaimRef: &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
				Namespace: c.Namespace, Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion},
			PersistentVolumeSource: corev1.PersistentVolumeSource{
				HostPath: &corev1.HostPathVolumeSource{Path: path.Join(StandInVolumeDir, name)},
			},
		},
	}
	_, err := p.cs.CoreV1().PersistentVolumes().Create(ctx, pv, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		return nil // an earlier pass made it; the PV controller binds it
	case err != nil:
		return fmt.Errorf("claim %s/%s: create its volume %s: %w", c.Namespace, c.Name, name, err)
	}
	// The event an external provisioner posts; best effort, as theirs.
	suffix := make([]byte, 8)
	_, _ = rand.Read(suffix)
	now := metav1.NewTime(time.Now())
	_, _ = p.cs.CoreV1().Events(c.Namespace).Create(ctx, &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: c.Name + "." + hex.EncodeToString(suffix), Namespace: c.Namespace},
		InvolvedObject: corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1",
			Namespace: c.Namespace, Name: c.Name, UID: c.UID, ResourceVersion: c.ResourceVersion},
		Reason:         "ProvisioningSucceeded",
		Message:        fmt.Sprintf("Successfully provisioned volume %s (a hostPath volume of the test bed's stand-in)", name),
		Source:         corev1.EventSource{Component: prov + "_" + standInIdentity},
		FirstTimestamp: now, LastTimestamp: now, Count: 1, Type: corev1.EventTypeNormal,
	}, metav1.CreateOptions{})
	return nil
}
