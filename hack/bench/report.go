package main

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// report collects the figures of a bench run and writes them as Markdown.
type report struct {
	started       time.Time
	took          time.Duration
	versions      map[string]string
	releases      []release
	ansibleSubset []release
	runs          int
	concurrency   int

	order    []string
	measures map[string][]measure
	scale    []scalePoint
	// chains are the critical chains of atmosphere's full deploys, from
	// its timing reports.
	chains []string
	// chainJobs are the Jobs of the first run's chain, component by
	// component.
	chainJobs []componentJobs
	simulate  []simulation
	goBench   string
}

type scalePoint struct {
	nodes    int
	m        measure
	rollouts rollouts
}

// componentJobs are the Jobs a component of atmosphere's critical chain
// ran in its first full deploy.
type componentJobs struct {
	component string
	jobs      []jobSpan
}

type simulation struct{ args, output string }

func (r *report) add(tool string, m measure) {
	if r.measures == nil {
		r.measures = map[string][]measure{}
	}
	if _, ok := r.measures[tool]; !ok {
		r.order = append(r.order, tool)
	}
	r.measures[tool] = append(r.measures[tool], m)
}

// stats are the median and spread of one figure over the runs.
type stats struct{ median, min, max float64 }

func statsOf(ms []measure, f func(measure) float64) stats {
	var xs []float64
	for _, m := range ms {
		xs = append(xs, f(m))
	}
	if len(xs) == 0 {
		return stats{}
	}
	slices.Sort(xs)
	med := xs[len(xs)/2]
	if len(xs)%2 == 0 {
		med = (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
	}
	return stats{median: med, min: xs[0], max: xs[len(xs)-1]}
}

func seconds(m measure) float64 { return m.Wall.Seconds() }

func (s stats) String() string {
	return fmt.Sprintf("%.1f s (%.1f–%.1f)", s.median, s.min, s.max)
}

// goal is a line of the goals table.
type goal struct {
	what, target, measured string
	met                    bool
}

func (r *report) goals() []goal {
	atm := statsOf(r.measures["atmosphere"], seconds).median
	hf := statsOf(r.measures["helmfile sync"], seconds).median
	serial := statsOf(r.measures["helm, serial"], seconds).median
	noop := r.measures["atmosphere no-op"]
	noopSecs := statsOf(noop, seconds).median
	noopRevs := 0
	for _, m := range noop {
		noopRevs += m.NewRevisions
	}
	rss := statsOf(r.measures["atmosphere"], func(m measure) float64 { return float64(m.MaxRSS) / (1 << 20) }).max
	var gs []goal
	if atm > 0 {
		gs = append(gs,
			goal{"full deploy vs helmfile", "≥ 3×", fmt.Sprintf("%.2f×", hf/atm), hf/atm >= 3},
			goal{"full deploy vs serial helm", "≥ 5×", fmt.Sprintf("%.2f×", serial/atm), serial/atm >= 5},
		)
	}
	gs = append(gs,
		goal{"no-op re-deploy", "< 1 s, 0 new revisions", fmt.Sprintf("%.2f s, %d revisions", noopSecs, noopRevs), noopSecs < 1 && noopRevs == 0},
		goal{"peak RSS of atmosphere", "< 300 MB", fmt.Sprintf("%.0f MB", rss), rss < 300},
	)
	if len(r.scale) >= 2 {
		first, last := r.scale[0], r.scale[len(r.scale)-1]
		ratio := last.m.Wall.Seconds() / first.m.Wall.Seconds()
		gs = append(gs, goal{fmt.Sprintf("%d nodes vs %d", last.nodes, first.nodes), "≤ 1.5×", fmt.Sprintf("%.2f×", ratio), ratio <= 1.5})
	}
	return gs
}

func (r *report) write(path string) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Benchmarks\n\n")
	p("Written by `make bench` (`go run ./hack/bench`) on %s; the run took %s. ", r.started.UTC().Format("2006-01-02 15:04 MST"), r.took.Round(time.Second))
	p("Every figure below is from that run: regenerate this file rather than edit it. ")
	p("The machine is shared and noisy, so compare tools by the ratios of their medians, measured in the same run, more than by seconds.\n\n")

	p("## Goals\n\n| what | goal | measured | met |\n|---|---|---|---|\n")
	for _, g := range r.goals() {
		met := "yes"
		if !g.met {
			met = "**no**"
		}
		p("| %s | %s | %s | %s |\n", g.what, g.target, g.measured, met)
	}

	p("\n## 1–3, 6. Full deploy, no-op, memory, API server requests\n\n")
	p("Each tool deploys the %d Helm releases of the default deployment (the kwok inventory, `testdata/inventories/kwok`) onto an empty kwok cluster of 3 nodes of its own, %d times, the tools interleaved. ", len(r.releases), r.runs)
	p("The charts are atmosphere's (`../shared/atmosphere/charts`, cert-manager from `testdata/charts`); the values are those atmosphere rendered in its first run, read back from the release (`helm get values`), given to the other tools as atmosphere's roles give them: with the chart Jobs that atmosphere's own phases do natively on again (each OpenStack chart's keystone, db-init and rabbit-init Jobs: `components.Component.WithChartJobs`), so the others install what the roles install, every chart Job with it. ")
	p("Every tool waits as atmosphere does: resources ready and Jobs complete. The units that are not work on the cluster (OpenStack set-up, Ansible, keycloak realms), and the catalog, database and queue units that do those Jobs' work natively (the bench's cluster has no keystone, MySQL or RabbitMQ behind the charts' Services; they take a second or two each, off the Helm units' path but before them), are left out of atmosphere's run with `--skip-tags`; ")
	p("its manifest units (the cluster issuer, the Percona XtraDB cluster, the IPMI exporter) and the objects some components apply beside their release (valkey, keystone, libvirt…) stay, so atmosphere does somewhat more than the other tools.\n\n")
	p("| tool | wall time, median (min–max) | CPU time | new revisions | API requests | API requests/s | mean API latency | API requests over 1 s | answered 429 / 5xx | control-plane CPU | peak RSS |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, tool := range r.order {
		ms := r.measures[tool]
		rss := "—"
		if tool == "atmosphere" || tool == "atmosphere no-op" {
			rss = fmt.Sprintf("%.0f MB", statsOf(ms, func(m measure) float64 { return float64(m.MaxRSS) / (1 << 20) }).max)
		}
		p("| %s | %s | %.1f s | %.0f | %.0f | %.1f | %.0f ms | %.0f | %.0f / %.0f | %.1f s | %s |\n", tool, statsOf(ms, seconds),
			statsOf(ms, func(m measure) float64 { return m.CPU.Seconds() }).median,
			statsOf(ms, func(m measure) float64 { return float64(m.NewRevisions) }).median,
			statsOf(ms, func(m measure) float64 { return m.API.all }).median,
			statsOf(ms, func(m measure) float64 { return m.requestRate() }).median,
			statsOf(ms, func(m measure) float64 { return m.meanLatency().Seconds() * 1000 }).median,
			statsOf(ms, func(m measure) float64 { return m.API.overSecond }).max,
			statsOf(ms, func(m measure) float64 { return m.API.overloaded }).max,
			statsOf(ms, func(m measure) float64 { return m.API.failed }).max,
			statsOf(ms, func(m measure) float64 { return m.clusterCPU().Seconds() }).median, rss)
	}
	r.writeServerErrors(p)
	r.writeNoopSplit(p)
	if ms := r.measures["ansible (subset)"]; len(ms) > 0 && len(r.ansibleSubset) > 0 {
		per := statsOf(ms, seconds).median / float64(len(r.ansibleSubset))
		var names []string
		for _, s := range r.ansibleSubset {
			names = append(names, s.id())
		}
		serialPer := statsOf(r.measures["helm, serial"], seconds).median / float64(len(r.releases))
		p("\nansible-playbook deployed %d releases (%s), one `kubernetes.core.helm` task each: %.1f s a release. ", len(r.ansibleSubset), strings.Join(names, ", "), per)
		p("**Extrapolated**, not measured: %d releases would take %.0f s that way (serial helm: %.1f s a release).\n", len(r.releases), per*float64(len(r.releases)), serialPer)
	}
	if len(r.chains) > 0 {
		p("\nThe critical chains of atmosphere's runs (from its timing reports; a chain is the units each of which could start only when the one before ended):\n\n")
		for i, c := range r.chains {
			p("%d. %s\n", i+1, c)
		}
	}
	r.whyMissed(p)
	r.writeChainJobs(p)
	p("\nhelmfile runs `sync --concurrency %d --skip-deps` (atmosphere's cap on concurrent Kubernetes API work is %d) with each release's `needs:` the Helm releases its atmosphere unit needs, directly or through the units left out. ", r.concurrency, r.concurrency)
	p("`helmfile apply` is not measured: it needs the helm-diff plugin, which the Go module proxy this machine reaches does not serve. ")
	p("The no-op rows re-run the same tool on the deployed cluster. API requests are the growth of the API server's `apiserver_request_total` over the run (all clients: the controllers and kwok too). ")
	p("Latency is from `apiserver_request_duration_seconds` over the run, WATCH and CONNECT left out (they last as long as the client wants); the column after it counts the requests that took longer than a second (medians, but the maximum over the runs for that and the refusals). ")
	p("kwokctl starts the API server with `--max-requests-inflight=0` (no limit), so it refuses no request for load: an overloaded control plane shows as latency here. ")
	p("The 429s it does answer are LISTs and WATCHes of a custom resource whose watch cache is still starting, just after its CRD was created (KEP-4568; `Cacher.GetList` and `Cacher.Watch` in k8s.io/apiserver), which the client retries after the Retry-After it is given. ")
	p("Control-plane CPU is the processor time etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok used during the run (from /proc); the machine has %d cores.\n", runtime.NumCPU())

	if len(r.scale) > 0 {
		p("\n## 4. Scale: DaemonSet-heavy components\n\n")
		p("`atmosphere deploy --tags %s` (with the Helm releases they need) onto an empty kwok cluster of N nodes; one run each. ", strings.Join(daemonSetHeavy, ","))
		p("The inventory asks ceph-csi-rbd for one provisioner instead of three (they keep off each other's node, and one node holds one).\n\n")
		p("| nodes | wall time | ratio to %d node(s) | DaemonSets, their pods | first DaemonSet created → last of its pods ready | atmosphere CPU | control-plane CPU (cores busy) | by component | API requests/s | mean API latency |\n|---|---|---|---|---|---|---|---|---|---|\n", r.scale[0].nodes)
		for _, s := range r.scale {
			ro := s.rollouts
			p("| %d | %.1f s | %.2f× | %d, %d | %.0f s → %.0f s | %.1f s | %.1f s (%.2f) | %s | %.1f | %.0f ms |\n", s.nodes, s.m.Wall.Seconds(), s.m.Wall.Seconds()/r.scale[0].m.Wall.Seconds(),
				ro.daemonSets, ro.pods, ro.firstCreated.Seconds(), ro.lastReady.Seconds(), s.m.CPU.Seconds(),
				s.m.clusterCPU().Seconds(), s.m.clusterCPU().Seconds()/s.m.Wall.Seconds(), cpuByComponent(s.m.ClusterCPU),
				s.m.requestRate(), s.m.meanLatency().Seconds()*1000)
		}
		r.whyScale(p)
	}

	p("\n## 5. Scheduler\n\nThe measured per-component durations of `../shared/data/` replayed through the real scheduler on a virtual clock, beside the lower bounds.\n")
	for _, s := range r.simulate {
		p("\n`atmosphere %s`\n\n```\n%s```\n", s.args, s.output)
	}
	p("\nThe scheduler's own cost (`go test -run '^$' -bench . -benchmem ./dag/... ./components/`): `BenchmarkRun10k` runs a synthetic 10,000-node DAG of no-op work.\n\n```\n%s```\n", r.goBench)

	p("\n## Versions\n\n| | |\n|---|---|\n")
	keys := make([]string, 0, len(r.versions))
	for k := range r.versions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		p("| %s | %s |\n", k, r.versions[k])
	}
	p("\n## Releases\n\n| release | chart | needs |\n|---|---|---|\n")
	for _, rel := range r.releases {
		p("| %s | %s | %s |\n", rel.id(), filepath.Base(rel.ChartDir), strings.Join(rel.Needs, ", "))
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

// chainLength reads the length of a critical chain line ("Critical chain
// (48s to its end): …").
func chainLength(line string) time.Duration {
	_, rest, ok := strings.Cut(line, "(")
	if !ok {
		return 0
	}
	d, _, _ := strings.Cut(rest, " ")
	v, err := time.ParseDuration(d)
	if err != nil {
		return 0
	}
	return v
}

// whyMissed explains the full-deploy goals the run missed, from what it
// measured.
func (r *report) whyMissed(p func(string, ...any)) {
	atm := statsOf(r.measures["atmosphere"], seconds).median
	hf := statsOf(r.measures["helmfile sync"], seconds).median
	serial := statsOf(r.measures["helm, serial"], seconds).median
	var chains []float64
	for _, c := range r.chains {
		if d := chainLength(c); d > 0 {
			chains = append(chains, d.Seconds())
		}
	}
	if atm == 0 || len(chains) == 0 || (hf == 0 || hf/atm >= 3) && (serial == 0 || serial/atm >= 5) {
		return
	}
	slices.Sort(chains)
	chain := chains[len(chains)/2]
	p("\n**Why a goal is missed.** atmosphere's run ends %.1f s after its critical chain does (median chain %.1f s of %.1f s): ", max(atm-chain, 0), chain, atm)
	p("it starts each release the moment what it needs is done, and gives its Kubernetes API slot back while it waits, so what is left is the chain itself. ")
	p("The chain is made of the releases' own work on the cluster, which every tool waits for alike: an OpenStack chart runs eight to ten hook Jobs one after another (db-init, db-sync, ks-service, ks-user, ks-endpoints, rabbit-init, bootstrap…), and each Job takes the Job controller a second or more to see complete. ")
	if hf > 0 {
		p("No tool can deploy these releases faster than that chain, so the ratio to helmfile cannot pass %.2f× here (helmfile's %.1f s over the chain's %.1f s); ", hf/chain, hf, chain)
		p("helmfile loses what it loses by running its plan in topological groups, each started when the whole previous group has ended (`withBatches` in helmfile's pkg/app/app.go), and by a helm process per release. ")
	}
	if serial > 0 {
		p("Serial helm's ratio is bounded the same way by %.2f× (%.1f s over %.1f s). ", serial/chain, serial, chain)
	}
	p("A CPU profile would not move this: atmosphere's processor time is %.1f s of its %.1f s (the CPU time column); the time is the cluster's.\n",
		statsOf(r.measures["atmosphere"], func(m measure) float64 { return m.CPU.Seconds() }).median, atm)
}

// cpuByComponent lists the control plane's processor time, the busiest
// component first.
func cpuByComponent(cpu map[string]time.Duration) string {
	names := slices.Collect(maps.Keys(cpu))
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(cpu[b], cpu[a]) })
	var parts []string
	for _, n := range names {
		parts = append(parts, fmt.Sprintf("%s %.1f s", strings.TrimPrefix(n, "kube-"), cpu[n].Seconds()))
	}
	return strings.Join(parts, ", ")
}

