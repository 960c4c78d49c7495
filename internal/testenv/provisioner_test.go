package testenv

import (
	"context"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

func testClaim(name, class, provisioner string) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "openstack", UID: types.UID("uid-" + name), Annotations: map[string]string{}},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: ptr.To(class),
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			VolumeMode:       ptr.To(corev1.PersistentVolumeFilesystem),
			Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("5Gi")}},
		},
		Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
	}
	if provisioner != "" {
		c.Annotations[annStorageProvisioner] = provisioner
	}
	return c
}

func testVolume(name, provisioner string, phase corev1.PersistentVolumePhase, policy corev1.PersistentVolumeReclaimPolicy) *corev1.PersistentVolume {
	return &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: name, Annotations: map[string]string{annProvisionedBy: provisioner}},
		Spec:       corev1.PersistentVolumeSpec{PersistentVolumeReclaimPolicy: policy},
		Status:     corev1.PersistentVolumeStatus{Phase: phase},
	}
}

// TestVolumeProvisionerSync: a claim handed to a served provisioner gets
// one volume made for it (its size, modes, class and the class's reclaim
// policy, pre-bound to it), whatever the number of passes; claims of other
// provisioners, of none, or bound already get nothing; a released volume
// of a served provisioner is deleted when its policy says Delete, and only
// then.
func TestVolumeProvisionerSync(t *testing.T) {
	const served = "rbd.csi.ceph.com"
	general := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "general"}, Provisioner: served,
		ReclaimPolicy: ptr.To(corev1.PersistentVolumeReclaimRetain)}
	bound := testClaim("bound", "general", served)
	bound.Spec.VolumeName = "pvc-elsewhere"
	tests := []struct {
		name        string
		objects     []runtime.Object
		wantVolumes []string // the volumes left after two passes
	}{
		{"a claim of the served provisioner", []runtime.Object{general, testClaim("data", "general", served)}, []string{"pvc-uid-data"}},
		{"a claim of another provisioner", []runtime.Object{testClaim("data", "other", "other.csi.example.com")}, nil},
		{"a claim handed to no provisioner", []runtime.Object{testClaim("data", "kwok-hostpath", "")}, nil},
		{"a claim bound already", []runtime.Object{general, bound}, nil},
		{"released, policy Delete", []runtime.Object{testVolume("pvc-old", served, corev1.VolumeReleased, corev1.PersistentVolumeReclaimDelete)}, nil},
		{"released, policy Retain", []runtime.Object{testVolume("pvc-old", served, corev1.VolumeReleased, corev1.PersistentVolumeReclaimRetain)}, []string{"pvc-old"}},
		{"released, another provisioner's", []runtime.Object{testVolume("pvc-old", "other.csi.example.com", corev1.VolumeReleased, corev1.PersistentVolumeReclaimDelete)}, []string{"pvc-old"}},
		{"bound, policy Delete", []runtime.Object{testVolume("pvc-old", served, corev1.VolumeBound, corev1.PersistentVolumeReclaimDelete)}, []string{"pvc-old"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := fake.NewClientset(tt.objects...)
			p := &volumeProvisioner{cs: cs, provisioners: []string{served}}
			for pass := range 2 {
				if err := p.sync(context.Background()); err != nil {
					t.Fatalf("pass %d: %v", pass, err)
				}
			}
			list, err := cs.CoreV1().PersistentVolumes().List(context.Background(), metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, v := range list.Items {
				names = append(names, v.Name)
			}
			if !slices.Equal(names, tt.wantVolumes) {
				t.Fatalf("volumes %v, want %v", names, tt.wantVolumes)
			}
			if len(names) == 0 || names[0] != "pvc-uid-data" {
				return
			}
			v := list.Items[0]
			ref := v.Spec.ClaimRef
			if ref == nil || ref.Namespace != "openstack" || ref.Name != "data" || ref.UID != "uid-data" {
				t.Errorf("claimRef %+v, want openstack/data uid-data", ref)
			}
			if got := v.Spec.Capacity[corev1.ResourceStorage]; got.Cmp(resource.MustParse("5Gi")) != 0 {
				t.Errorf("capacity %s, want 5Gi", got.String())
			}
			if v.Spec.StorageClassName != "general" || !slices.Equal(v.Spec.AccessModes, []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}) ||
				v.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain || v.Spec.HostPath == nil ||
				v.Annotations[annProvisionedBy] != served || v.Spec.VolumeMode == nil || *v.Spec.VolumeMode != corev1.PersistentVolumeFilesystem {
				t.Errorf("volume %+v (annotations %v): want class general, ReadWriteOnce, Filesystem, Retain, a hostPath, provisioned by %s",
					v.Spec, v.Annotations, served)
			}
			events, _ := cs.CoreV1().Events("openstack").List(context.Background(), metav1.ListOptions{})
			if len(events.Items) != 1 || events.Items[0].Reason != "ProvisioningSucceeded" || events.Items[0].InvolvedObject.Name != "data" {
				t.Errorf("events %+v, want one ProvisioningSucceeded on the claim", events.Items)
			}
		})
	}
}

// TestStandInProvisionerBindsClaims: on the test cluster, a claim of a
// StorageClass of ceph-csi-rbd's provisioner is bound, by the PV
// controller, to the volume the stand-in made; deleting the claim deletes
// the volume (the class's policy is Delete).
func TestStandInProvisionerBindsClaims(t *testing.T) {
	cfg := Kube(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ns := Namespace(t, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := StandIns(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	class := ns + "-rbd"
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: class}, Provisioner: StandInProvisioners[0]}
	if _, err := cs.StorageV1().StorageClasses().Create(ctx, sc, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.StorageV1().StorageClasses().Delete(context.Background(), class, metav1.DeleteOptions{})
	})
	claim := testClaim("data", class, "")
	claim.Namespace, claim.UID, claim.Annotations, claim.Status = ns, "", nil, corev1.PersistentVolumeClaimStatus{}
	if _, err := cs.CoreV1().PersistentVolumeClaims(ns).Create(ctx, claim, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var volume string
	waitFor(t, "the claim bound", func(ctx context.Context) (bool, error) {
		c, err := cs.CoreV1().PersistentVolumeClaims(ns).Get(ctx, "data", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		volume = c.Spec.VolumeName
		return c.Status.Phase == corev1.ClaimBound, nil
	})
	pv, err := cs.CoreV1().PersistentVolumes().Get(ctx, volume, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if pv.Annotations[annProvisionedBy] != StandInProvisioners[0] || pv.Spec.StorageClassName != class || pv.Spec.HostPath == nil {
		t.Errorf("the claim is bound to %s (%v, class %s), not to a hostPath volume the stand-in made", pv.Name, pv.Annotations, pv.Spec.StorageClassName)
	}
	if err := cs.CoreV1().PersistentVolumeClaims(ns).Delete(ctx, "data", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the released volume deleted", func(ctx context.Context) (bool, error) {
		_, err := cs.CoreV1().PersistentVolumes().Get(ctx, volume, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}
