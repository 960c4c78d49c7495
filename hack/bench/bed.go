package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// bed is an empty kwok cluster of its own, with the stand-in operators,
// for one run of one tool.
type bed struct {
	cluster    *testenv.Cluster
	cfg        *rest.Config
	kubeconfig string
	client     kubernetes.Interface
	stop       context.CancelFunc
}

var beds int

func newBed(ctx context.Context, nodes int) (*bed, error) {
	beds++
	c := &testenv.Cluster{Name: fmt.Sprintf("atmosphere-bench-%d-%d", os.Getpid(), beds), Nodes: nodes, Private: true, Timeout: 5 * time.Minute}
	cfg, err := c.Start(ctx)
	if err != nil {
		return nil, err
	}
	standCtx, stop := context.WithCancel(ctx)
	if err := testenv.StandIns(standCtx, cfg); err != nil {
		stop()
		_ = c.Stop()
		return nil, err
	}
	return &bed{cluster: c, cfg: cfg, kubeconfig: c.Kubeconfig, client: kubernetes.NewForConfigOrDie(cfg), stop: stop}, nil
}

func (b *bed) close() error {
	b.stop()
	return b.cluster.Stop()
}

// served is what the API server has served so far, from its metrics: the
// requests (apiserver_request_total) and those answered 429 (overloaded) or
// 5xx, and the latency of the requests that are not long-running
// (apiserver_request_duration_seconds without WATCH and CONNECT): their
// count, summed seconds, and how many took more than a second.
type served struct {
	all, overloaded, failed    float64
	timed, seconds, overSecond float64
	// refusedBy counts the 429 and 5xx answers by verb, resource and
	// code.
	refusedBy map[string]float64
}

func (b *bed) requests(ctx context.Context) (served, error) {
	raw, err := b.client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return served{}, fmt.Errorf("API server metrics: %w", err)
	}
	return parseServed(raw)
}

// parseServed reads served from the API server's metrics text.
func parseServed(raw []byte) (served, error) {
	n := served{refusedBy: map[string]float64{}}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	const latency = "apiserver_request_duration_seconds"
	for sc.Scan() {
		line := sc.Text()
		name, _, ok := strings.Cut(line, "{")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			continue
		}
		longRunning := strings.Contains(line, `verb="WATCH"`) || strings.Contains(line, `verb="CONNECT"`)
		switch {
		case name == "apiserver_request_total":
			n.all += v
			overloaded, failed := strings.Contains(line, `code="429"`), strings.Contains(line, `code="5`)
			if overloaded {
				n.overloaded += v
			} else if failed {
				n.failed += v
			}
			if overloaded || failed {
				n.refusedBy[label(line, "verb")+" "+label(line, "resource")+label(line, "subresource", "/")+" "+label(line, "code")] += v
			}
		case longRunning:
		case name == latency+"_count":
			n.timed += v
			n.overSecond += v
		case name == latency+"_sum":
			n.seconds += v
		case name == latency+"_bucket" && strings.Contains(line, `le="1"`):
			n.overSecond -= v
		}
	}
	return n, sc.Err()
}

// label is the value of a metric line's label, after prefix if it has
// one.
func label(line, name string, prefix ...string) string {
	_, rest, ok := strings.Cut(line, ","+name+`="`)
	if !ok {
		_, rest, ok = strings.Cut(line, "{"+name+`="`)
	}
	v, _, _ := strings.Cut(rest, `"`)
	if !ok || v == "" {
		return ""
	}
	return strings.Join(prefix, "") + v
}

// minus is what was served between two readings.
func (n served) minus(o served) served {
	d := served{
		all: n.all - o.all, overloaded: n.overloaded - o.overloaded, failed: n.failed - o.failed,
		timed: n.timed - o.timed, seconds: n.seconds - o.seconds, overSecond: n.overSecond - o.overSecond,
		refusedBy: map[string]float64{},
	}
	for k, v := range n.refusedBy {
		if v > o.refusedBy[k] {
			d.refusedBy[k] = v - o.refusedBy[k]
		}
	}
	return d
}