// whyScale explains the scale goal when the run missed it, from what the
// cluster recorded: how much of the largest run was the DaemonSets'
// rollout, and how busy the control plane was meanwhile.
func (r *report) whyScale(p func(string, ...any)) {
	if len(r.scale) < 2 {
		return
	}
	first, last := r.scale[0], r.scale[len(r.scale)-1]
	ratio := last.m.Wall.Seconds() / first.m.Wall.Seconds()
	if ratio <= 1.5 {
		return
	}
	cores := float64(runtime.NumCPU())
	cpu := last.m.clusterCPU().Seconds()
	p("\n**Why the goal is missed.** At %d nodes the run took %.1f s, and the last of the %d DaemonSet pods became ready %.0f s after it started (the API server's timestamps are whole seconds): the run ended when the cluster had rolled the DaemonSets out, not later. ",
		last.nodes, last.m.Wall.Seconds(), last.rollouts.pods, last.rollouts.lastReady.Seconds())
	p("At %d node(s) the %d pods were ready %.0f s in, of %.1f s. ", first.nodes, first.rollouts.pods, first.rollouts.lastReady.Seconds(), first.m.Wall.Seconds())
	p("During the %d-node run the control plane used %.1f s of processor time (%s), %.2f of the machine's %.0f cores on average, while atmosphere used %.1f s: ",
		last.nodes, cpu, cpuByComponent(last.m.ClusterCPU), cpu/last.m.Wall.Seconds(), cores, last.m.CPU.Seconds())
	p("the simulated cluster spent %.0f ms of processor time per pod, so on %.0f cores it could not have brought those pods up in less than %.0f s (its processor time over the cores) — a floor for any tool, since atmosphere's waits only read each DaemonSet's status, at most once a second. ",
		cpu/float64(max(last.rollouts.pods, 1))*1000, cores, cpu/cores)
	p("Every one of those pods is created by the DaemonSet controller, bound by the scheduler and marked running by kwok through the same API server and etcd on this machine, so the rollout's time grows with the pod count; ")
	p("on a real cluster each node's kubelet starts its own pod, and only the controller's creates and the scheduler's binds grow with the nodes. ")
	p("A deploy tool that waits for the DaemonSets to be rolled out, as atmosphere (and `helm --wait`) must to report a working cloud, cannot end before the last pod is ready.\n")
}

