package cmd

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/golden"
	"github.com/vexxhost/atmosphere-go/internal/helmrelease"
	"github.com/vexxhost/atmosphere-go/internal/lease"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestRollback runs `atmosphere rollback` as a process against a cluster
// of its own: refused (exit 2) with one revision only; then memcached's
// value is changed, which `deploy --dry-run --diff` shows (text and JSON),
// and it is deployed again, and rolled back: a new revision
// with the first revision's values, reported with the events of a deploy;
// a revision that is not kept, and a deploy lease another run holds, are
// refused; the next deploy puts the inventory's values back.
func TestRollback(t *testing.T) {
	cfg, kubeconfig := testenv.PrivateKubeconfig(t, 1)
	inv := testenv.CopyDir(t, kwokInventory)
	common := []string{"--inventory", inv, "--kubeconfig", kubeconfig, "--report-dir", t.TempDir()}
	charts := []string{"--charts", sharedCharts, "--charts", testCharts}
	deployMemcached := func(step string) deploytest.Units {
		t.Helper()
		stdout, stderr, code := cli(t, nil, slices.Concat([]string{"deploy", "--tags", "memcached", "--output", "json"}, common, charts)...)
		if code != 0 {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", step, code, stdout, stderr)
		}
		return deploytest.Events(t, stdout)
	}
	rollback := func(args ...string) (string, string, int) {
		t.Helper()
		return cli(t, nil, slices.Concat([]string{"rollback", "memcached"}, args, common)...)
	}
	history := func() map[int]map[string]any {
		t.Helper()
		f, err := helmrelease.NewFactory(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		ac, err := f.ActionConfig(t.Context(), "openstack", nil)
		if err != nil {
			t.Fatal(err)
		}
		revs, err := ac.Releases.History("memcached")
		if err != nil {
			t.Fatal(err)
		}
		out := map[int]map[string]any{}
		for _, r := range revs {
			out[r.Version] = r.Config
		}
		return out
	}

	deployMemcached("first deploy")
	stdout, stderr, code := rollback()
	if code != ExitUsage || !strings.Contains(stderr, "rollback memcached: release openstack/memcached: revision 1 (deployed) has no deployed revision before it: nothing to roll back to") {
		t.Fatalf("rollback of one revision: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 2, nothing to roll back to", code, stdout, stderr)
	}
	if n := len(history()); n != 1 {
		t.Fatalf("the refused rollback left %d revisions, want 1", n)
	}

	extra := "memcached_helm_values:\n  pod:\n    replicas:\n      server: 2\n"
	if err := os.WriteFile(filepath.Join(inv, "group_vars", "all", "rollback.yml"), []byte(extra), 0o644); err != nil {
		t.Fatal(err)
	}
	// Before the second deploy, its dry run shows the change as a diff:
	// as text (no colour off a terminal), and as a field of the JSON.
	stdout, stderr, code = cli(t, nil, slices.Concat([]string{"deploy", "--tags", "memcached", "--dry-run", "--diff"}, common, charts)...)
	_, diffs, found := strings.Cut(stdout, "\nmemcached:install: ")
	if code != 0 || !found {
		t.Fatalf("deploy --dry-run --diff: exit %d\nstdout:\n%s\nstderr:\n%s\nwant memcached:install's diff", code, stdout, stderr)
	}
	golden.Check(t, "diff-memcached.txt", "memcached:install: "+diffs)
	if strings.Contains(diffs, "\x1b[") {
		t.Errorf("the diff is coloured off a terminal:\n%q", diffs)
	}
	stdout, stderr, code = cli(t, nil, slices.Concat([]string{"deploy", "--tags", "memcached", "--dry-run", "--diff", "--output", "json"}, common, charts)...)
	var unit struct{ Unit, Change, Diff string }
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if err := json.Unmarshal([]byte(line), &unit); err != nil {
			t.Fatalf("deploy --dry-run --diff --output json: %q: %v (exit %d, stderr %s)", line, err, code, stderr)
		}
		if unit.Unit == "memcached:install" {
			break
		}
	}
	if code != 0 || unit.Unit != "memcached:install" || unit.Diff != strings.TrimPrefix(diffs, unit.Change+"\n") {
		t.Errorf("deploy --dry-run --diff --output json: exit %d, memcached:install %+v\nwant its diff as the text's:\n%s", code, unit, diffs)
	}
	if n := len(history()); n != 1 {
		t.Fatalf("the dry runs left %d revisions, want 1", n)
	}

	deployMemcached("second deploy")

	stdout, stderr, code = rollback("--revision", "7")
	if code != ExitUsage || !strings.Contains(stderr, "no revision 7 (the revisions kept: 1, 2)") {
		t.Errorf("rollback --revision 7: exit %d\nstderr:\n%s\nwant exit 2 naming the revisions kept", code, stderr)
	}

	held, err := lease.Acquire(t.Context(), kubernetes.NewForConfigOrDie(cfg), lease.Options{Namespace: DefaultStateNamespace, Identity: "ops@elsewhere pid 1"})
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code = rollback()
	if err := held.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code != ExitFailure || !strings.Contains(stderr, "refused: another deploy holds the cluster: ops@elsewhere pid 1") {
		t.Errorf("rollback under another's lease: exit %d\nstderr:\n%s\nwant exit 1 naming the holder", code, stderr)
	}

	stdout, stderr, code = rollback("--output", "json")
	if code != 0 {
		t.Fatalf("rollback: exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	golden.Check(t, "events-rollback-memcached.jsonl", normalEvents(t, stdout))
	evs := deploytest.Events(t, stdout)
	if units := slices.Sorted(maps.Keys(evs)); !slices.Equal(units, []string{"memcached:install"}) {
		t.Errorf("rollback ran %v, want memcached:install alone", units)
	}
	if e := evs.Last("memcached:install"); e.Kind != deploy.Succeeded || e.Detail != "rollback: to revision 1 (revision 3)" {
		t.Errorf("rollback ended %+v, want succeeded, rollback: to revision 1 (revision 3)", e)
	}
	h := history()
	if len(h) != 3 || !reflect.DeepEqual(h[3], h[1]) || reflect.DeepEqual(h[3], h[2]) {
		t.Errorf("after the rollback, revisions %v: want a revision 3 with revision 1's values (not 2's)", slices.Sorted(maps.Keys(h)))
	}
	if got := dig(h[2], "pod", "replicas", "server"); got != float64(2) {
		t.Errorf("revision 2 has pod.replicas.server %v, want the changed 2", got)
	}
	if got := dig(h[3], "pod", "replicas", "server"); got == float64(2) {
		t.Errorf("revision 3 has pod.replicas.server %v, want revision 1's", got)
	}
	// The next deploy puts the inventory's values back.
	if e := deployMemcached("deploy after the rollback").Last("memcached:install"); !strings.Contains(e.Detail, "upgrade: values (revision 4)") {
		t.Errorf("deploy after the rollback: memcached:install ended %+v, want upgrade: values (revision 4)", e)
	}
}

// dig is the value at path in nested maps, nil when there is none.
func dig(m map[string]any, path ...string) any {
	var v any = m
	for _, k := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[k]
	}
	return v
}
