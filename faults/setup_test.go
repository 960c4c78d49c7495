package faults

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/flavors"
	"github.com/gophercloud/gophercloud/v2/openstack/compute/v2/keypairs"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/extensions/security/groups"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/networks"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/ports"
	"github.com/gophercloud/gophercloud/v2/openstack/networking/v2/subnets"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/sshkey"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/inventory"
	"github.com/vexxhost/atmosphere-go/openstack"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// The OpenStack set-up units of a bed's deploys run for real: nova's,
// neutron's, glance-images', octavia's, manila's and magnum's set-up talk
// to Debian's nova, placement, neutron, glance and cinder APIs, started
// once for the package against the suite's own keystone (a private
// testenv.OpenStack: the APIs check tokens with the keystone they are
// registered in, and the suite's keystone is its own because the outage
// test stops it; they are not the test bed's shared APIs either, whose
// fixed names other packages' tests remove and count). The deploy's cloud
// is their clouds.yaml (region testenv.OpenStackRegion), as make demo's;
// the images come from loopback servers.
//
// The beds share that one set of APIs, and the points' beds run two at a
// time (t.Parallel): neutron and glance take duplicate names, so two beds
// making "the" image or network at once would make two. Every bed names
// what it asks for after itself (setupVars: its images, flavors, provider
// network, octavia's management network, subnet, security group, flavor
// and image, manila's flavor and image, magnum's image), so no two beds
// ever race on a name and each starts from a cloud without its objects.
// What atmosphere names itself (the service project, octavia's
// lb-health-mgr-sec-grp and octavia-ssh-key keypair, manila's
// manila-service group) is shared: only octavia's and manila's set-up make
// them, which only the whole-inventory deploys run, and those never run at
// the same time (the suite's top-level tests are sequential).

var (
	suiteOSOnce sync.Once
	suiteOS     *testenv.OpenStack
	suiteOSErr  error
	// suiteOSStarted says whether startSuiteOpenStack started them.
	suiteOSStarted atomic.Bool
	// suiteOSReady is closed once the APIs are up (or failed to start).
	suiteOSReady = make(chan struct{})

	imagesOnce sync.Once
	suiteImg   *imageServers
	imagesErr  error

	// bedCount numbers the beds of this process, for their names.
	bedCount atomic.Int64
)

// startSuiteOpenStack starts the suite's OpenStack APIs in the background
// the first time it is called (the first bed's cluster starts meanwhile);
// suiteOpenStack waits for them.
func startSuiteOpenStack(t testing.TB) {
	t.Helper()
	ks := suiteKeystone(t)
	suiteOSOnce.Do(func() {
		suiteOSStarted.Store(true)
		go func() {
			defer close(suiteOSReady)
			o := &testenv.OpenStack{StateDir: filepath.Join(os.TempDir(), fmt.Sprintf("atmosphere-faults-openstack-%d", os.Getpid())),
				KeystoneClouds: ks.Clouds, Private: true}
			start := time.Now()
			suiteOSErr = o.Start(context.Background())
			suiteOS = o
			fmt.Fprintf(os.Stderr, "faults: the suite's OpenStack APIs up in %s\n", time.Since(start).Round(100*time.Millisecond))
		}()
	})
}

// suiteOpenStack is the package's OpenStack APIs, started on first use.
func suiteOpenStack(t testing.TB) *testenv.OpenStack {
	t.Helper()
	startSuiteOpenStack(t)
	<-suiteOSReady
	if suiteOSErr != nil {
		t.Fatalf("the suite's OpenStack APIs: %v", suiteOSErr)
	}
	return suiteOS
}

// stopSuiteOpenStack stops the APIs the suite started, if any, and
// removes their state.
func stopSuiteOpenStack() error {
	if !suiteOSStarted.Load() {
		return nil
	}
	<-suiteOSReady
	if suiteOS == nil {
		return nil
	}
	return errors.Join(suiteOS.Stop(), os.RemoveAll(suiteOS.StateDir), os.RemoveAll(suiteOS.StateDir+".lock"))
}

