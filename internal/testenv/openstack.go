package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/regions"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/openstack"
)

// EnvOpenStackClouds points at the clouds.yaml of running test OpenStack
// APIs (OpenStack.Clouds) to reuse.
const EnvOpenStackClouds = "ATMOSPHERE_TEST_OPENSTACK_CLOUDS"

// OpenStackRegion is the keystone region the test APIs are registered in.
// It is theirs alone: a deploy or test that writes atmosphere's catalog
// into another region of the shared keystone never points their service
// types elsewhere.
const OpenStackRegion = "atmosphere-testbed"

// Debian packages of the APIs (the same release, Zed, as the test
// keystone), the uwsgi of keystone for placement, and the MySQL driver.
var openStackPackages = []string{"nova-api", "placement-api", "neutron-server", "glance-api", "cinder-api",
	"mariadb-server", "python3-pymysql", "uwsgi-core", "uwsgi-plugin-python3"}

// OpenStack is nova (API), placement, neutron (ML2, no agents), glance
// (file store) and cinder (API only) on loopback: Debian's packages,
// their databases in a MariaDB of their own, registered in the test
// keystone's catalog in OpenStackRegion with a service user each.
// Messaging is oslo.messaging's in-process fake driver: the APIs need a
// transport to load, and nothing the set-up asks for (flavors, keypairs,
// quotas, networks, ports, images, volume types) sends a message anyone
// must receive. One set runs per keystone: a start registers its users'
// passwords and its endpoints anew, taking them over from any other set
// started against the same keystone. Fill in the options, then Start.
type OpenStack struct {
	// StateDir holds the configurations, databases, images, logs, pid
	// files and clouds.yaml; default <state dir>/openstack.
	StateDir string
	// KeystoneClouds is the clouds.yaml of the test keystone (cloud
	// CloudName, its admin) the APIs authenticate against.
	KeystoneClouds string
	// Timeout bounds the start; default 5 minutes (installing the packages
	// comes on top).
	Timeout time.Duration
	// Private starts APIs of their own even when $ATMOSPHERE_TEST_OPENSTACK_CLOUDS
	// names running ones.
	Private bool

	// Clouds is the clouds.yaml written for CloudName: the test keystone's
	// admin with region OpenStackRegion.
	Clouds string
	// Endpoints maps each service type to its public URL.
	Endpoints map[string]string

	started bool
}

// openStackState is what Start records in the state directory, to reuse
// running APIs (and to know they belong to the same keystone).
type openStackState struct {
	// Keystone is the keystone's URL and a digest of its clouds.yaml.
	Keystone  string            `json:"keystone"`
	Endpoints map[string]string `json:"endpoints"`
	// PIDs of the process groups this start made (MariaDB and each API).
	PIDs map[string]int `json:"pids"`
}

// osService is one API of the test bed.
type osService struct {
	name, typ, serviceName string
	// path of the catalog URL after http://127.0.0.1:PORT.
	path string
	// db are the databases it needs; conf writes its configuration and
	// returns the commands that make its schema, then the command that
	// serves it.
	db []string
}

var osServices = []osService{
	{name: "nova", typ: "compute", serviceName: "nova", path: "/v2.1", db: []string{"nova_api", "nova_cell0"}},
	{name: "placement", typ: "placement", serviceName: "placement", db: []string{"placement"}},
	{name: "neutron", typ: "network", serviceName: "neutron", db: []string{"neutron"}},
	{name: "glance", typ: "image", serviceName: "glance", db: []string{"glance"}},
	{name: "cinder", typ: "volumev3", serviceName: "cinderv3", path: "/v3/%(project_id)s", db: []string{"cinder"}},
}

