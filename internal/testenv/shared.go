package testenv

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
)

var shared struct {
	kubeOnce sync.Once
	cluster  Cluster
	cfg      *rest.Config
	kubeErr  error

	keystoneOnce sync.Once
	keystone     Keystone
	keystoneErr  error
	keystoneDir  string // a private state directory to remove at the end
}

// Kube returns the REST config of the test cluster for this test package:
// the one $ATMOSPHERE_TEST_KUBECONFIG names, or one started on first use
// and stopped by Teardown. A cluster that cannot start fails the test: it
// is never skipped.
func Kube(t testing.TB) *rest.Config {
	t.Helper()
	shared.kubeOnce.Do(func() {
		// Test packages run in parallel, each its own process: a cluster
		// started here is named after the process, so they never collide.
		shared.cluster.Name = fmt.Sprintf("%s%d", processPrefix, os.Getpid())
		shared.cluster.defaults()
		if !reusing(EnvKubeconfig) {
			_ = DeleteStalePrivate(shared.cluster.WorkDir)
		}
		shared.cfg, shared.kubeErr = shared.cluster.Start(context.Background())
	})
	if shared.kubeErr != nil {
		t.Fatalf("test cluster: %v", shared.kubeErr)
	}
	return rest.CopyConfig(shared.cfg)
}

// KeystoneClouds returns the path of a clouds.yaml whose cloud CloudName is
// the test keystone: the one $ATMOSPHERE_TEST_CLOUDS names, or one started
// on first use (in a state directory of this test process) and stopped by
// Teardown. A keystone that cannot start fails the test.
func KeystoneClouds(t testing.TB) string {
	t.Helper()
	shared.keystoneOnce.Do(func() {
		shared.keystone.StateDir = ""
		if !reusing(EnvClouds) {
			dir, err := privateDir("keystone")
			if err != nil {
				shared.keystoneErr = err
				return
			}
			shared.keystone.StateDir, shared.keystoneDir = dir, dir
		}
		shared.keystoneErr = shared.keystone.Start(context.Background())
	})
	if shared.keystoneErr != nil {
		t.Fatalf("test keystone: %v", shared.keystoneErr)
	}
	return shared.keystone.Clouds
}

// Teardown stops what Kube, KeystoneClouds, OpenStackAPIs, Keycloak,
// FederatedKeystone, SharedMariaDB and SharedRabbitMQ started for this
// process alone. Call it from TestMain after m.Run.
func Teardown() error {
	// The APIs first: they talk to keystone.
	err := errors.Join(stopSharedOpenStack(), stopSharedOIDCKeystone(), stopSharedKeycloak(), shared.cluster.Stop(), shared.keystone.Stop(), stopSharedMariaDB(),
		stopSharedRabbitMQ())
	if shared.keystoneDir != "" {
		err = errors.Join(err, os.RemoveAll(shared.keystoneDir))
	}
	return err
}

// PrivateKube starts a cluster of the test's own, with nodes kwok nodes,
// stopped when the test ends: for tests that deploy cluster-wide things
// (CRDs, charts in fixed namespaces) and must start from an empty cluster.
func PrivateKube(t testing.TB, nodes int) *rest.Config {
	t.Helper()
	cfg, _ := PrivateKubeconfig(t, nodes)
	return cfg
}

// PrivateKubeconfig is PrivateKube with the path of the cluster's
// kubeconfig, for a command the test runs.
func PrivateKubeconfig(t testing.TB, nodes int) (*rest.Config, string) {
	t.Helper()
	c := PrivateCluster(t, nodes)
	return c.Config(), c.Kubeconfig
}

// PrivateCluster starts a cluster of the test's own, with nodes kwok
// nodes, deleted when the test ends, for a test that acts on the cluster's
// processes (RestartAPIServer).
func PrivateCluster(t testing.TB, nodes int) *Cluster {
	t.Helper()
	// Named by the process and a count: several tests of one process each
	// get a cluster of their own, never one left over by another.
	c := &Cluster{Name: fmt.Sprintf("%s%d-%d", privatePrefix, os.Getpid(), privateCount.Add(1)), Nodes: nodes, Private: true}
	c.defaults()
	// A test process killed before its cleanup (go test's timeout panics)
	// leaves its cluster running: the next one removes it.
	if err := DeleteStalePrivate(c.WorkDir); err != nil {
		t.Logf("stale private clusters: %v", err)
	}
	if _, err := c.Start(context.Background()); err != nil {
		t.Fatalf("private test cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop the private test cluster: %v", err)
		}
	})
	return c
}

// privateCount numbers the private clusters of this process.
var privateCount atomic.Int64

// Prefixes of the names of clusters started by a test process, followed by
// its pid (and, for private ones, "-" and a count).
const (
	privatePrefix = "atmosphere-private-"
	processPrefix = "atmosphere-test-"
)

