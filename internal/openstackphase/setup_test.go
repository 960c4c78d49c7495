package openstackphase

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"golang.org/x/crypto/ssh"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/openstackfake"
	"github.com/vexxhost/atmosphere-go/internal/sshkey"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/openstack"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

func TestMain(m *testing.M) {
	testenv.Main(m)
}

// TestEveryOpenStackPhaseHasWork: each OpenStack phase of the registry
// has work (a catalog phase catalog entries, another set-up steps or
// catalog entries made in it), a component has at most one OpenStack
// phase besides its catalog, and a component with set-up steps has one.
func TestEveryOpenStackPhaseHasWork(t *testing.T) {
	for _, c := range components.Default().Components() {
		var setups []string
		for _, p := range c.Phases {
			if p.Kind != components.OpenStack {
				continue
			}
			key := components.UnitKey(c.Name, p.Name)
			switch {
			case p.Name == catalogPhase && len(c.Services()) == 0:
				t.Errorf("%s: a catalog phase, but no catalog entry", key)
			case p.Name != catalogPhase:
				setups = append(setups, key)
				if !c.HasSetup() && !catalogInSetup(c) {
					t.Errorf("%s: no set-up step", key)
				}
			}
		}
		switch {
		case len(setups) > 1:
			t.Errorf("%s: set-up phases %v, want at most one", c.Name, setups)
		case len(setups) == 0 && c.HasSetup():
			t.Errorf("%s: set-up steps, but no OpenStack phase to run them", c.Name)
		}
	}
}

// TestDeployRefusesAPhaseWithoutWork: a phase the engine has no work for
// is an error naming its unit, and changes nothing.
func TestDeployRefusesAPhaseWithoutWork(t *testing.T) {
	runner := &Runner{Clients: &testClients{}, Facts: &Facts{}}
	c := &components.Component{Name: "no-such-component", Phases: []components.Phase{{Name: "setup", Kind: components.OpenStack}}}
	err := runner.Deploy(context.Background(), c, c.Phases[0])
	if err == nil || err.Error() != "no OpenStack set-up is known for no-such-component:setup" {
		t.Errorf("got %v", err)
	}
}

// passwords generates a password per service user and remembers them all.
type passwords struct {
	mu   sync.Mutex
	made map[string]string
}

func (p *passwords) Password(_ context.Context, component, key string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.made == nil {
		p.made = map[string]string{}
	}
	k := component + "/" + key
	if _, ok := p.made[k]; !ok {
		p.made[k] = fmt.Sprintf("secret-%s-%d-%d", strings.ReplaceAll(k, "/", "-"), os.Getpid(), time.Now().UnixNano())
	}
	return p.made[k], nil
}

// testClients are the step sets of a test.
type testClients struct {
	identity *provision.Identity
	compute  *provision.Compute
	volume   *provision.Volume
	network  *provision.Network
	images   *provision.Images
}

func (c *testClients) Identity(context.Context) (*provision.Identity, error) { return c.identity, nil }
func (c *testClients) Compute(context.Context) (*provision.Compute, error)   { return c.compute, nil }
func (c *testClients) Volume(context.Context) (*provision.Volume, error)     { return c.volume, nil }
func (c *testClients) Network(context.Context) (*provision.Network, error)   { return c.network, nil }
func (c *testClients) Images(context.Context) (*provision.Images, error)     { return c.images, nil }

// askedClients are a unit's view of the step sets: each set it asks for
// is recorded as the API it calls, by its catalog type.
type askedClients struct {
	Clients
	ask func(api string)
}

func (c askedClients) Identity(ctx context.Context) (*provision.Identity, error) {
	c.ask("identity")
	return c.Clients.Identity(ctx)
}
func (c askedClients) Compute(ctx context.Context) (*provision.Compute, error) {
	c.ask("compute")
	return c.Clients.Compute(ctx)
}
func (c askedClients) Volume(ctx context.Context) (*provision.Volume, error) {
	c.ask("volumev3")
	return c.Clients.Volume(ctx)
}
func (c askedClients) Network(ctx context.Context) (*provision.Network, error) {
	c.ask("network")
	return c.Clients.Network(ctx)
}
func (c askedClients) Images(ctx context.Context) (*provision.Images, error) {
	c.ask("image")
	return c.Clients.Images(ctx)
}

// apiProviders are the components whose releases serve each API a set-up
// calls, by catalog type.
var apiProviders = map[string]string{"identity": "keystone", "compute": "nova", "network": "neutron", "image": "glance", "volumev3": "cinder"}

