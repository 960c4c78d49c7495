// Command testenv starts and stops the test environment of `make test`: a
// kwok cluster on loopback, a keystone server, the Debian ansible, and
// Debian's nova, placement, neutron, glance and cinder APIs. Its
// state lives under .cache/ (or $ATMOSPHERE_STATE_DIR), and it writes
// an env file that points the tests at what it started.
//
//	go run ./hack/testenv up [--nodes N] [--openstack=false]
//	                                       start, or reuse what runs; without
//	                                       the APIs, the first test that needs
//	                                       them starts them
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
	cluster   *testenv.Cluster
	keystone  *testenv.Keystone
	openstack *testenv.OpenStack
	envFile   string
	// sharedAtmosphere is atmosphere's collection (../shared/atmosphere).
	sharedAtmosphere string
}

func newEnv(nodes int) *env {
	// The environment variables point the tests at this environment; they
	// must not point testenv itself at another one.
	os.Unsetenv(testenv.EnvKubeconfig)
	os.Unsetenv(testenv.EnvClouds)
	os.Unsetenv(testenv.EnvOpenStackClouds)
	state := testenv.DefaultStateDir()
	keystone := &testenv.Keystone{StateDir: filepath.Join(state, "keystone"), Timeout: 3 * time.Minute}
	return &env{
		cluster:  &testenv.Cluster{Name: "atmosphere", Nodes: nodes, WorkDir: filepath.Join(state, "kwok"), Timeout: 3 * time.Minute},
		keystone: keystone,
		// The tests find these in the same directory when `up` did not
		// start them (testenv.OpenStackAPIs).
		openstack: &testenv.OpenStack{StateDir: filepath.Join(state, "openstack"), KeystoneClouds: filepath.Join(keystone.StateDir, "clouds.yaml")},
		envFile:   filepath.Join(state, "testenv.env"),
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("testenv", flag.ContinueOnError)
	nodes := fs.Int("nodes", 3, "kwok nodes to create")
	sharedAtmosphere := fs.String("shared-atmosphere", filepath.Join("..", "shared", "atmosphere"), "atmosphere's collection, installed as vexxhost.atmosphere")
	withAPIs := fs.Bool("openstack", true, "start the OpenStack APIs too (else the first test that needs them does)")
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
		return e.up(ctx, *nodes, *withAPIs)
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

func (e *env) up(ctx context.Context, nodes int, withAPIs bool) error {
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
		if err != nil {
			return err
		}
		if !strings.Contains(string(raw), testenv.EnvAnsible+"=") {
			a, err := e.ansible(ctx)
			if err != nil {
				return err
			}
			if err := os.WriteFile(e.envFile, append(raw, ansibleVars(a)...), 0o600); err != nil {
				return err
			}
		}
		if !withAPIs {
			return nil
		}
		return e.upAPIs(ctx)
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
	if err := os.WriteFile(e.envFile, []byte(content), 0o600); err != nil {
		return err
	}
	if !withAPIs {
		return nil
	}
	return e.upAPIs(ctx)
}

// upAPIs starts the OpenStack APIs (or finds them running) and adds their
// clouds.yaml to the env file.
func (e *env) upAPIs(ctx context.Context) error {
	t := time.Now()
	if err := e.openstack.Start(ctx); err != nil {
		return fmt.Errorf("OpenStack APIs: %w (logs under %s)", err, e.openstack.StateDir)
	}
	fmt.Printf("OpenStack APIs up in %s in region %s, clouds %s, logs under %s\n", time.Since(t).Round(time.Millisecond),
		testenv.OpenStackRegion, e.openstack.Clouds, e.openstack.StateDir)
	raw, err := os.ReadFile(e.envFile)
	if err != nil {
		return err
	}
	line := fmt.Sprintf("%s=%s\n", testenv.EnvOpenStackClouds, e.openstack.Clouds)
	if strings.Contains(string(raw), line) {
		return nil
	}
	return os.WriteFile(e.envFile, append(raw, line...), 0o600)
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
	err := errors.Join(e.openstack.Stop(), e.keystone.Stop(), e.cluster.Stop())
	// Stop only stops what this process started; a cluster started by an
	// earlier `up` is deleted here by name.
	if err == nil {
		err = e.cluster.Delete()
	}
	err = errors.Join(err, testenv.DeleteStalePrivate(e.cluster.WorkDir))
	return errors.Join(err, os.RemoveAll(e.openstack.StateDir), rmIfExists(e.openstack.StateDir+".lock"), os.RemoveAll(e.keystone.StateDir), rmIfExists(e.envFile))
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
