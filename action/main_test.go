package action_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"testing"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// exampleKubeconfig is the kubeconfig of the cluster TestMain starts for
// this package's examples, which cannot start one themselves (an Example
// has no *testing.T and cannot skip).
var exampleKubeconfig string

// TestMain starts a kwok cluster of this process's own (never the shared
// one: the examples deploy into fixed namespaces) with the stand-in
// operators running, runs the tests and examples, and stops it.
func TestMain(m *testing.M) {
	// Helm's chart loader warns through the standard logger about charts
	// of apiVersion v1, as the command's Main discards too.
	log.SetOutput(io.Discard)
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// Named as testenv names private clusters, so that a process killed
	// before it stops its cluster has it removed by the next one.
	c := &testenv.Cluster{Name: fmt.Sprintf("atmosphere-private-%d-0", os.Getpid()), Nodes: 3, Private: true}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg, err := c.Start(ctx)
	if err != nil {
		fmt.Fprintf(os.Stderr, "test cluster: %v\n", err)
		return 1
	}
	defer func() {
		if err := c.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "stop the test cluster: %v\n", err)
		}
	}()
	if err := testenv.StandIns(ctx, cfg); err != nil {
		fmt.Fprintf(os.Stderr, "stand-in operators: %v\n", err)
		return 1
	}
	exampleKubeconfig = c.Kubeconfig
	code := m.Run()
	if err := testenv.Teardown(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	return code
}