// slowImageRate is the rate, in bytes a second, of the slow image server:
// a 1 MiB image takes about 3 s to upload from it, long enough for a
// point to land while glance-images' set-up is in flight.
const slowImageRate = 350 << 10

// imageServers serve the suite's tiny disk images (testenv.ImageServer's,
// made by qemu-img): at full speed, and the raw one slowly too.
type imageServers struct {
	testenv.ImageServer
	SlowRawURL string
	// md5 is each image's checksum by URL, as glance records it.
	md5 map[string]string
}

// stopSuiteImages stops the image servers, if started, and removes their
// images.
func stopSuiteImages() error {
	if suiteImg == nil {
		return nil
	}
	return errors.Join(suiteImg.Close(), os.RemoveAll(suiteImg.Dir))
}

// suiteImages starts the image servers once for the package (the slow one
// ends with the process).
func suiteImages(t testing.TB) *imageServers {
	t.Helper()
	imagesOnce.Do(func() {
		s := &imageServers{ImageServer: testenv.ImageServer{Dir: filepath.Join(os.TempDir(), fmt.Sprintf("atmosphere-faults-images-%d", os.Getpid()))}}
		if imagesErr = s.Start(context.Background()); imagesErr != nil {
			return
		}
		raw := filepath.Join(s.Dir, "disk.raw")
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			imagesErr = err
			return
		}
		s.SlowRawURL = "http://" + l.Addr().String() + "/disk.raw"
		go func() { _ = http.Serve(l, slowFile(raw, slowImageRate)) }()
		s.md5 = map[string]string{}
		for url, path := range map[string]string{s.RawURL: raw, s.SlowRawURL: raw, s.QCOW2URL: filepath.Join(s.Dir, "disk.qcow2")} {
			if s.md5[url], imagesErr = fileMD5(path); imagesErr != nil {
				return
			}
		}
		suiteImg = s
	})
	if imagesErr != nil {
		t.Fatalf("the suite's image servers: %v", imagesErr)
	}
	return suiteImg
}

