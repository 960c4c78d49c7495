// Command bench measures atmosphere beside the other ways to deploy the same
// Helm releases, on kwok clusters of its own, and writes the report
// (docs/benchmarks.md):
//
//   - a full deploy of every Helm component of the default deployment, with
//     atmosphere's charts and the values atmosphere renders, from an empty
//     cluster, by atmosphere, helmfile (same releases, same needs, same
//     concurrency), the helm CLI one release after another, and
//     ansible-playbook with kubernetes.core.helm on a subset (extrapolated);
//
//   - a no-op re-deploy, the peak memory of atmosphere, the requests each
//     tool puts on the API server;
//
//   - the DaemonSet-heavy components on 1, 100 and 500 nodes;
//
//   - the scheduler on the measured timings, and its overhead on a
//     10,000-node graph.
//
//     go run ./hack/bench --helmfile PATH --helm PATH [--runs 3] [--out docs/benchmarks.md]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/inventory"
)

type options struct {
	runs            int
	out             string
	helm, helmfile  string
	inventory       string
	charts          []string
	scale           []int
	ansibleReleases int
	timings         string
	// tools and sections choose what runs (all by default), for a quick
	// look at one part; the report then lacks the rest.
	tools, sections map[string]bool
	keep            string
}

func main() {
	var o options
	var charts, scale string
	flag.IntVar(&o.runs, "runs", 3, "runs of each tool in the full deploy")
	flag.StringVar(&o.out, "out", "docs/benchmarks.md", "where to write the report")
	flag.StringVar(&o.helm, "helm", "", "the helm CLI")
	flag.StringVar(&o.helmfile, "helmfile", "", "helmfile")
	flag.StringVar(&o.inventory, "inventory", "testdata/inventories/kwok", "atmosphere inventory")
	flag.StringVar(&charts, "charts", "../shared/atmosphere/charts,testdata/charts", "chart directories, comma-separated")
	flag.StringVar(&scale, "scale", "1,100,500", "node counts of the scale benchmark")
	flag.IntVar(&o.ansibleReleases, "ansible-releases", 5, "releases the ansible run deploys")
	flag.StringVar(&o.timings, "timings", "../shared/data/seed-aio-ovn-durations.csv", "measured durations for the scheduler benchmark")
	toolList := flag.String("tools", "atmosphere,helmfile,helm,ansible", "tools of the full deploy, comma-separated")
	sectionList := flag.String("sections", "deploy,scale,scheduler", "sections to run, comma-separated")
	flag.StringVar(&o.keep, "keep", "", "keep atmosphere's timing reports in this directory")
	flag.Parse()
	o.tools, o.sections = set(*toolList), set(*sectionList)
	log.SetOutput(io.Discard) // Helm's chart loader warns of old Chart.lock forms
	o.charts = strings.Split(charts, ",")
	for _, s := range strings.Split(scale, ",") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bench: --scale %q: want node counts of 1 or more\n", scale)
			os.Exit(2)
		}
		o.scale = append(o.scale, n)
	}
	if o.helm == "" || o.helmfile == "" || o.runs < 1 {
		fmt.Fprintln(os.Stderr, "bench: --helm and --helmfile are required, --runs at least 1")
		os.Exit(2)
	}
	// helmfile runs helm from the helmfile's directory.
	for _, p := range []*string{&o.helm, &o.helmfile} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: %v\n", err)
			os.Exit(2)
		}
		*p = abs
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	started := time.Now()
	work, err := os.MkdirTemp("", "atmosphere-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	extraEnv = helmEnv(work)
	reportsDir = filepath.Join(work, "reports")
	if o.keep != "" {
		reportsDir = o.keep
	}
	_ = testenv.DeleteStalePrivate(filepath.Join(testenv.DefaultStateDir(), "kwok"))

	t := tools{helm: o.helm, helmfile: o.helmfile, inventory: o.inventory, charts: o.charts,
		concurrency: components.DefaultCaps()[components.ResourceKubeAPI]}
	t.atmosphere = filepath.Join(work, "atmosphere")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", t.atmosphere, "./cmd/atmosphere").CombinedOutput(); err != nil {
		return fmt.Errorf("build atmosphere: %w\n%s", err, out)
	}
	if t.ansiblePlaybook, err = testenv.EnsureAnsible(ctx); err != nil {
		return err
	}

	inv, err := inventory.Load(o.inventory, nil)
	if err != nil {
		return err
	}
	settings, err := inv.Settings()
	if err != nil {
		return err
	}
	reg := components.Default()
	g, err := reg.Graph(settings.Config, components.GraphOptions{})
	if err != nil {
		return err
	}
	w, err := helmWorkload(reg, g, o.charts)
	if err != nil {
		return err
	}
	t.skip = w.skip
	r := &report{started: started, releases: w.releases, runs: o.runs, concurrency: t.concurrency}
	r.versions = map[string]string{
		"atmosphere": versionOf("git", "describe", "--always", "--dirty"),
		"go":         runtime.Version(),
		"helm":       versionOf(o.helm, "version", "--short"),
		"helmfile":   versionOf(o.helmfile, "--version"),
		"ansible":    versionOf(t.ansiblePlaybook, "--version"),
		"kubernetes": testenv.KubernetesVersion + " (kube-apiserver, kube-controller-manager, kube-scheduler), kwok " + testenv.KwokVersion,
		"machine":    fmt.Sprintf("%d CPUs, %s/%s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH),
	}

	if o.sections["deploy"] {
		if err := fullDeploys(ctx, t, w, o, work, r, rolesValuesOf(reg, inv, settings)); err != nil {
			return err
		}
	}
	if o.sections["scale"] {
		if err := scaleRuns(ctx, t, o, work, r); err != nil {
			return err
		}
	}
	if o.sections["scheduler"] {
		if err := schedulerRuns(ctx, t, o, work, r); err != nil {
			return err
		}
	}
	r.took = time.Since(started)
	return r.write(o.out)
}

