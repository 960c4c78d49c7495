// Command testenv starts and stops the test environment of `make test`: a
// kwok cluster on loopback, a keystone server, and the Debian ansible. Its
// state lives under .cache/ (or $ATMOSPHERE_STATE_DIR), and it writes
// an env file that points the tests at what it started.
//
//	go run ./hack/testenv up [--nodes N]   start, or reuse what runs
//	go run ./hack/testenv down             stop everything and remove the state
//	go run ./hack/testenv status           exit 0 when everything answers
//	go run ./hack/testenv standins         play the operators kwok runs no pod of
//	                                       (until interrupted)
//	go run ./hack/testenv ansible          make (or reuse) the cached ansible-core
//	                                       virtualenv and collections path, and
//	                                       print their variables
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: %v\n", err)
		var usage usageError
		if errors.As(err, &usage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

type env struct {
	cluster  *testenv.Cluster
	keystone *testenv.Keystone
	envFile  string
	// sharedAtmosphere is atmosphere's collection (../shared/atmosphere).
	sharedAtmosphere string
}

func newEnv(nodes int) *env {
	// The environment variables point the tests at this environment; they
	// must not point testenv itself at another one.
	os.Unsetenv(testenv.EnvKubeconfig)
	os.Unsetenv(testenv.EnvClouds)
	state := testenv.DefaultStateDir()
	return &env{
		cluster:  &testenv.Cluster{Name: "atmosphere", Nodes: nodes, WorkDir: filepath.Join(state, "kwok"), Timeout: 3 * time.Minute},
		keystone: &testenv.Keystone{StateDir: filepath.Join(state, "keystone"), Timeout: 3 * time.Minute},
		envFile:  filepath.Join(state, "testenv.env"),
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("testenv", flag.ContinueOnError)
	nodes := fs.Int("nodes", 3, "kwok nodes to create")
	sharedAtmosphere := fs.String("shared-atmosphere", filepath.Join("..", "shared", "atmosphere"), "atmosphere's collection, installed as vexxhost.atmosphere")
	if len(args) == 0 {
		return usageError{errors.New("usage: testenv up [--nodes N] | down | status | standins | ansible")}
	}
	if err := fs.Parse(args[1:]); err != nil {
		return usageError{err}
	}
	e := newEnv(*nodes)
	e.sharedAtmosphere = *sharedAtmosphere
	switch args[0] {
	case "up":
		return e.up(ctx, *nodes)
	case "ansible":
		a, err := e.ansible(ctx)
		if err != nil {
			return err
		}
		fmt.Print(ansibleVars(a))
		return nil
	case "down":
		return e.down()
	case "status":
		return e.status(ctx)
	case "standins":
		return e.standIns(ctx)
	}
	return usageError{fmt.Errorf("unknown action %q: want up, down, status, standins or ansible", args[0])}
}

func (e *env) kubeconfig() string {
	return filepath.Join(e.cluster.WorkDir, "clusters", e.cluster.Name, "kubeconfig.yaml")
}

// status checks that the cluster and keystone of the env file answer.
func (e *env) status(ctx context.Context) error {
	if _, err := os.Stat(e.envFile); err != nil {
		return fmt.Errorf("not up: %w", err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig())
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if err := testenv.Prepare(ctx, cfg, 0); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	os.Setenv(testenv.EnvClouds, e.keystone.StateDir+"/clouds.yaml")
	defer os.Unsetenv(testenv.EnvClouds)
	if err := (&testenv.Keystone{}).Start(ctx); err != nil {
		return fmt.Errorf("keystone: %w", err)
	}
	fmt.Printf("up: kubeconfig %s, clouds %s\n", e.kubeconfig(), e.keystone.StateDir+"/clouds.yaml")
	return nil
}

func (e *env) up(ctx context.Context, nodes int) error {
	if e.status(ctx) == nil {
		cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig())
		if err != nil {
			return err
		}
		if err := testenv.Prepare(ctx, cfg, nodes); err != nil { // up to the asked node count
			return err
		}
		// An env file of an older testenv lacks the ansible's variables.
		raw, err := os.ReadFile(e.envFile)
		if err != nil || strings.Contains(string(raw), testenv.EnvAnsible+"=") {
			return err
		}
		a, err := e.ansible(ctx)
		if err != nil {
			return err
		}
		return os.WriteFile(e.envFile, append(raw, ansibleVars(a)...), 0o600)
	}
	start := time.Now()
	if _, err := testenv.EnsureAnsible(ctx); err != nil {
		return err
	}
	a, err := e.ansible(ctx)
	if err != nil {
		return err
	}
	if _, err := e.cluster.Start(ctx); err != nil {
		return err
	}
	fmt.Printf("cluster up in %s: %d kwok nodes, kubeconfig %s\n", time.Since(start).Round(time.Millisecond), nodes, e.kubeconfig())
	t := time.Now()
	if err := e.keystone.Start(ctx); err != nil {
		return errors.Join(err, e.down())
	}
	fmt.Printf("keystone up in %s at %s, clouds %s\n", time.Since(t).Round(time.Millisecond), e.keystone.URL, e.keystone.Clouds)
	content := fmt.Sprintf("%s=%s\n%s=%s\n", testenv.EnvKubeconfig, e.kubeconfig(), testenv.EnvClouds, e.keystone.Clouds) + ansibleVars(a)
	return os.WriteFile(e.envFile, []byte(content), 0o600)
}

// ansible makes (or reuses) the test ansible: atmosphere's ansible-core in
// a cached virtualenv, and vexxhost.atmosphere in a collections path.
func (e *env) ansible(ctx context.Context) (testenv.AnsibleEnv, error) {
	t := time.Now()
	a, err := testenv.EnsureAnsibleEnv(ctx, e.sharedAtmosphere, os.Stderr)
	if err != nil {
		return a, fmt.Errorf("the test ansible: %w", err)
	}
	fmt.Fprintf(os.Stderr, "ansible ready in %s: %s, collections %s\n", time.Since(t).Round(time.Millisecond), a.Bin, a.Collections)
	return a, nil
}

// ansibleVars are the env file's lines of the test ansible.
func ansibleVars(a testenv.AnsibleEnv) string {
	return fmt.Sprintf("%s=%s\n%s=%s\n", testenv.EnvAnsible, a.Bin, testenv.EnvCollections, a.Collections)
}

func (e *env) down() error {
	err := errors.Join(e.keystone.Stop(), e.cluster.Stop())
	// Stop only stops what this process started; a cluster started by an
	// earlier `up` is deleted here by name.
	if err == nil {
		err = e.cluster.Delete()
	}
	err = errors.Join(err, testenv.DeleteStalePrivate(e.cluster.WorkDir))
	return errors.Join(err, os.RemoveAll(e.keystone.StateDir), rmIfExists(e.envFile))
}

func rmIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// standIns runs the stand-in operators against the environment's cluster
// until interrupted, for a deploy run from outside the tests (make demo).
func (e *env) standIns(ctx context.Context) error {
	cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig())
	if err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	fmt.Println("stand-in operators running (Percona XtraDB clusters, cert-manager certificates and issuers)")
	if err := testenv.StandIns(ctx, cfg); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}
