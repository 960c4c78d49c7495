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

// served counts the requests the API server has served so far, from its
// apiserver_request_total: all, and those it refused as overloaded (429)
// or failed (5xx).
type served struct{ all, overloaded float64 }

func (b *bed) requests(ctx context.Context) (served, error) {
	raw, err := b.client.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return served{}, fmt.Errorf("API server metrics: %w", err)
	}
	var n served
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			continue
		}
		n.all += v
		if strings.Contains(line, `code="429"`) || strings.Contains(line, `code="5`) {
			n.overloaded += v
		}
	}
	return n, sc.Err()
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
	Wall time.Duration
	// MaxRSS is the peak resident memory of the process (and of its
	// children that ended), in bytes.
	MaxRSS int64
	// CPU is the processor time the tool's processes used (user and
	// system), children included.
	CPU time.Duration
	// Requests is how many requests the API server served during the run;
	// Refused how many of them it answered 429 or 5xx.
	Requests, Refused float64
	// NewRevisions is how many Helm revisions the run wrote.
	NewRevisions int
}

// requestRate is the API server's requests per second over the run.
func (m measure) requestRate() float64 {
	if m.Wall <= 0 {
		return 0
	}
	return m.Requests / m.Wall.Seconds()
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
	start := time.Now()
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
	m.Requests, m.Refused = after.all-before.all, after.overloaded-before.overloaded
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
