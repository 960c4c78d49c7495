package cmd

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// ovnComponents are the components the OVN backend changes (those whose
// values `make fidelity-references` renders for it) and ovn itself.
const ovnComponents = "ovn,neutron,nova,libvirt,magnum"

// ovnSkip are the set-up units of those components that talk to APIs the
// test bed does not run (nova's, neutron's, glance's), left out as `make
// demo` leaves them out.
const ovnSkip = "nova:setup,neutron:setup,magnum:setup"

// TestDeployOVN runs `atmosphere deploy` as a process with the kwok
// inventory and the OVN backend (ATMOSPHERE_NETWORK_BACKEND=ovn, which the
// molecule inventory's atmosphere_network_backend reads, as atmosphere's
// OVN scenario sets it), on a cluster of its own with the stand-in
// operators and the test keystone, on the components OVN changes and what
// they need, with atmosphere's own charts. Every unit ends well; ovn is
// deployed and neutron's coredns is not; ovn's ovsdb claims (StorageClass
// "general", ceph-csi-rbd's) are bound to volumes of the stand-in
// provisioner; every StorageClass of the cluster has a provisioner the test
// bed serves; neutron runs OVN's metadata agent and not the Open vSwitch
// agent. Then the same deploy again changes nothing.
func TestDeployOVN(t *testing.T) {
	b := newKwokBed(t) // its database for keycloak's database phases
	cfg, kubeconfig, inv := b.cfg, b.kubeconfig, b.inventory
	env := append(b.env, "ATMOSPHERE_NETWORK_BACKEND=ovn")
	args := []string{"deploy", "--inventory", inv, "--kubeconfig", kubeconfig, "--charts", sharedCharts, "--charts", testCharts,
		"--report-dir", t.TempDir(), "--tags", ovnComponents, "--skip-tags", ovnSkip, "--output", "json"}

	start := time.Now()
	stdout, stderr, code := cli(t, env, args...)
	took := time.Since(start)
	if code != 0 {
		t.Fatalf("deploy: exit %d\nstdout:\n%s\nstderr:\n%s", code, testenv.LastLines(stdout, 40), stderr)
	}
	units := deploytest.Events(t, stdout)
	for _, unit := range slices.Sorted(maps.Keys(units)) {
		if k := units.Last(unit).Kind; k != deploy.Succeeded && k != deploy.Unchanged {
			t.Errorf("%s ended %s: %+v", unit, k, units.Last(unit))
		}
	}
	for _, unit := range []string{"ovn:install", "neutron:install", "nova:install", "libvirt:install", "magnum:install", "csi:install"} {
		if e := units.Last(unit); e.Kind != deploy.Succeeded || !strings.Contains(e.Detail, "install: new release") {
			t.Errorf("%s ended %+v, want a new release", unit, e)
		}
	}
	if _, ran := units["coredns:install"]; ran {
		t.Errorf("coredns:install ran: with OVN neutron has no coredns of its own")
	}
	t.Logf("first deploy: %d units in %s; ovn:install: %s", len(units), took.Round(time.Second), units.Last("ovn:install").Detail)

	cs := kubernetes.NewForConfigOrDie(cfg)
	checkOVNClaims(t, cs)
	checkStorageClassesServed(t, cs)
	// The agents' DaemonSets, by prefix (the charts' overrides add a
	// suffix per host group).
	daemonSets, err := cs.AppsV1().DaemonSets("openstack").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list the DaemonSets: %v", err)
	}
	for prefix, want := range map[string]bool{"ovn-controller": true, "neutron-ovn-metadata-agent": true, "neutron-ovs-agent": false} {
		has := slices.ContainsFunc(daemonSets.Items, func(ds appsv1.DaemonSet) bool { return strings.HasPrefix(ds.Name, prefix) })
		if has != want {
			t.Errorf("a DaemonSet openstack/%s*: %t, want %t (OVN's agents, not Open vSwitch's)", prefix, has, want)
		}
	}

	// Again: nothing changes.
	start = time.Now()
	stdout, stderr, code = cli(t, env, args...)
	t.Logf("second deploy: %s", time.Since(start).Round(time.Second))
	rerunChangesNothing(t, stdout, stderr, code)
}

// checkOVNClaims: ovn's ovsdb StatefulSets' claims are of ceph-csi-rbd's
// class "general", and each is bound to a volume the test bed's stand-in
// provisioner made.
func checkOVNClaims(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	ctx := context.Background()
	claims, err := cs.CoreV1().PersistentVolumeClaims("openstack").List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list the claims: %v", err)
	}
	var ovsdb []string
	for _, c := range claims.Items {
		if !strings.Contains(c.Name, "ovn-ovsdb-") {
			continue
		}
		ovsdb = append(ovsdb, c.Name)
		class := ""
		if c.Spec.StorageClassName != nil {
			class = *c.Spec.StorageClassName
		}
		if class != "general" || c.Status.Phase != "Bound" {
			t.Errorf("claim %s: class %q, %s; want general, Bound", c.Name, class, c.Status.Phase)
			continue
		}
		pv, err := cs.CoreV1().PersistentVolumes().Get(ctx, c.Spec.VolumeName, metav1.GetOptions{})
		if err != nil {
			t.Errorf("claim %s: its volume: %v", c.Name, err)
			continue
		}
		if by := pv.Annotations["pv.kubernetes.io/provisioned-by"]; by != "rbd.csi.ceph.com" || pv.Spec.HostPath == nil {
			t.Errorf("claim %s is bound to %s, provisioned by %q, hostPath %v: want the stand-in's rbd.csi.ceph.com hostPath volume",
				c.Name, pv.Name, by, pv.Spec.HostPath)
		}
	}
	if len(ovsdb) < 2 {
		t.Errorf("ovsdb claims %v: want the northbound and the southbound database's", ovsdb)
	}
	t.Logf("ovn's claims, bound to the stand-in's volumes: %s", strings.Join(ovsdb, ", "))
}

// checkStorageClassesServed: every StorageClass of the cluster (the test
// bed's and those the charts made) names a provisioner the test bed runs:
// the controller manager's hostPath provisioner or a stand-in.
func checkStorageClassesServed(t *testing.T, cs kubernetes.Interface) {
	t.Helper()
	classes, err := cs.StorageV1().StorageClasses().List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("list the StorageClasses: %v", err)
	}
	served := append([]string{"kubernetes.io/host-path"}, testenv.StandInProvisioners...)
	var names []string
	for _, sc := range classes.Items {
		names = append(names, fmt.Sprintf("%s (%s)", sc.Name, sc.Provisioner))
		if !slices.Contains(served, sc.Provisioner) {
			t.Errorf("StorageClass %s: its provisioner %s is not served by the test bed (%v)", sc.Name, sc.Provisioner, served)
		}
	}
	t.Logf("StorageClasses: %s", strings.Join(names, ", "))
}