// slowFile serves the file at path (whatever the request's path) at rate
// bytes a second, in tenths of a second, until the client goes away.
func slowFile(path string, rate int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := os.ReadFile(path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		flusher, _ := w.(http.Flusher)
		for chunk := rate / 10; len(data) > 0; data = data[min(chunk, len(data)):] {
			if _, err := w.Write(data[:min(chunk, len(data))]); err != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

func fileMD5(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// setupVarsFile is the bed's variables file of its set-up's names and
// images; it sorts after molecule.yml, whose glance_images it replaces,
// and before the zz- files tests add (a bad input's replaces it).
const setupVarsFile = "setup.yml"

// setupVars are the variables of what a bed's set-up makes, each named
// after the bed (suffix), with its images on the suite's servers
// (glance_images on the slow one when slow). Nothing else is changed from
// the role's defaults: the sizes, formats, CIDR and rules are theirs.
func setupVars(suffix string, img *imageServers, slow bool) string {
	glanceURL := img.RawURL
	if slow {
		glanceURL = img.SlowRawURL
	}
	return fmt.Sprintf(`glance_images:
  - name: %[5]s
    url: %[2]q
    min_disk: 1
    disk_format: raw
    container_format: bare
    is_public: true
nova_flavors:
  - name: m1.tiny-%[1]s
    vcpus: 1
    ram: 512
    disk: 1
neutron_networks:
  - name: public-%[1]s
    external: true
    shared: true
    provider_network_type: flat
    provider_physical_network: external-%[1]s
    subnets:
      - name: public-subnet-%[1]s
        cidr: 10.96.250.0/24
        gateway_ip: 10.96.250.10
        allocation_pool_start: 10.96.250.200
        allocation_pool_end: 10.96.250.220
        enable_dhcp: true
octavia_management_network_name: lb-mgmt-net-%[1]s
octavia_management_subnet_name: lb-mgmt-subnet-%[1]s
octavia_amphora_security_group_name: lb-mgmt-sec-grp-%[1]s
octavia_amphora_flavor_name: m1.amphora-%[1]s
octavia_amphora_image_name: amphora-x64-haproxy-%[1]s
octavia_amphora_image_url: %[3]q
manila_flavor_name: m1.manila-%[1]s
manila_image_name: manila-service-image-%[1]s
manila_image_url: %[4]q
magnum_images:
  - name: ubuntu-2204-kube-v1.34.3-%[1]s
    url: %[3]q
    distro: ubuntu
`, suffix, glanceURL, img.RawURL, img.QCOW2URL, glanceImageName(suffix))
}

// glanceImageName is the name of a bed's image in glance_images.
func glanceImageName(suffix string) string { return "cirros-" + suffix }

// uploading is, for a set-up point, what its signal waits for once its
// unit started: glance holding the bed's image saving (its data being
// uploaded), polled until the run ends or a minute passes; nil for
// another point.
func (b *bed) uploading(p *proc, at point) func() bool {
	if at.unit == "" {
		return nil
	}
	return func() bool {
		b.t.Helper()
		ctx := context.Background()
		cloud, err := openstack.FromClouds(ctx, testenv.CloudName, b.clouds)
		if err != nil {
			b.t.Errorf("the suite's cloud: %v", err)
			return false
		}
		client := mustClient(b.t, ctx, cloud.Image)
		name := glanceImageName(b.suffix)
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) {
			pages, err := images.List(client, images.ListOpts{Name: name}).AllPages(ctx)
			if err != nil {
				b.t.Errorf("list the images named %s: %v", name, err)
				return false
			}
			found, err := images.ExtractImages(pages)
			if err != nil {
				b.t.Errorf("the images named %s: %v", name, err)
				return false
			}
			for _, img := range found {
				if img.Status == images.ImageStatusSaving {
					return true
				}
			}
			select {
			case <-p.done:
				b.t.Errorf("the run ended before glance showed %s saving", name)
				return false
			case <-time.After(50 * time.Millisecond):
			}
		}
		b.t.Errorf("glance did not show %s saving within a minute of %s's start", name, at.unit)
		return false
	}
}

// slowImages has the bed's glance_images come from the slow server.
func (b *bed) slowImages() {
	b.t.Helper()
	b.addVars(setupVarsFile, setupVars(b.suffix, suiteImages(b.t), true))
}

// The set-up units, and those the whole inventory's deploys run.
const (
	glanceImagesSetup = "glance-images:setup"
	novaSetup         = "nova:setup"
)

var allSetupUnits = []string{novaSetup, "neutron:setup", glanceImagesSetup, "octavia:setup", "manila:setup", "magnum:setup"}

// checkSetup checks, with the real APIs, what the set-up units named have
// made for the bed, as its inventory asks (read by atmosphere's own
// inventory and components code): exactly one object of each name — an
// active image with the source's checksum, a flavor of the asked sizes, a
// network with its subnets, a security group, a health-manager port per
// controller on octavia's management network bound to its host — and the
// amphorae's keypair of the bed's key. A duplicate, a half-made image or a
// missing object fails the test naming it. It returns how many objects it
// checked.
func (b *bed) checkSetup(what string, units ...string) int {
	b.t.Helper()
	ctx := context.Background()
	inv, err := inventory.Load(b.inventory, nil)
	if err != nil {
		b.t.Fatalf("%s: load the bed's inventory: %v", what, err)
	}
	s, err := inv.Settings()
	if err != nil {
		b.t.Fatalf("%s: the bed's settings: %v", what, err)
	}
	settings := components.DefaultSettings()
	settings.Config, settings.Vars = s.Config, inv.Vars
	settings.Setup = components.SetupSettings{Flavors: s.Flavors, Networks: s.Networks, Images: s.Images,
		OctaviaControllers: inv.Groups["controllers"]}
	cloud, err := openstack.FromClouds(ctx, testenv.CloudName, suiteOpenStack(b.t).Clouds)
	if err != nil {
		b.t.Fatalf("%s: the suite's cloud: %v", what, err)
	}
	c := &setupCheck{b: b, what: what, ctx: ctx}
	c.compute, c.network, c.image = mustClient(b.t, ctx, cloud.Compute), mustClient(b.t, ctx, cloud.Network), mustClient(b.t, ctx, cloud.Image)
	wantImages, wantFlavors := components.SetupImages(settings), components.SetupFlavors(settings)
	for _, unit := range units {
		component, _ := components.SplitUnit(unit)
		for _, img := range wantImages[component] {
			c.image1(img)
		}
		for _, f := range wantFlavors[component] {
			c.flavor1(f)
		}
		switch component {
		case "neutron":
			for _, n := range s.Networks {
				c.network1(n)
			}
		case "octavia":
			net, sub, cidr, amphoraSG := components.OctaviaManagement(settings)
			id := c.network1(provision.NetworkSpec{Name: net, Subnets: []provision.SubnetSpec{{Name: sub, CIDR: cidr}}})
			c.securityGroup1(amphoraSG)
			c.securityGroup1("lb-health-mgr-sec-grp")
			for _, host := range settings.Setup.OctaviaControllers {
				c.port1(id, "octavia-health-manager-port-"+host, host)
			}
			c.keypair("octavia-ssh-key")
		case "manila":
			c.securityGroup1("manila-service")
		}
	}
	if len(units) > 0 && c.checked == 0 {
		b.t.Errorf("%s: the set-up of %v made nothing to check", what, units)
	}
	return c.checked
}

func mustClient(t testing.TB, ctx context.Context, f func(context.Context) (*gophercloud.ServiceClient, error)) *gophercloud.ServiceClient {
	t.Helper()
	c, err := f(ctx)
	if err != nil {
		t.Fatalf("a client of the suite's cloud: %v", err)
	}
	return c
}

// setupCheck is one checkSetup: its clients and how many objects it
// checked.
type setupCheck struct {
	b                       *bed
	what                    string
	ctx                     context.Context
	compute, network, image *gophercloud.ServiceClient
	checked                 int
}

func (c *setupCheck) fail(format string, args ...any) {
	c.b.t.Helper()
	c.b.t.Errorf("%s: %s", c.what, fmt.Sprintf(format, args...))
}

// one fails unless exactly one of n objects of a kind has the name.
func (c *setupCheck) one(kind, name string, n int) bool {
	c.b.t.Helper()
	c.checked++
	if n != 1 {
		c.fail("%d %ss named %s, want exactly one", n, kind, name)
		return false
	}
	return true
}

func (c *setupCheck) image1(want provision.Image) {
	c.b.t.Helper()
	pages, err := images.List(c.image, images.ListOpts{Name: want.Name}).AllPages(c.ctx)
	if err != nil {
		c.b.t.Fatalf("%s: list the images named %s: %v", c.what, want.Name, err)
	}
	found, err := images.ExtractImages(pages)
	if err != nil {
		c.b.t.Fatalf("%s: the images named %s: %v", c.what, want.Name, err)
	}
	if !c.one("image", want.Name, len(found)) {
		for _, img := range found {
			c.fail("image %s %s is %s", want.Name, img.ID, img.Status)
		}
		return
	}
	img := found[0]
	sum := suiteImages(c.b.t).md5[want.Source]
	if img.Status != images.ImageStatusActive || sum == "" || img.Checksum != sum {
		c.fail("image %s is %s with checksum %q, want active with %q (the whole of %s)", want.Name, img.Status, img.Checksum, sum, want.Source)
	}
}

func (c *setupCheck) flavor1(want provision.Flavor) {
	c.b.t.Helper()
	pages, err := flavors.ListDetail(c.compute, flavors.ListOpts{AccessType: flavors.AllAccess}).AllPages(c.ctx)
	if err != nil {
		c.b.t.Fatalf("%s: list the flavors: %v", c.what, err)
	}
	all, err := flavors.ExtractFlavors(pages)
	if err != nil {
		c.b.t.Fatalf("%s: the flavors: %v", c.what, err)
	}
	var found []flavors.Flavor
	for _, f := range all {
		if f.Name == want.Name {
			found = append(found, f)
		}
	}
	if c.one("flavor", want.Name, len(found)) {
		if f := found[0]; f.VCPUs != want.VCPUs || f.RAM != want.RAM || f.Disk != want.Disk {
			c.fail("flavor %s is %d vCPUs, %d MB, %d GB, want %d, %d, %d", want.Name, f.VCPUs, f.RAM, f.Disk, want.VCPUs, want.RAM, want.Disk)
		}
	}
}

// network1 checks the network and its subnets; it returns its ID ("" when
// it is not exactly one).
func (c *setupCheck) network1(want provision.NetworkSpec) string {
	c.b.t.Helper()
	pages, err := networks.List(c.network, networks.ListOpts{Name: want.Name}).AllPages(c.ctx)
	if err != nil {
		c.b.t.Fatalf("%s: list the networks named %s: %v", c.what, want.Name, err)
	}
	found, err := networks.ExtractNetworks(pages)
	if err != nil {
		c.b.t.Fatalf("%s: the networks named %s: %v", c.what, want.Name, err)
	}
	if !c.one("network", want.Name, len(found)) {
		return ""
	}
	id := found[0].ID
	for _, sub := range want.Subnets {
		pages, err := subnets.List(c.network, subnets.ListOpts{Name: sub.Name, NetworkID: id}).AllPages(c.ctx)
		if err != nil {
			c.b.t.Fatalf("%s: list the subnets named %s: %v", c.what, sub.Name, err)
		}
		got, err := subnets.ExtractSubnets(pages)
		if err != nil {
			c.b.t.Fatalf("%s: the subnets named %s: %v", c.what, sub.Name, err)
		}
		if c.one("subnet", sub.Name, len(got)) && got[0].CIDR != sub.CIDR {
			c.fail("subnet %s is %s, want %s", sub.Name, got[0].CIDR, sub.CIDR)
		}
	}
	return id
}

func (c *setupCheck) securityGroup1(name string) {
	c.b.t.Helper()
	pages, err := groups.List(c.network, groups.ListOpts{Name: name}).AllPages(c.ctx)
	if err != nil {
		c.b.t.Fatalf("%s: list the security groups named %s: %v", c.what, name, err)
	}
	found, err := groups.ExtractGroups(pages)
	if err != nil {
		c.b.t.Fatalf("%s: the security groups named %s: %v", c.what, name, err)
	}
	if c.one("security group", name, len(found)) && len(found[0].Rules) == 0 {
		c.fail("security group %s has no rule", name)
	}
}

// port1 checks the port of this name on the network, bound to host.
func (c *setupCheck) port1(networkID, name, host string) {
	c.b.t.Helper()
	if networkID == "" {
		return // the network's own check failed
	}
	pages, err := ports.List(c.network, ports.ListOpts{Name: name, NetworkID: networkID}).AllPages(c.ctx)
	if err != nil {
		c.b.t.Fatalf("%s: list the ports named %s: %v", c.what, name, err)
	}
	var found []struct {
		ID     string `json:"id"`
		HostID string `json:"binding:host_id"`
	}
	if err := ports.ExtractPortsInto(pages, &found); err != nil {
		c.b.t.Fatalf("%s: the ports named %s: %v", c.what, name, err)
	}
	if c.one("port", name, len(found)) && found[0].HostID != host {
		c.fail("port %s is bound to %q, want %s", name, found[0].HostID, host)
	}
}

// keypair checks the admin's keypair of this name is the public half of
// the bed's octavia_ssh_key.
func (c *setupCheck) keypair(name string) {
	c.b.t.Helper()
	c.checked++
	private := c.b.storeSecret("octavia_ssh_key")
	want, err := sshkey.PublicKey(private)
	if err != nil {
		c.fail("the bed's octavia_ssh_key: %v", err)
		return
	}
	kp, err := keypairs.Get(c.ctx, c.compute, name, nil).Extract()
	if err != nil {
		c.fail("keypair %s: %v", name, err)
		return
	}
	if strings.TrimSpace(kp.PublicKey) != strings.TrimSpace(want) {
		c.fail("keypair %s is not the public half of the bed's octavia_ssh_key", name)
	}
}

// storeSecret is a secret of the bed's store (failing the test when it
// has none of that name).
func (b *bed) storeSecret(name string) string {
	b.t.Helper()
	v, ok := b.storeSecrets()[name]
	if !ok {
		b.t.Fatalf("the bed's secrets store has no %s", name)
	}
	return v
}