// writeChainJobs lists the Jobs the critical chain's components ran, as
// the cluster recorded them.
func (r *report) writeChainJobs(p func(string, ...any)) {
	if len(r.chainJobs) == 0 {
		return
	}
	p("\nThe Jobs of the chain's components in the first run, as the cluster recorded them (seconds from the component's first Job's creation: created, started → completed; the API server's timestamps are whole seconds):\n\n")
	for _, c := range r.chainJobs {
		if len(c.jobs) == 0 {
			continue // a component that runs no Job (an operator, a manifest)
		}
		var parts []string
		var end time.Duration
		for _, j := range c.jobs {
			parts = append(parts, fmt.Sprintf("%s %.0f, %.0f → %.0f", j.name, j.created.Seconds(), j.started.Seconds(), j.completed.Seconds()))
			end = max(end, j.completed)
		}
		p("- %s: %d Jobs, the last done %.0f s after the first was created: %s\n", c.component, len(c.jobs), end.Seconds(), strings.Join(parts, "; "))
	}
}

// writeServerErrors sums up the 429 and 5xx answers each tool's runs saw,
// by verb and code, naming the first kinds of each.
func (r *report) writeServerErrors(p func(string, ...any)) {
	var lines []string
	for _, tool := range r.order {
		sum := map[string]float64{}
		kinds := map[string][]string{}
		for _, m := range r.measures[tool] {
			for k, v := range m.API.refusedBy {
				parts := strings.Fields(k)
				if len(parts) != 3 {
					continue
				}
				group := parts[0] + " " + parts[2]
				sum[group] += v
				if !slices.Contains(kinds[group], parts[1]) {
					kinds[group] = append(kinds[group], parts[1])
				}
			}
		}
		if len(sum) == 0 {
			continue
		}
		var parts []string
		for _, g := range slices.Sorted(maps.Keys(sum)) {
			ks := slices.Sorted(slices.Values(kinds[g]))
			more := ""
			if len(ks) > 4 {
				more = fmt.Sprintf(" and %d more", len(ks)-4)
				ks = ks[:4]
			}
			parts = append(parts, fmt.Sprintf("%s ×%.0f (%s%s)", g, sum[g], strings.Join(ks, ", "), more))
		}
		lines = append(lines, fmt.Sprintf("%s: %s", tool, strings.Join(parts, "; ")))
	}
	if len(lines) > 0 {
		p("\nThe 429 and 5xx answers, by verb and code, over all runs of each tool (the kinds they were for): %s.\n", strings.Join(lines, " — "))
	}
}

// writeNoopSplit says where atmosphere's no-op re-deploy spends its wall
// time: in its units (each finds its release and objects as they should
// be), and in the process's own work around them (inventory, secrets,
// every unit's check with its chart loaded and values rendered, the deploy
// lease, the durations and the report written).
func (r *report) writeNoopSplit(p func(string, ...any)) {
	ms := r.measures["atmosphere no-op"]
	if len(ms) == 0 || ms[0].Units == 0 {
		return
	}
	wall := statsOf(ms, seconds).median
	units := statsOf(ms, func(m measure) float64 { return m.Units.Seconds() }).median
	around := statsOf(ms, func(m measure) float64 { return (m.Wall - m.Units).Seconds() }).median
	p("\nThe no-op re-deploy's %.2f s (medians): %.2f s in its units, from the first unit's start to the last one's end (each reads its release's last revision and its objects, and changes nothing), and %.2f s of the process's own work around them (the inventory and secrets read, every unit checked with its chart loaded and values rendered, the deploy lease taken and given back, the durations and the timing report written).\n",
		wall, units, around)
}
