package cmd

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestDeployDryRunDiffOwnObjectsOfAnUnchangedRelease runs `atmosphere
// deploy --tags memcached` as a process on a cluster of its own (a Helm
// unit with an object of its own after the release: the Service
// memcached-metrics), then edits that Service live: `deploy --dry-run
// --diff` plans memcached:install "apply (release unchanged, own objects
// differ)" with the Service's port as its diff and nothing of the release,
// where before the edit it planned "unchanged" with no diff; the next
// deploy puts the port back (the edited port replaced, not added beside
// it: the edit's fields are taken over) and plans unchanged again.
func TestDeployDryRunDiffOwnObjectsOfAnUnchangedRelease(t *testing.T) {
	cfg, kubeconfig := testenv.PrivateKubeconfig(t, 1)
	inv := testenv.CopyDir(t, kwokInventory)
	common := []string{"--inventory", inv, "--kubeconfig", kubeconfig, "--report-dir", t.TempDir(),
		"--charts", sharedCharts, "--charts", testCharts, "--tags", "memcached"}
	run := func(step string, args ...string) string {
		t.Helper()
		stdout, stderr, code := cli(t, nil, slices.Concat(args, common)...)
		if code != 0 {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", step, code, testenv.LastLines(stdout, 40), testenv.LastLines(stderr, 40))
		}
		return stdout
	}
	plan := func(step string) plannedUnit {
		t.Helper()
		return plannedUnits(t, run(step, "deploy", "--dry-run", "--diff", "--output", "json"))["memcached:install"]
	}
	run("deploy", "deploy", "--output", "json")
	if u := plan("dry run as deployed"); u.Change != "unchanged" || u.Diff != "" {
		t.Errorf("as deployed, memcached:install is planned %q with diff %q, want unchanged and none", u.Change, u.Diff)
	}

	ctx := t.Context()
	services := kubernetes.NewForConfigOrDie(cfg).CoreV1().Services("openstack")
	svc, err := services.Get(ctx, "memcached-metrics", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Spec.Ports[0].Port = 9151
	// As `kubectl edit` would: an update under its field manager.
	if _, err := services.Update(ctx, svc, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	u := plan("dry run after the edit")
	if u.Change != "apply (release unchanged, own objects differ)" {
		t.Errorf("after the Service's edit, memcached:install is planned %q, want apply (release unchanged, own objects differ)", u.Change)
	}
	var changed []string
	for _, l := range strings.Split(u.Diff, "\n") {
		if (strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+")) && !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "+++") {
			changed = append(changed, l[:1]+strings.TrimSpace(l[1:]))
		}
	}
	if want := []string{"-port: 9151", "+port: 9150"}; !slices.Equal(changed, want) ||
		!strings.Contains(u.Diff, "--- deployed Service openstack/memcached-metrics\n") {
		t.Errorf("the diff changes %q, want %q of Service openstack/memcached-metrics:\n%s", changed, want, u.Diff)
	}

	run("second deploy", "deploy", "--output", "json")
	svc, err = services.Get(ctx, "memcached-metrics", metav1.GetOptions{})
	if err != nil || svc.Spec.Ports[0].Port != 9150 {
		t.Errorf("the next deploy left memcached-metrics's port %v (%v), want 9150", svc.Spec.Ports, err)
	}
	if u := plan("dry run after the second deploy"); u.Change != "unchanged" {
		t.Errorf("after the second deploy memcached:install is planned %q, want unchanged", u.Change)
	}
}