// fullDeploys runs benchmarks 1, 2, 3 and 6: each tool o.runs times on an
// empty cluster, the tools interleaved so that the machine's drift spreads
// over all of them; a no-op re-run after atmosphere's and helmfile's.
func fullDeploys(ctx context.Context, t tools, w *workload, o options, work string, r *report, roles rolesValues) error {
	var values map[string]string
	var helmfile string
	subset := ansibleSubset(w.releases, o.ansibleReleases)
	r.ansibleSubset = subset
	// Each tool's run on its bed: the deploy and, where measured, the
	// no-op re-run. atmosphere comes first: its values are the others'.
	runs := []struct {
		tool, row, noopRow string
		run                func(b *bed) (measure, measure, error)
	}{
		{"atmosphere", "atmosphere", "atmosphere no-op", func(b *bed) (measure, measure, error) {
			before, _ := filepath.Glob(filepath.Join(reportsDir, "*.md"))
			m, err := b.timed(ctx, t.atmosphereDeploy(ctx, b, reportsDir))
			if err != nil {
				return m, measure{}, err
			}
			r.chains = append(r.chains, criticalChain(before))
			if values == nil {
				// What the chain's components did on the cluster.
				for _, c := range chainComponents(r.chains[len(r.chains)-1]) {
					jobs, err := b.componentJobs(ctx, c)
					if err != nil {
						return m, measure{}, err
					}
					r.chainJobs = append(r.chainJobs, componentJobs{component: c, jobs: jobs})
				}
				if values, helmfile, err = exportAll(b, w.releases, work, roles); err != nil {
					return m, measure{}, err
				}
			}
			before, _ = filepath.Glob(filepath.Join(reportsDir, "*.md"))
			noop, err := b.timed(ctx, t.atmosphereDeploy(ctx, b, reportsDir))
			if err == nil {
				noop.Units, err = unitsSpan(before)
			}
			return m, noop, err
		}},
		{"helmfile", "helmfile sync", "helmfile sync no-op", func(b *bed) (measure, measure, error) {
			m, err := b.timed(ctx, t.helmfileSync(ctx, helmfile))
			if err != nil {
				return m, measure{}, err
			}
			noop, err := b.timed(ctx, t.helmfileSync(ctx, helmfile))
			return m, noop, err
		}},
		{"helm", "helm, serial", "", func(b *bed) (measure, measure, error) {
			m, err := b.timed(ctx, t.helmSerial(ctx, w.releases, values)...)
			return m, measure{}, err
		}},
		{"ansible", "ansible (subset)", "", func(b *bed) (measure, measure, error) {
			dir := filepath.Join(work, "ansible")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return measure{}, measure{}, err
			}
			cmd, err := t.ansiblePlay(ctx, b, dir, subset, values)
			if err != nil {
				return measure{}, measure{}, err
			}
			m, err := b.timed(ctx, cmd)
			return m, measure{}, err
		}},
	}
	for i := range o.runs {
		for _, tr := range runs {
			if tr.tool != "atmosphere" && !o.tools[tr.tool] {
				continue
			}
			m, noop, err := onBed(ctx, 3, tr.run)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", tr.tool, i+1, err)
			}
			r.add(tr.row, m)
			if tr.noopRow != "" {
				r.add(tr.noopRow, noop)
			}
			progress(tr.row, i, m, noop)
		}
	}
	return nil
}