// asking runs each OpenStack unit with the runner's clients seen through
// askedClients, and returns the APIs each unit asked for, by unit key.
func asking(runner *Runner) (components.Deployer, func() map[string][]string) {
	var mu sync.Mutex
	asked := map[string][]string{}
	d := components.DeployerFunc(func(ctx context.Context, c *components.Component, p components.Phase) error {
		key := components.UnitKey(c.Name, p.Name)
		r := *runner
		r.Clients = askedClients{Clients: runner.Clients, ask: func(api string) {
			mu.Lock()
			defer mu.Unlock()
			if !slices.Contains(asked[key], api) {
				asked[key] = append(asked[key], api)
			}
		}}
		return r.Deploy(ctx, c, p)
	})
	return d, func() map[string][]string {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(asked)
	}
}

// TestSetupThroughTheScheduler runs the whole default registry through the
// scheduler, with the Helm, manifest, Ansible and keycloak phases as quick
// no-ops and every OpenStack phase doing its real steps against the test
// bed's keystone, nova, cinder, neutron and glance (testenv.OpenStackAPIs;
// image sources are served locally). It runs twice: the second run changes
// nothing. Octavia's set-up starts once neutron is set up and before
// octavia's chart; nothing secret reaches the logs. The set-up's objects
// have atmosphere's fixed names, which outlive a run in the shared APIs:
// the test first removes what an earlier run left of them.
func TestSetupThroughTheScheduler(t *testing.T) {
	ctx := context.Background()
	rc := newRealCloud(t)
	apis, sc, source, clients := rc.apis, rc.sc, rc.source, rc.clients
	identity := sc["identity"]
	removeSetupObjects(t, sc)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the test bed's API logs:\n%s", apis.Logs(10))
		}
	})

	suffix := fmt.Sprintf("%d", os.Getpid())
	yes := true
	// The amphorae's key as a deploy gives it: octavia_ssh_key from the
	// secrets store, read when the set-up runs.
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(key, "")
	if err != nil {
		t.Fatal(err)
	}
	amphoraKey := string(pem.EncodeToMemory(block))
	facts := &Facts{}
	settings := components.DefaultSettings()
	settings.Facts = facts.Of
	settings.Secret = func(name string) (string, error) {
		if name != "octavia_ssh_key" {
			return "", fmt.Errorf("no secret %s in this test", name)
		}
		return amphoraKey, nil
	}
	settings.Setup = components.SetupSettings{
		Federations: []provision.Federation{{Domain: "atmosphere-" + suffix, Issuer: "https://keycloak.cloud.example.com/realms/atmosphere-" + suffix}},
		Flavors:     []provision.Flavor{{Name: "m1.small", VCPUs: 1, RAM: 2048, Disk: 20, Public: true}},
		Networks: []provision.NetworkSpec{{Name: "public", External: &yes, ProviderType: "flat", PhysicalNetwork: "external",
			Subnets: []provision.SubnetSpec{{Name: "public-subnet", CIDR: "10.96.250.0/24"}}}},
		Images:             []provision.Image{{Name: "cirros", Source: source.URL + "/cirros.img", DiskFormat: "raw"}},
		OctaviaControllers: []string{"ctl1", "ctl2", "ctl3"},
	}

	var logs bytes.Buffer
	pw := &passwords{}
	runner := &Runner{Clients: clients, Passwords: pw, Settings: settings, Facts: facts,
		Config: Config{Endpoints: provision.Endpoints{Region: "RegionSetup-" + suffix, Domain: "cloud.example.com",
			Namespace: "openstack", ClusterDomain: "cluster.local"}},
		Log: slog.New(slog.NewJSONHandler(&syncWriter{w: &logs}, nil))}
	noop := components.DeployerFunc(func(ctx context.Context, c *components.Component, p components.Phase) error {
		time.Sleep(5 * time.Millisecond)
		return nil
	})
	openstackUnits, asked := asking(runner)
	deployer := components.ByKind{components.OpenStack: openstackUnits, components.Helm: noop, components.Manifest: noop,
		components.Ansible: noop, components.AnsibleFacts: noop, components.Keycloak: noop, components.Database: noop, components.Queue: noop}
	reg := components.Default()
	g, err := reg.Graph(components.DefaultConfig(), components.GraphOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var errs []string
	run := func() *dag.Result[string] {
		t.Helper()
		res, err := reg.Run(ctx, g, deployer, dag.Options[string]{Concurrency: 16})
		if err == nil {
			err = res.Err()
		}
		if err != nil {
			errs = append(errs, err.Error())
			t.Fatalf("deploy: %v", err)
		}
		return res
	}

	first := run()
	node := func(key string) dag.NodeResult[string] { return first.Nodes[key] }
	// Each OpenStack unit needs (through the graph) the release of every
	// API it called: the edges of the set-up phases are what they call
	// (#25, docs/edges.md), and octavia's set-up started once those were
	// done.
	for unit, apis := range asked() {
		ancestors := g.Ancestors(unit)
		for _, api := range apis {
			provider := apiProviders[api]
			if c, _ := components.SplitUnit(unit); c != provider && !slices.Contains(ancestors, components.UnitKey(provider, "install")) {
				t.Errorf("%s called the %s API, but does not need %s:install", unit, api, provider)
			}
			if unit != "octavia:setup" {
				continue
			}
			if end := node(components.UnitKey(provider, "install")).End; node(unit).Start.Before(end) {
				t.Errorf("%s started before %s:install was done", unit, provider)
			}
		}
	}
	if got := asked()["octavia:setup"]; len(got) != 5 {
		t.Errorf("octavia's set-up called %v, want every API (identity, network, compute, image, volumev3)", got)
	}
	if node("octavia:install").Start.Before(node("octavia:setup").End) {
		t.Errorf("octavia's chart started before its set-up was done")
	}
	octavia := runner.Facts.Of("octavia")
	if octavia["amp_boot_network_list"] == "" || octavia["amp_flavor_id"] == "" || octavia["amp_image_owner_id"] == "" ||
		octavia["amp_secgroup_list"] == "" || octavia["amp_ssh_key_name"] != "octavia-ssh-key" || octavia["health_manager_port_ctl1"] == "" ||
		strings.Count(octavia["controller_ip_port_list"], ":5555") != 3 {
		t.Errorf("octavia facts %v", octavia)
	}
	if m := runner.Facts.Of("manila"); m["service_instance_flavor_id"] == "" || m["service_instance_security_group"] != "manila-service" {
		t.Errorf("manila facts %v", runner.Facts.Of("manila"))
	}
	made := setupObjects(t, sc)
	want := map[string]int{"flavors": 3, "networks": 2, "ports": 3, "security-groups": 3, "images": 6}
	for k, v := range want {
		if len(made[k]) != v {
			t.Errorf("%s: %v, want %d", k, made[k], v)
		}
	}
	var quota struct {
		QuotaSet map[string]any `json:"quota_set"`
	}
	if _, err := sc["compute"].Get(ctx, sc["compute"].ServiceURL("os-quota-sets", findProject(t, identity, "admin")), &quota, nil); err != nil ||
		fmt.Sprint(quota.QuotaSet["instances"]) != "-1" {
		t.Errorf("admin compute quota %v err %v", quota.QuotaSet, err)
	}
	public, err := sshkey.PublicKey(amphoraKey)
	if err != nil {
		t.Fatal(err)
	}
	if kp, err := keypairs.Get(ctx, sc["compute"], "octavia-ssh-key", nil).Extract(); err != nil || strings.TrimSpace(kp.PublicKey) != public {
		t.Errorf("keypair octavia-ssh-key %+v err %v, want the key %s", kp, err, public)
	}

	// Every set-up phase changes something the first time (the objects an
	// earlier run left were removed above), but barbican's: its role
	// creator, implied by member, stays in the shared keystone from one run
	// to the next.
	var unchanged []string
	for _, c := range reg.Components() {
		for _, p := range c.Phases {
			if p.Kind != components.OpenStack || p.Name == catalogPhase || c.Name == "barbican" {
				continue
			}
			key := components.UnitKey(c.Name, p.Name)
			if !slices.ContainsFunc(strings.Split(logs.String(), "\n"), func(line string) bool {
				return strings.Contains(line, `"unit":"`+key+`"`) && strings.Contains(line, `"changed":true`)
			}) {
				unchanged = append(unchanged, key)
			}
		}
	}
	if len(unchanged) > 0 {
		t.Errorf("the first run did not change %v:\n%s", unchanged, logs.String())
	}
	logs.Reset()
	second := run()
	t.Logf("whole registry with real set-up: first run %s, second run %s", first.Makespan().Round(time.Millisecond), second.Makespan().Round(time.Millisecond))
	var changed []string
	for line := range strings.SplitSeq(logs.String(), "\n") {
		if strings.Contains(line, `"changed":true`) {
			changed = append(changed, line)
		}
	}
	if len(changed) > 0 {
		t.Errorf("the second run changed:\n%s", strings.Join(changed, "\n"))
	}
	if !strings.Contains(logs.String(), `"unit":"octavia:setup"`) {
		t.Errorf("no set-up was logged:\n%s", logs.String())
	}

	start := time.Now()
	checkWithCLI(t, apis.Clouds, settings.Setup.OctaviaControllers)
	t.Logf("the openstack command checked the set-up in %s", time.Since(start).Round(time.Millisecond))

	captured := logs.String() + strings.Join(errs, "\n")
	for k, secret := range pw.made {
		if strings.Contains(captured, secret) {
			t.Errorf("the password of %s leaked", k)
		}
	}
	if strings.Contains(captured, strings.TrimSpace(amphoraKey)) {
		t.Error("the amphorae's private key leaked")
	}
	if len(pw.made) < 12 {
		t.Errorf("%d service passwords asked for, want every service user", len(pw.made))
	}
}