// DeleteStalePrivate deletes the clusters under workDir that a test process
// started (for itself or one of its tests) and left behind when it died.
func DeleteStalePrivate(workDir string) error {
	entries, err := os.ReadDir(filepath.Join(workDir, "clusters"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		var rest string
		switch {
		case strings.HasPrefix(e.Name(), privatePrefix):
			rest = strings.TrimPrefix(e.Name(), privatePrefix)
		case strings.HasPrefix(e.Name(), processPrefix):
			rest = strings.TrimPrefix(e.Name(), processPrefix)
		default:
			continue
		}
		rest, _, _ = strings.Cut(rest, "-")
		pid, err := strconv.Atoi(rest)
		if err != nil || Alive(pid) {
			continue
		}
		c := &Cluster{Name: e.Name(), WorkDir: workDir}
		errs = append(errs, c.Delete())
	}
	return errors.Join(errs...)
}

// Kubeconfig returns the path of the test cluster's kubeconfig, for tools
// that take one.
func Kubeconfig(t testing.TB) string {
	t.Helper()
	Kube(t)
	return shared.cluster.Kubeconfig
}

// PrivateKeystone starts a keystone of the test's own (for tests that stop
// it), stopped when the test ends.
func PrivateKeystone(t testing.TB) *Keystone {
	t.Helper()
	k := &Keystone{StateDir: t.TempDir(), Private: true}
	if err := k.Start(context.Background()); err != nil {
		t.Fatalf("private keystone: %v", err)
	}
	t.Cleanup(func() {
		if err := k.Stop(); err != nil {
			t.Errorf("stop the private keystone: %v", err)
		}
	})
	return k
}

// Main runs a test package's tests, stops what Kube and KeystoneClouds
// started, and exits: call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if err := Teardown(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	os.Exit(code)
}

var sharedOS struct {
	once sync.Once
	os   OpenStack
	err  error
	dir  string // a private state directory to remove at the end
}

// OpenStackAPIs returns the test bed's nova, placement, neutron, glance
// and cinder APIs (their clouds.yaml names CloudName, keystone's admin in
// OpenStackRegion): the ones $ATMOSPHERE_TEST_OPENSTACK_CLOUDS names; else,
// with a shared keystone ($ATMOSPHERE_TEST_CLOUDS), the ones running from
// the shared state directory, started there on first use by whichever test
// process needs them first and left running for the others (`testenv
// down` stops them); else ones of this process, beside its keystone,
// stopped by Teardown. APIs that cannot start fail the test.
func OpenStackAPIs(t testing.TB) *OpenStack {
	t.Helper()
	clouds := KeystoneClouds(t)
	sharedOS.once.Do(func() {
		sharedOS.os.KeystoneClouds = clouds
		if !reusing(EnvOpenStackClouds) && !reusing(EnvClouds) {
			dir, err := privateDir("openstack")
			if err != nil {
				sharedOS.err = err
				return
			}
			sharedOS.os.StateDir, sharedOS.dir = dir, dir
		}
		start := time.Now()
		sharedOS.err = sharedOS.os.Start(context.Background())
		if time.Since(start) > 5*time.Second {
			fmt.Fprintf(os.Stderr, "testenv: OpenStack APIs up in %s (%s)\n", time.Since(start).Round(time.Second), sharedOS.os.StateDir)
		}
	})
	if sharedOS.err != nil {
		t.Fatalf("test OpenStack APIs: %v", sharedOS.err)
	}
	return &sharedOS.os
}

// stopSharedOpenStack stops the APIs this process started for itself.
func stopSharedOpenStack() error {
	if sharedOS.dir == "" {
		return nil
	}
	return errors.Join(sharedOS.os.Stop(), os.RemoveAll(sharedOS.dir), os.RemoveAll(sharedOS.dir+".lock"))
}

var sharedKC struct {
	once sync.Once
	kc   KeycloakInstance
	err  error
	dir  string // a private state directory to remove at the end
}

// Keycloak returns the test bed's Keycloak, starting it once (lazily, under a lock, like the OpenStack APIs) when the environment did not; it fails t when it cannot.
//
// It is the one $ATMOSPHERE_TEST_KEYCLOAK_URL names (with
// $ATMOSPHERE_TEST_KEYCLOAK_USER and _PASSWORD); else, with a shared test
// environment ($ATMOSPHERE_TEST_CLOUDS), the one running from the shared
// state directory (<state dir>/keycloak), started there by the first test
// process that needs it and left running for the others (`testenv down`
// stops it); else one of this process, stopped by Teardown. Tests share
// it: each works in realms of its own names.
func Keycloak(t testing.TB) KeycloakServer {
	t.Helper()
	sharedKC.once.Do(func() {
		if !reusing(EnvKeycloakURL) && !reusing(EnvClouds) {
			dir, err := privateDir("keycloak")
			if err != nil {
				sharedKC.err = err
				return
			}
			sharedKC.kc.StateDir, sharedKC.dir = filepath.Join(dir, "keycloak"), dir
		}
		sharedKC.kc.Log = os.Stderr
		start := time.Now()
		sharedKC.err = sharedKC.kc.Start(context.Background())
		if time.Since(start) > 5*time.Second {
			fmt.Fprintf(os.Stderr, "testenv: Keycloak up in %s (%s)\n", time.Since(start).Round(time.Second), sharedKC.kc.StateDir)
		}
	})
	if sharedKC.err != nil {
		t.Fatalf("test Keycloak: %v", sharedKC.err)
	}
	return sharedKC.kc.Server
}

// stopSharedKeycloak stops the Keycloak this process started for itself.
func stopSharedKeycloak() error {
	if sharedKC.dir == "" {
		return nil
	}
	return errors.Join(sharedKC.kc.Stop(), os.RemoveAll(sharedKC.dir))
}