// exportAll writes the values of the releases atmosphere deployed on b, and
// the helmfile.yaml that deploys them, under work.
func exportAll(b *bed, releases []release, work string, roles rolesValues) (map[string]string, string, error) {
	dir := filepath.Join(work, "values")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, "", err
	}
	values, err := exportValues(b, releases, dir, roles)
	if err != nil {
		return nil, "", err
	}
	helmfile, err := writeHelmfile(work, releases, values)
	return values, helmfile, err
}

// ansibleSubset picks n releases that need no release outside them, in
// deploy order.
func ansibleSubset(releases []release, n int) []release {
	var out []release
	in := map[string]bool{}
	for _, r := range releases {
		if len(out) == n {
			break
		}
		if !slices.ContainsFunc(r.Needs, func(id string) bool { return !in[id] }) {
			out = append(out, r)
			in[r.id()] = true
		}
	}
	return out
}

// scaleVars are laid over the inventory for the scale benchmark (a
// variable set again replaces the inventory's: the kwok inventory's
// ceph-csi values are repeated).
const scaleVars = "ceph_csi_rbd_helm_values:\n  provisioner:\n    replicaCount: 1\n" +
	"  storageClass:\n    annotations:\n      storageclass.kubernetes.io/is-default-class: \"false\"\n"

// daemonSetHeavy are the components of the scale benchmark.
var daemonSetHeavy = []string{"openvswitch", "libvirt", "kube-prometheus-stack", "goldpinger"}

// scaleRuns is benchmark 4: the DaemonSet-heavy components (with the Helm
// releases they need) on clusters of each node count.
func scaleRuns(ctx context.Context, t tools, o options, work string, r *report) error {
	// One node cannot hold ceph-csi-rbd's three provisioners, which keep
	// off each other's node: the scale runs ask for one.
	inv := filepath.Join(work, "scale-inventory")
	if err := os.CopyFS(inv, os.DirFS(o.inventory)); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(inv, "group_vars", "all", "zz-scale.yml"), []byte(scaleVars), 0o600); err != nil {
		return err
	}
	t.inventory = inv
	for _, nodes := range o.scale {
		var ro rollouts
		m, _, err := onBed(ctx, nodes, func(b *bed) (measure, measure, error) {
			m, err := b.timed(ctx, t.atmosphereDeploy(ctx, b, reportsDir, "--tags", strings.Join(daemonSetHeavy, ",")))
			if err != nil {
				return m, measure{}, err
			}
			ro, err = b.daemonSetRollouts(ctx, m.Start)
			return m, measure{}, err
		})
		if err != nil {
			return fmt.Errorf("scale %d nodes: %w", nodes, err)
		}
		r.scale = append(r.scale, scalePoint{nodes: nodes, m: m, rollouts: ro})
		progress(fmt.Sprintf("scale %d nodes", nodes), 0, m, measure{})
	}
	return nil
}

