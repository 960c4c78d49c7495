package faults

import (
	"context"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestUpgradeSafety: `atmosphere upgrade memcached` with values whose
// image never pulls fails. With --rollback the release is rolled back at
// once: its last revision is deployed and the Deployment serves the
// previous image, ready. Without it the failed revision stays, and the
// next run (the values put right) repairs it.
func TestUpgradeSafety(t *testing.T) {
	b := newBed(t)
	b.deployCompletes("first deploy", "--tags", "memcached")
	good := b.memcached()
	goodImage := good.Spec.Template.Spec.Containers[0].Image

	upgrade := func(what string, extra ...string) (string, int) {
		args := []string{"upgrade", "memcached", "--inventory", b.inventory, "--kubeconfig", b.kubeconfig,
			"--charts", sharedCharts, "--charts", testCharts, "--report-dir", b.reports, "--output", "json", "--unit-timeout", "3m"}
		p, code := b.run(what, append(args, extra...)...)
		return p.stderr.String(), code
	}
	breakIt := func() {
		b.addVars("zz-upgrade.yml", fmt.Sprintf("memcached_helm_values:\n  images:\n    tags:\n      memcached: %q\n", testenv.NeverPullsImage))
	}

	breakIt()
	stderr, code := upgrade("upgrade --rollback", "--rollback")
	if code != 1 || !strings.Contains(stderr, "ImagePullBackOff") || !strings.Contains(stderr, "rolled back to revision") {
		t.Errorf("upgrade --rollback: exit %d, want 1 naming the pull failure and the rollback:\n%s", code, stderr)
	}
	rel := b.lastRevision("openstack", "memcached")
	if rel.status != "deployed" {
		t.Errorf("after the rollback the last revision %d is %s, want deployed", rel.version, rel.status)
	}
	served := b.memcached()
	if img := served.Spec.Template.Spec.Containers[0].Image; img != goodImage {
		t.Errorf("after the rollback memcached runs %s, want the previous %s", img, goodImage)
	}
	if served.Status.ReadyReplicas == 0 {
		t.Errorf("after the rollback memcached has no ready replica")
	}

	stderr, code = upgrade("upgrade without --rollback")
	if code != 1 || !strings.Contains(stderr, "ImagePullBackOff") {
		t.Errorf("upgrade: exit %d, want 1 naming the pull failure:\n%s", code, stderr)
	}
	if rel := b.lastRevision("openstack", "memcached"); rel.status != "failed" {
		t.Errorf("after a failed upgrade without --rollback the last revision %d is %s, want failed", rel.version, rel.status)
	}

	b.addVars("zz-upgrade.yml", "{}\n")
	stderr, code = upgrade("repairing upgrade")
	if code != 0 {
		t.Fatalf("repairing upgrade: exit %d\n%s", code, stderr)
	}
	if rel := b.lastRevision("openstack", "memcached"); rel.status != "deployed" {
		t.Errorf("after the repair the last revision %d is %s, want deployed", rel.version, rel.status)
	}
	if img := b.memcached().Spec.Template.Spec.Containers[0].Image; img != goodImage {
		t.Errorf("after the repair memcached runs %s, want %s", img, goodImage)
	}
	b.noPendingRelease("after the repair")
	b.scanSecrets()
}

func (b *bed) memcached() *appsv1.Deployment {
	b.t.Helper()
	d, err := b.client.AppsV1().Deployments("openstack").Get(context.Background(), "memcached-memcached", metav1.GetOptions{})
	if err != nil {
		b.t.Fatal(err)
	}
	return d
}

// lastRevision is the last revision of a release.
func (b *bed) lastRevision(namespace, name string) revision {
	b.t.Helper()
	revs := b.releases(namespace)[namespace+"/"+name]
	if len(revs) == 0 {
		b.t.Fatalf("no release %s/%s", namespace, name)
	}
	return revs[len(revs)-1]
}

// TestUpgradeChangesNovasJobs: `atmosphere upgrade nova` to a new nova
// image changes the template of its bootstrap and cell-setup Jobs, which
// are not Helm hooks and whose templates cannot change; the old Jobs are
// removed first (as atmosphere's nova role does) and the upgrade completes
// with Jobs of the new image.
func TestUpgradeChangesNovasJobs(t *testing.T) {
	b := newBed(t)
	b.deployCompletes("first deploy", "--tags", "nova")
	const upgraded = "ghcr.io/vexxhost/nova:upgraded"
	b.addVars("zz-upgrade.yml", fmt.Sprintf("atmosphere_image_overrides:\n  nova_cell_setup: %s\n", upgraded))
	p, code := b.run("upgrade nova", "upgrade", "nova", "--inventory", b.inventory, "--kubeconfig", b.kubeconfig,
		"--charts", sharedCharts, "--charts", testCharts, "--skip-tags", skipSetup, "--report-dir", b.reports, "--output", "json")
	if code != 0 {
		t.Fatalf("upgrade nova: exit %d, want 0\n%s", code, p.stderr.String())
	}
	job, err := b.client.BatchV1().Jobs("openstack").Get(context.Background(), "nova-cell-setup", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if img := job.Spec.Template.Spec.Containers[0].Image; img != upgraded {
		t.Errorf("Job nova-cell-setup runs %s, want %s", img, upgraded)
	}
	if rel := b.lastRevision("openstack", "nova"); rel.status != "deployed" || rel.version != 2 {
		t.Errorf("nova's last revision %d is %s, want 2 deployed", rel.version, rel.status)
	}
	b.noPendingRelease("after the upgrade")
	b.scanSecrets()
}