// syncWriter serialises writes of concurrent loggers.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

func findProject(t *testing.T, client *gophercloud.ServiceClient, name string) string {
	t.Helper()
	pages, err := projects.List(client, projects.ListOpts{Name: name, DomainID: "default"}).AllPages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found, err := projects.ExtractProjects(pages)
	if err != nil || len(found) != 1 {
		t.Fatalf("project %s: %v %v", name, found, err)
	}
	return found[0].ID
}

// TestCloudClients makes each step set once, and names the region when a
// service is not in the catalog (the test keystone's region has identity
// only; other tests add services in regions of their own).
func TestCloudClients(t *testing.T) {
	ctx := context.Background()
	ao, eo, _, err := clouds.Parse(clouds.WithCloudName(testenv.CloudName), clouds.WithLocations(testenv.KeystoneClouds(t)))
	if err != nil {
		t.Fatal(err)
	}
	// The test keystone's own region holds identity only.
	cloud, err := openstack.Authenticate(ctx, ao, eo)
	if err != nil {
		t.Fatal(err)
	}
	c := &CloudClients{Cloud: cloud}
	a, err := c.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := c.Identity(ctx); a != b {
		t.Error("the identity steps were made twice")
	}
	if _, _, err := a.EnsureRole(ctx, "member"); err != nil {
		t.Errorf("identity steps do not work: %v", err)
	}
	if _, err := c.Network(ctx); err == nil || !strings.Contains(err.Error(), eo.Region) {
		t.Errorf("network in a region without it: %v", err)
	}
}