// revisions counts the Helm release revisions stored in the cluster.
func (b *bed) revisions(ctx context.Context) (int, error) {
	list, err := b.client.CoreV1().Secrets("").List(ctx, metav1.ListOptions{LabelSelector: "owner=helm"})
	if err != nil {
		return 0, err
	}
	return len(list.Items), nil
}

// measure is what one run of a tool cost.
type measure struct {
	// Start is when the run began.
	Start time.Time
	Wall  time.Duration
	// MaxRSS is the peak resident memory of the process (and of its
	// children that ended), in bytes.
	MaxRSS int64
	// CPU is the processor time the tool's processes used (user and
	// system), children included.
	CPU time.Duration
	// API is what the API server served during the run.
	API served
	// ClusterCPU is the processor time the cluster's components used
	// during the run, by component.
	ClusterCPU map[string]time.Duration
	// NewRevisions is how many Helm revisions the run wrote.
	NewRevisions int
	// Units is how long the run's units took, from its timing report
	// (atmosphere's no-op runs); the rest of Wall is the process's work
	// before and after them.
	Units time.Duration
}

// requestRate is the API server's requests per second over the run.
func (m measure) requestRate() float64 {
	if m.Wall <= 0 {
		return 0
	}
	return m.API.all / m.Wall.Seconds()
}

// meanLatency is the mean time the API server took to answer a request
// that is not long-running.
func (m measure) meanLatency() time.Duration {
	if m.API.timed <= 0 {
		return 0
	}
	return time.Duration(m.API.seconds / m.API.timed * float64(time.Second))
}

// clusterCPU is the processor time all the cluster's components used.
func (m measure) clusterCPU() time.Duration {
	var all time.Duration
	for _, d := range m.ClusterCPU {
		all += d
	}
	return all
}

// timed runs the commands one after another on the bed and measures them
// as one run; out collects their output for the error.
func (b *bed) timed(ctx context.Context, cmds ...*exec.Cmd) (measure, error) {
	var m measure
	before, err := b.requests(ctx)
	if err != nil {
		return m, err
	}
	revs, err := b.revisions(ctx)
	if err != nil {
		return m, err
	}
	cpuBefore, err := b.cluster.CPUTimes()
	if err != nil {
		return m, err
	}
	start := time.Now()
	m.Start = start
	for _, c := range cmds {
		var out bytes.Buffer
		c.Stdout, c.Stderr = &out, &out
		c.Env = append(os.Environ(), "KUBECONFIG="+b.kubeconfig)
		c.Env = append(c.Env, extraEnv...)
		if err := c.Run(); err != nil {
			return m, fmt.Errorf("%s: %w\n%s", strings.Join(c.Args, " "), err, testenv.LastLines(out.String(), 30))
		}
		if ru, ok := c.ProcessState.SysUsage().(*syscall.Rusage); ok {
			m.MaxRSS = max(m.MaxRSS, ru.Maxrss*1024)
		}
		m.CPU += c.ProcessState.UserTime() + c.ProcessState.SystemTime()
	}
	m.Wall = time.Since(start)
	after, err := b.requests(ctx)
	if err != nil {
		return m, err
	}
	m.API = after.minus(before)
	cpuAfter, err := b.cluster.CPUTimes()
	if err != nil {
		return m, err
	}
	m.ClusterCPU = map[string]time.Duration{}
	for name, d := range cpuAfter {
		m.ClusterCPU[name] = d - cpuBefore[name]
	}
	revsAfter, err := b.revisions(ctx)
	m.NewRevisions = revsAfter - revs
	return m, err
}

// extraEnv is added to every tool's environment (the helm CLI's cache and
// configuration under the bench's own directory).
var extraEnv []string

func helmEnv(dir string) []string {
	return []string{
		"HELM_CACHE_HOME=" + filepath.Join(dir, "helm", "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(dir, "helm", "config"),
		"HELM_DATA_HOME=" + filepath.Join(dir, "helm", "data"),
	}
}