// Start brings the APIs up: it reuses the ones $ATMOSPHERE_TEST_OPENSTACK_CLOUDS
// names, or ones already running from StateDir for the same keystone
// (another test process started them: a lock file makes one process start
// them and the others wait); otherwise it installs the packages when
// missing, starts MariaDB, registers the services and their users in
// keystone, makes each database, and starts every API at once, detached
// (they outlive this process until Stop).
func (o *OpenStack) Start(ctx context.Context) error {
	if path := os.Getenv(EnvOpenStackClouds); path != "" && !o.Private {
		st, err := readOpenStackState(filepath.Join(filepath.Dir(path), "state.yaml"))
		if err == nil {
			err = probeAll(ctx, st.Endpoints, 10*time.Second)
		}
		if err != nil {
			return fmt.Errorf("reuse the test OpenStack APIs of %s=%s: %w (run `make test-env-up`, or unset it)", EnvOpenStackClouds, path, err)
		}
		o.Clouds, o.Endpoints = path, st.Endpoints
		return nil
	}
	if o.StateDir == "" {
		o.StateDir = filepath.Join(DefaultStateDir(), "openstack")
	}
	if o.Timeout == 0 {
		o.Timeout = 5 * time.Minute
	}
	if o.KeystoneClouds == "" {
		return errors.New("test OpenStack APIs: no keystone clouds.yaml")
	}
	keystoneURL, err := cloudURL(o.KeystoneClouds)
	if err != nil {
		return err
	}
	// The APIs belong to one keystone (its URL and admin, whose clouds.yaml
	// changes when it is made again): its users and catalog hold theirs.
	raw, err := os.ReadFile(o.KeystoneClouds)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(raw)
	keystoneURL += "#" + hex.EncodeToString(sum[:8])
	o.Clouds = filepath.Join(o.StateDir, "clouds.yaml")
	if err := os.MkdirAll(filepath.Dir(o.StateDir), 0o755); err != nil {
		return err
	}
	// One process starts them; the others wait here and then reuse them.
	unlock, err := lockFile(o.StateDir + ".lock")
	if err != nil {
		return err
	}
	defer unlock()
	if st, err := readOpenStackState(filepath.Join(o.StateDir, "state.yaml")); err == nil {
		if st.Keystone == keystoneURL && st.alive() && probeAll(ctx, st.Endpoints, 5*time.Second) == nil {
			o.Endpoints = st.Endpoints
			return nil
		}
		// Running for another keystone, or not answering: replace them.
		st.stop()
	}
	if err := EnsurePackages(ctx, "/usr/bin/nova-api", openStackPackages...); err != nil {
		return err
	}
	for _, probe := range []string{"/usr/bin/placement-api", "/usr/bin/neutron-server", "/usr/bin/glance-api", "/usr/bin/cinder-api",
		mariadbServer, "/usr/lib/python3/dist-packages/pymysql", "/usr/lib/uwsgi/plugins/python3_plugin.so"} {
		if err := EnsurePackages(ctx, probe, openStackPackages...); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	st := &openStackState{Keystone: keystoneURL, PIDs: map[string]int{}}
	if err := o.start(ctx, st); err != nil {
		st.stop()
		return err
	}
	o.started = true
	return nil
}

func (o *OpenStack) start(ctx context.Context, st *openStackState) error {
	if err := os.RemoveAll(o.StateDir); err != nil {
		return err
	}
	if err := os.MkdirAll(o.StateDir, 0o700); err != nil {
		return err
	}
	save := func() error {
		raw, err := yaml.Marshal(st)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(o.StateDir, "state.yaml"), raw, 0o600)
	}
	ports, err := FreePorts(len(osServices) + 1)
	if err != nil {
		return err
	}
	dbAddr := "127.0.0.1:" + strconv.Itoa(ports[0])
	dbPassword, err := randomHex(12)
	if err != nil {
		return err
	}
	st.Endpoints = map[string]string{}
	svcPorts := map[string]int{}
	for i, s := range osServices {
		svcPorts[s.name] = ports[i+1]
		st.Endpoints[s.typ] = fmt.Sprintf("http://127.0.0.1:%d%s", ports[i+1], s.path)
	}
	o.Endpoints = st.Endpoints

	// MariaDB and keystone's users and catalog at once: neither needs the other.
	var wg sync.WaitGroup
	var dbErr, ksErr error
	passwords := map[string]string{}
	var ksURL string
	wg.Go(func() {
		pid, err := startDetachedMariaDB(ctx, filepath.Join(o.StateDir, "mysql"), dbAddr, dbPassword)
		if pid > 0 {
			st.PIDs["mariadb"] = pid
		}
		dbErr = err
	})
	wg.Go(func() { ksURL, ksErr = o.register(ctx, st.Endpoints, passwords) })
	wg.Wait()
	if err := errors.Join(save(), dbErr, ksErr); err != nil {
		return err
	}
	db, err := openMySQL(ctx, dbAddr, dbPassword)
	if err != nil {
		return err
	}
	for _, s := range osServices {
		for _, name := range s.db {
			if _, err := db.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS "+name); err != nil {
				db.Close()
				return fmt.Errorf("create database %s: %w", name, err)
			}
		}
	}
	db.Close()

	conn := func(name string) string {
		return fmt.Sprintf("mysql+pymysql://root:%s@%s/%s?charset=utf8", dbPassword, dbAddr, name)
	}
	cfgs := make([]osConfig, len(osServices))
	cmds := make([]*osCommands, len(osServices))
	for i, s := range osServices {
		cfgs[i] = osConfig{dir: filepath.Join(o.StateDir, s.name), port: svcPorts[s.name], conn: conn,
			keystone: ksURL, user: "testbed-" + s.name, password: passwords[s.name], endpoints: st.Endpoints}
		if cmds[i], err = cfgs[i].prepare(s); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	// The schemas: restored from the dump an earlier start made with the
	// same packages, else made by each API's own tool, all at once, and
	// dumped for the next start (the migrations take most of a first
	// start: neutron's alone about a minute on 2 cores).
	schemas := schemaCache()
	restored, err := restoreSchemas(ctx, schemas, dbAddr, dbPassword, conn("nova_cell0"))
	if err != nil {
		return err
	}
	errs := make([]error, len(osServices))
	if !restored {
		for i := range osServices {
			wg.Go(func() {
				if err := cfgs[i].sync(ctx, cmds[i]); err != nil {
					errs[i] = fmt.Errorf("%s: %w", osServices[i].name, err)
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		// Only a speed-up: a start that cannot dump still serves.
		_ = dumpSchemas(ctx, schemas, dbAddr, dbPassword)
	}
	var mu sync.Mutex
	for i, s := range osServices {
		wg.Go(func() {
			c := cfgs[i]
			pid, err := c.serve(cmds[i])
			if pid > 0 {
				mu.Lock()
				st.PIDs[s.name] = pid
				mu.Unlock()
			}
			if err == nil {
				err = probeAll(ctx, map[string]string{s.typ: st.Endpoints[s.typ]}, 3*time.Minute)
				if err != nil {
					log, _ := os.ReadFile(filepath.Join(c.dir, s.name+".log"))
					err = fmt.Errorf("%w\n--- last lines of %s.log:\n%s", err, s.name, LastLines(string(log), 15))
				}
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s: %w", s.name, err)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(append(errs, save())...); err != nil {
		return err
	}
	return o.writeClouds()
}

// writeClouds writes clouds.yaml: keystone's CloudName entry in OpenStackRegion.
func (o *OpenStack) writeClouds() error {
	raw, err := os.ReadFile(o.KeystoneClouds)
	if err != nil {
		return err
	}
	var c map[string]map[string]map[string]any
	if err := yaml.Unmarshal(raw, &c); err != nil {
		return fmt.Errorf("%s: %w", o.KeystoneClouds, err)
	}
	cloud := c["clouds"][CloudName]
	if cloud == nil {
		return fmt.Errorf("%s: no cloud %q", o.KeystoneClouds, CloudName)
	}
	cloud["region_name"] = OpenStackRegion
	out, err := yaml.Marshal(map[string]any{"clouds": map[string]any{CloudName: cloud}})
	if err != nil {
		return err
	}
	return os.WriteFile(o.Clouds, out, 0o600)
}

// Stop stops the APIs and MariaDB this OpenStack started (or found
// running from its StateDir). Ones reused from $ATMOSPHERE_TEST_OPENSTACK_CLOUDS
// are left alone.
func (o *OpenStack) Stop() error {
	if os.Getenv(EnvOpenStackClouds) != "" && !o.started && !o.Private {
		return nil
	}
	o.started = false
	if o.StateDir == "" {
		return nil
	}
	st, err := readOpenStackState(filepath.Join(o.StateDir, "state.yaml"))
	if err != nil {
		return nil // nothing running
	}
	st.stop()
	return os.Remove(filepath.Join(o.StateDir, "state.yaml"))
}

// Logs returns the last lines of each API's log, for a failed test to show.
func (o *OpenStack) Logs(lines int) string {
	var b strings.Builder
	for _, s := range osServices {
		raw, err := os.ReadFile(filepath.Join(o.StateDir, s.name, s.name+".log"))
		if err != nil {
			continue
		}
		fmt.Fprintf(&b, "--- %s.log:\n%s\n", s.name, LastLines(string(raw), lines))
	}
	return b.String()
}

func readOpenStackState(path string) (*openStackState, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st openStackState
	if err := yaml.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &st, nil
}

func (st *openStackState) alive() bool {
	for _, s := range append([]osService{{name: "mariadb"}}, osServices...) {
		if pid := st.PIDs[s.name]; pid <= 0 || !Alive(pid) {
			return false
		}
	}
	return true
}

// stop ends each recorded process group: SIGTERM, SIGKILL after 10 s.
func (st *openStackState) stop() {
	var wg sync.WaitGroup
	for _, pid := range st.PIDs {
		wg.Go(func() { stopGroup(pid, pid) }) // each leads its session
	}
	wg.Wait()
}

// probeAll waits until each URL answers with a status below 500 (the
// version documents of glance and cinder are 300 Multiple Choices).
func probeAll(ctx context.Context, urls map[string]string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for typ, url := range urls {
		root := url
		if i := strings.Index(url[len("http://"):], "/"); i >= 0 {
			root = url[:len("http://")+i]
		}
		var last error
		for {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, root+"/", nil)
			if err != nil {
				return err
			}
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode < 500 {
					break
				}
				err = fmt.Errorf("HTTP %d", resp.StatusCode)
			}
			last = err
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s at %s did not answer: %w (last: %v)", typ, root, ctx.Err(), last)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return nil
}

// register makes, in the test keystone, a user testbed-NAME with a fresh
// password and the admin role on the admin project for each API, and its
// catalog entry: the service of atmosphere's type and name (found or made)
// with public, internal and admin endpoints in OpenStackRegion. It returns
// keystone's URL and fills passwords by API name.
func (o *OpenStack) register(ctx context.Context, endpoints map[string]string, passwords map[string]string) (string, error) {
	ao, eo, _, err := clouds.Parse(clouds.WithCloudName(CloudName), clouds.WithLocations(o.KeystoneClouds))
	if err != nil {
		return "", fmt.Errorf("keystone clouds.yaml: %w", err)
	}
	cloud, err := openstack.Authenticate(ctx, ao, eo)
	if err != nil {
		return "", fmt.Errorf("authenticate to the test keystone: %w", err)
	}
	client, err := cloud.Identity()
	if err != nil {
		return "", err
	}
	if _, err := regions.Get(ctx, client, OpenStackRegion).Extract(); gophercloud.ResponseCodeIs(err, http.StatusNotFound) {
		_, err = regions.Create(ctx, client, regions.CreateOpts{ID: OpenStackRegion}).Extract()
		if err != nil && !gophercloud.ResponseCodeIs(err, http.StatusConflict) {
			return "", fmt.Errorf("create region %s: %w", OpenStackRegion, err)
		}
	} else if err != nil {
		return "", fmt.Errorf("read region %s: %w", OpenStackRegion, err)
	}
	// Identity too: a client of this region finds keystone in its catalog.
	if err := registerEndpoints(ctx, client, "identity", "keystone", strings.TrimSuffix(ao.IdentityEndpoint, "/")); err != nil {
		return "", fmt.Errorf("register keystone in %s: %w", OpenStackRegion, err)
	}
	for _, s := range osServices {
		pw, err := randomHex(12)
		if err != nil {
			return "", err
		}
		passwords[s.name] = pw
		if err := registerService(ctx, client, s, endpoints[s.typ], pw); err != nil {
			return "", fmt.Errorf("register %s in keystone: %w", s.name, err)
		}
	}
	return ao.IdentityEndpoint, nil
}