// realCloud is the test bed's OpenStack APIs as a set-up test uses them:
// the set-up's clients, the service clients it reads back through (by
// type: identity, compute, network, image, volumev3), and a local server
// that is every image's source, wherever its URL points (it serves each
// path repeated).
type realCloud struct {
	apis    *testenv.OpenStack
	sc      map[string]*gophercloud.ServiceClient
	source  *httptest.Server
	clients *testClients
}

// newRealCloud starts (or joins) the test bed's OpenStack APIs for t.
func newRealCloud(t *testing.T) realCloud {
	t.Helper()
	ctx := context.Background()
	apis := testenv.OpenStackAPIs(t)
	cloud, err := openstack.FromClouds(ctx, testenv.CloudName, apis.Clouds)
	if err != nil {
		t.Fatal(err)
	}
	identity, err := cloud.Identity()
	if err != nil {
		t.Fatal(err)
	}
	sc := map[string]*gophercloud.ServiceClient{"identity": identity}
	for typ, make := range map[string]func(context.Context) (*gophercloud.ServiceClient, error){
		"compute": cloud.Compute, "network": cloud.Network, "image": cloud.Image, "volumev3": cloud.BlockStorage,
	} {
		if sc[typ], err = make(ctx); err != nil {
			t.Fatal(err)
		}
	}
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat(r.URL.Path, 1000))
	}))
	t.Cleanup(source.Close)
	return realCloud{apis: apis, sc: sc, source: source, clients: &testClients{
		identity: provision.NewIdentity(identity),
		compute:  provision.NewCompute(sc["compute"]),
		volume:   provision.NewVolume(sc["volumev3"]),
		network:  provision.NewNetwork(sc["network"]),
		images:   provision.NewImages(sc["image"], &http.Client{Transport: openstackfake.ToServer(source.URL)}),
	}}
}