// schedulerRuns is benchmark 5: `atmosphere simulate` on the measured
// timings, and the Go benchmarks of the scheduler.
func schedulerRuns(ctx context.Context, t tools, o options, work string, r *report) error {
	// An empty phases file: each phase takes its share of its component's
	// measured time.
	phases := filepath.Join(work, "phases.csv")
	if err := os.WriteFile(phases, nil, 0o600); err != nil {
		return err
	}
	var uncapped []string
	for _, name := range slices.Sorted(maps.Keys(components.DefaultCaps())) {
		uncapped = append(uncapped, "--resource", name+"=1000")
	}
	variants := [][]string{
		nil, // the registry's caps
		uncapped,
		{"--phases", phases},
		append(slices.Clone(uncapped), "--phases", phases),
	}
	for _, v := range variants {
		args := append([]string{"simulate", "--timings", o.timings}, v...)
		out, err := exec.CommandContext(ctx, t.atmosphere, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("atmosphere %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		r.simulate = append(r.simulate, simulation{args: strings.ReplaceAll(strings.Join(args, " "), phases, "empty.csv"), output: string(out)})
	}
	out, err := exec.CommandContext(ctx, "go", "test", "-run", "^$", "-bench", ".", "-benchmem", "./dag/...", "./components/").CombinedOutput()
	if err != nil {
		return fmt.Errorf("go test -bench: %w\n%s", err, out)
	}
	r.goBench = string(out)
	return nil
}

// onBed runs f on a new bed of that many nodes, deleted after.
func onBed(ctx context.Context, nodes int, f func(*bed) (measure, measure, error)) (measure, measure, error) {
	b, err := newBed(ctx, nodes)
	if err != nil {
		return measure{}, measure{}, err
	}
	m, n, err := f(b)
	return m, n, errors.Join(err, b.close())
}

func progress(tool string, run int, m, noop measure) {
	fmt.Fprintf(os.Stderr, "bench: %s run %d: %s, %d revisions, %.0f API requests (%.1f/s, mean %s), cluster CPU %s, peak RSS %d MB",
		tool, run+1, m.Wall.Round(100*time.Millisecond), m.NewRevisions, m.API.all, m.requestRate(), m.meanLatency().Round(time.Millisecond),
		m.clusterCPU().Round(100*time.Millisecond), m.MaxRSS>>20)
	if noop.Wall > 0 {
		fmt.Fprintf(os.Stderr, "; no-op %s, %d revisions", noop.Wall.Round(10*time.Millisecond), noop.NewRevisions)
	}
	fmt.Fprintln(os.Stderr)
}

// reportsDir is where atmosphere's runs write their timing reports.
var reportsDir string

func set(list string) map[string]bool {
	out := map[string]bool{}
	for _, x := range strings.Split(list, ",") {
		out[strings.TrimSpace(x)] = true
	}
	return out
}

// newReport is the timing report atmosphere wrote that is not among
// before (the reports there before the run).
func newReport(before []string) ([]byte, string, error) {
	after, _ := filepath.Glob(filepath.Join(reportsDir, "*.md"))
	for _, p := range after {
		if !slices.Contains(before, p) {
			raw, err := os.ReadFile(p)
			return raw, p, err
		}
	}
	return nil, "", errors.New("the run wrote no timing report")
}

// unitsSpan is how long the units of the run whose timing report is not
// among before took, from their report's first line ("Started …: N units
// in D, …"): the rest of the run's wall time is the process's own work
// before and after them (inventory, secrets, the check of every unit,
// the deploy lease, the durations and the report written).
func unitsSpan(before []string) (time.Duration, error) {
	raw, path, err := newReport(before)
	if err != nil {
		return 0, err
	}
	m := unitsLine.FindSubmatch(raw)
	if m == nil {
		return 0, fmt.Errorf("timing report %s: no line 'N units in D'", path)
	}
	return time.ParseDuration(string(m[1]))
}

var unitsLine = regexp.MustCompile(`(?m)^Started \S+: \d+ units in ((?:[0-9.]+(?:h|ms|m|µs|ns|s))+)`)

// criticalChain is the critical chain line of the timing report atmosphere
// wrote that is not among before.
func criticalChain(before []string) string {
	raw, _, err := newReport(before)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "Critical chain") {
			return strings.TrimSuffix(line, ".")
		}
	}
	return ""
}
