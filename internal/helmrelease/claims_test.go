package helmrelease

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

const rbd = "rbd.csi.ceph.com"

// pendingClaim is a Pending claim of class; handedTo, when set, is the
// provisioner the PV controller handed it to.
func pendingClaim(name, class, handedTo string) *corev1.PersistentVolumeClaim {
	c := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "openstack", UID: types.UID("uid-" + name), Annotations: map[string]string{}},
		Spec:       corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To(class)},
		Status:     corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimPending},
	}
	if handedTo != "" {
		c.Annotations[annStorageProvisioner] = handedTo
	}
	return c
}

func storageClass(name, provisioner string) *storagev1.StorageClass {
	return &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Provisioner: provisioner}
}

// claimEvent is an event on a claim, reported by reporter.
func claimEvent(claim, uid, reporter, reason string) *corev1.Event {
	return &corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Name: claim + "." + reason + "." + uid, Namespace: "openstack"},
		InvolvedObject: corev1.ObjectReference{Kind: "PersistentVolumeClaim", Namespace: "openstack", Name: claim,
			UID: types.UID(uid)},
		Reason: reason, Source: corev1.EventSource{Component: reporter}, Type: corev1.EventTypeNormal,
	}
}

// TestClaimRule: a Pending claim fails a wait only after the grace, and
// only when its class is missing or nothing in the cluster acts as its
// provisioner; every sign of a provisioner at work (an event of its own on
// the claim, a CSI driver on a node, a Lease of its name, a volume it
// made) keeps the wait waiting, as do claims the rule does not judge.
func TestClaimRule(t *testing.T) {
	const grace = 30 * time.Second
	waitingOnRBD := claimEvent("data", "uid-data", pvController, "ExternalProvisioning")
	bound := pendingClaim("data", "general", rbd)
	bound.Spec.VolumeName, bound.Status.Phase = "pvc-1", corev1.ClaimBound
	tests := []struct {
		name    string
		objects []runtime.Object
		after   time.Duration // from the first sight to the second
		want    string        // the reason, "" for none
	}{
		{"class missing", []runtime.Object{pendingClaim("data", "general", "")}, grace, ReasonStorageClassNotFound},
		{"class missing, within the grace", []runtime.Object{pendingClaim("data", "general", "")}, grace - time.Second, ""},
		{"provisioner runs nowhere", []runtime.Object{storageClass("general", rbd), pendingClaim("data", "general", rbd), waitingOnRBD}, grace, ReasonProvisionerNotRunning},
		{"provisioner runs nowhere, within the grace", []runtime.Object{storageClass("general", rbd), pendingClaim("data", "general", rbd)}, grace - time.Second, ""},
		{"a CSIDriver object but no driver running", []runtime.Object{storageClass("general", rbd), pendingClaim("data", "general", rbd),
			&storagev1.CSIDriver{ObjectMeta: metav1.ObjectMeta{Name: rbd}}}, grace, ReasonProvisionerNotRunning},
		{"the provisioner acted on another claim only", []runtime.Object{storageClass("general", rbd), pendingClaim("data", "general", rbd),
			claimEvent("other", "uid-other", rbd+"_csi-rbdplugin-provisioner-0", "Provisioning")}, grace, ReasonProvisionerNotRunning},
		{"the provisioner acted on an earlier claim of that name", []runtime.Object{storageClass("general", rbd), pendingClaim("data", "general", rbd),
			claimEvent("data", "uid-earlier", rbd+"_csi-rbdplugin-provisioner-0", "ProvisioningSucceeded")}, grace, ReasonProvisionerNotRunning},
		{"slow, but the provisioner said it is at work", []runtime.Object{storageClass("general", rbd), pendingClaim("data", "general", rbd), waitingOnRBD,
			claimEvent("data", "uid-data", rbd+"_csi-rbdplugin-provisioner-0", "Provisioning")}, 10 * grace, ""},
		{"the provisioner failed on it, and says so", []runtime.Object{storageClass("general", rbd), pendingClaim("data", "general", rbd),
			claimEvent("data", "uid-data", rbd+"_csi-rbdplugin-provisioner-0", "ProvisioningFailed")}, 10 * grace, ""},
		{"its CSI driver runs on a node", []runtime.Object{storageClass("general", rbd), pendingClaim("data", "general", rbd),
			&storagev1.CSINode{ObjectMeta: metav1.ObjectMeta{Name: "node-0"}, Spec: storagev1.CSINodeSpec{Drivers: []storagev1.CSINodeDriver{{Name: rbd, NodeID: "node-0"}}}}},
			10 * grace, ""},
		{"external-provisioner's Lease", []runtime.Object{storageClass("general", rbd), pendingClaim("data", "general", rbd),
			&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "rbd-csi-ceph-com", Namespace: "kube-system"}}}, 10 * grace, ""},
		{"the provisioner library's Lease", []runtime.Object{storageClass("local", "rancher.io/local-path"), pendingClaim("data", "local", "rancher.io/local-path"),
			&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "rancher.io-local-path", Namespace: "local-path-storage"}}}, 10 * grace, ""},
		{"another provisioner's Lease", []runtime.Object{storageClass("general", rbd), pendingClaim("data", "general", rbd),
			&coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "kwok-node-0", Namespace: "kube-node-lease"}}}, grace, ReasonProvisionerNotRunning},
		{"a volume it made", []runtime.Object{storageClass("general", rbd), pendingClaim("data", "general", rbd),
			&corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: "pvc-0", Annotations: map[string]string{annProvisionedBy: rbd}}}}, 10 * grace, ""},
		{"not handed to an external provisioner", []runtime.Object{storageClass("local", "kubernetes.io/host-path"), pendingClaim("data", "local", "")}, 10 * grace, ""},
		{"volumes made by hand", []runtime.Object{storageClass("manual", noProvisioner), pendingClaim("data", "manual", noProvisioner)}, 10 * grace, ""},
		{"bound", []runtime.Object{bound}, 10 * grace, ""},
		{"no class named", []runtime.Object{pendingClaim("data", "", "")}, 10 * grace, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWaiter(context.Background(), fake.NewClientset(tt.objects...), nil)
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			w.claimGrace, w.now = grace, func() time.Time { return now }
			if f := w.claimFailure(context.Background(), "openstack", "data"); f != nil {
				t.Fatalf("at first sight: %v", f)
			}
			now = now.Add(tt.after)
			f := w.claimFailure(context.Background(), "openstack", "data")
			got := ""
			if f != nil {
				got = f.Reason
			}
			if got != tt.want {
				t.Fatalf("after %s: %v, want reason %q", tt.after, f, tt.want)
			}
			if f == nil {
				return
			}
			if f.Claim != "openstack/data" || f.Pending != tt.after {
				t.Errorf("failure %+v, want claim openstack/data Pending for %s", f, tt.after)
			}
			wantProvisioner := ""
			if f.Reason == ReasonProvisionerNotRunning {
				wantProvisioner = rbd
			}
			if f.Provisioner != wantProvisioner || f.StorageClass != "general" {
				t.Errorf("failure %+v, want class general, provisioner %q", f, wantProvisioner)
			}
			for _, part := range []string{"openstack/data", "general", wantProvisioner, f.Reason} {
				if !strings.Contains(f.Error(), part) {
					t.Errorf("%q does not name %q", f.Error(), part)
				}
			}
		})
	}
}

// TestClaimSightingsAreForgotten: a claim that was bound and is Pending
// again (made anew) gets the whole grace again.
func TestClaimSightingsAreForgotten(t *testing.T) {
	claim := pendingClaim("data", "general", "")
	cs := fake.NewClientset(claim)
	w := newWaiter(context.Background(), cs, nil)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w.claimGrace, w.now = time.Minute, func() time.Time { return now }
	steps := []struct {
		phase   corev1.PersistentVolumeClaimPhase
		advance time.Duration
		fails   bool
	}{
		{corev1.ClaimPending, 0, false},
		{corev1.ClaimPending, 50 * time.Second, false},
		{corev1.ClaimBound, 5 * time.Second, false},
		{corev1.ClaimPending, 5 * time.Second, false},
		{corev1.ClaimPending, 50 * time.Second, false},
		{corev1.ClaimPending, 10 * time.Second, true},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		claim.Status.Phase = s.phase
		if _, err := cs.CoreV1().PersistentVolumeClaims("openstack").UpdateStatus(context.Background(), claim, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		if f := w.claimFailure(context.Background(), "openstack", "data"); (f != nil) != s.fails {
			t.Errorf("step %d (%s, +%s): failure %v, want one: %t", i, s.phase, s.advance, f, s.fails)
		}
	}
}

// TestClaimsOfWhatIsWaitedOn: a claim waited on is judged itself; a
// workload's claims are its unscheduled pods' (a claim, a generic
// ephemeral volume's), and only when its template claims volumes;
// scheduled pods' are not.
func TestClaimsOfWhatIsWaitedOn(t *testing.T) {
	labels := map[string]string{"app": "ovsdb"}
	pod := func(name, node string, volumes ...corev1.Volume) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "openstack", Labels: labels},
			Spec: corev1.PodSpec{NodeName: node, Volumes: volumes}}
	}
	claimVolume := func(claim string) corev1.Volume {
		return corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}}
	}
	ephemeral := corev1.Volume{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}}
	sts := &appsv1.StatefulSet{ObjectMeta: metav1.ObjectMeta{Name: "ovsdb", Namespace: "openstack"},
		Spec: appsv1.StatefulSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{ObjectMeta: metav1.ObjectMeta{Name: "data"}}}}}
	// Deployments over the same pods, one whose template claims a volume.
	plain := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "plain", Namespace: "openstack"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels}}}
	claiming := plain.DeepCopy()
	claiming.Name, claiming.Spec.Template.Spec.Volumes = "claiming", []corev1.Volume{ephemeral}
	cs := fake.NewClientset(sts,
		pod("ovsdb-0", "", claimVolume("data-ovsdb-0"), ephemeral),
		pod("ovsdb-1", "kwok-node-1", claimVolume("data-ovsdb-1")))
	info := func(obj runtime.Object, kind string, group, version string) *resource.Info {
		m := obj.(metav1.Object)
		return &resource.Info{Name: m.GetName(), Namespace: m.GetNamespace(), Object: obj,
			Mapping: &meta.RESTMapping{GroupVersionKind: schema.GroupVersionKind{Group: group, Version: version, Kind: kind}}}
	}
	w := newWaiter(context.Background(), cs, nil)
	tests := []struct {
		name string
		info *resource.Info
		want []podClaim
	}{
		{"a StatefulSet", info(sts, "StatefulSet", "apps", "v1"),
			[]podClaim{{"openstack", "data-ovsdb-0", "ovsdb-0"}, {"openstack", "ovsdb-0-scratch", "ovsdb-0"}}},
		{"a Deployment whose template claims a volume", info(claiming, "Deployment", "apps", "v1"),
			[]podClaim{{"openstack", "data-ovsdb-0", "ovsdb-0"}, {"openstack", "ovsdb-0-scratch", "ovsdb-0"}}},
		{"a Deployment whose template claims none", info(plain, "Deployment", "apps", "v1"), nil},
		{"a claim", info(pendingClaim("data", "general", ""), "PersistentVolumeClaim", "", "v1"), []podClaim{{"openstack", "data", ""}}},
		{"a ConfigMap", info(&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "c", Namespace: "openstack"}}, "ConfigMap", "", "v1"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := w.claimsOf(context.Background(), tt.info); !slices.Equal(got, tt.want) {
				t.Errorf("claims %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestLeaseNames(t *testing.T) {
	tests := []struct {
		provisioner string
		want        []string
	}{
		{"rbd.csi.ceph.com", []string{"rbd-csi-ceph-com", "rbd.csi.ceph.com"}},
		{"rancher.io/local-path", []string{"rancher-io-local-path", "rancher.io-local-path"}},
		{"example.com/", []string{"example-com-X", "example.com-"}},
		{"plain", []string{"plain"}},
	}
	for _, tt := range tests {
		if got := leaseNames(tt.provisioner); !slices.Equal(got, tt.want) {
			t.Errorf("leaseNames(%q) = %v, want %v", tt.provisioner, got, tt.want)
		}
	}
}

// claimChart is a chart of a StorageClass of the given provisioner (none
// when "") and a StatefulSet of one replica whose volume claim template
// names the class, as ovn's ovsdb StatefulSets do.
func claimChart(class, provisioner string) *chart.Chart {
	var templates []*chart.File
	if provisioner != "" {
		templates = append(templates, &chart.File{Name: "templates/storageclass.yaml", Data: []byte(fmt.Sprintf(`
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: %s
provisioner: %s
reclaimPolicy: Delete
`, class, provisioner))})
	}
	templates = append(templates, &chart.File{Name: "templates/statefulset.yaml", Data: []byte(fmt.Sprintf(`
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: ovsdb
spec:
  replicas: 1
  serviceName: ovsdb
  selector:
    matchLabels: {app: ovsdb}
  template:
    metadata:
      labels: {app: ovsdb}
    spec:
      containers:
        - name: ovsdb
          image: registry.invalid/ovsdb:1
          volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
    - metadata:
        name: data
      spec:
        accessModes: [ReadWriteOnce]
        storageClassName: %s
        resources:
          requests:
            storage: 1Gi
`, class))})
	return &chart.Chart{Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "claims", Version: "0.1.0"}, Templates: templates}
}

// TestClaimsNobodyProvisionsFailTheWait: on the test cluster, with the
// stand-in operators running, a release whose StatefulSet claims a volume
// of a class whose provisioner nobody runs, or of a class that does not
// exist, fails once the claim grace is over, naming the StatefulSet, its
// pod, the claim, the class and the provisioner, long before its timeout;
// a class of the provisioner the test bed plays (ceph-csi-rbd's) deploys.
func TestClaimsNobodyProvisionsFailTheWait(t *testing.T) {
	d, cfg := newDeployer(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := testenv.StandIns(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	defer func(g time.Duration) { claimGrace = g }(claimGrace)
	claimGrace = 3 * time.Second
	tests := []struct {
		name        string
		provisioner string // of the release's class; "" for no class
		reason      string // "" for a release that deploys
	}{
		{"a provisioner nobody runs", "nobody.atmosphere.test", ReasonProvisionerNotRunning},
		{"no such class", "", ReasonStorageClassNotFound},
		{"ceph-csi-rbd's, played by the stand-in", testenv.StandInProvisioners[0], ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := testenv.Namespace(t, cfg)
			class := ns + "-class"
			t.Cleanup(func() {
				_ = cs.StorageV1().StorageClasses().Delete(context.Background(), class, metav1.DeleteOptions{})
			})
			// The release may wait ten minutes; the test gives it two.
			// Only the claim's early failure ends it in time.
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			_, err := d.Deploy(ctx, Release{Name: "claims", Namespace: ns, Chart: claimChart(class, tt.provisioner), Timeout: 10 * time.Minute})
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("deploy: %v", err)
				}
				return
			}
			var f *ClaimFailure
			if !errors.As(err, &f) {
				t.Fatalf("err = %v, want a ClaimFailure", err)
			}
			want := ClaimFailure{Object: "StatefulSet/" + ns + "/ovsdb", Pod: "ovsdb-0", Claim: ns + "/data-ovsdb-0",
				StorageClass: class, Provisioner: tt.provisioner, Reason: tt.reason}
			got := *f
			got.Pending, got.Events = 0, nil
			if got.Object != want.Object || got.Pod != want.Pod || got.Claim != want.Claim || got.StorageClass != want.StorageClass ||
				got.Provisioner != want.Provisioner || got.Reason != want.Reason {
				t.Errorf("failure %+v, want %+v", got, want)
			}
			if f.Pending < claimGrace {
				t.Errorf("failed after %s Pending, before the grace of %s", f.Pending, claimGrace)
			}
			for _, part := range []string{want.Claim, class, tt.provisioner} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("the error does not name %q: %v", part, err)
				}
			}
			t.Logf("%v", err)
			if rel := lastRelease(t, d, ns, "claims"); rel.Info.Status != release.StatusFailed {
				t.Errorf("release %s, want failed", rel.Info.Status)
			}
		})
	}
}
