package components

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/vexxhost/atmosphere-go/internal/openstackfake"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// fakeClients are nova, neutron and glance fakes; identity and volume are
// not served (the set-ups that need them are tested through the engine,
// against the test keystone).
type fakeClients struct {
	compute *provision.Compute
	network *provision.Network
	images  *provision.Images
}

var errNotServed = errors.New("not served in this test")

func (c *fakeClients) Identity(context.Context) (*provision.Identity, error) {
	return nil, errNotServed
}
func (c *fakeClients) Volume(context.Context) (*provision.Volume, error)   { return nil, errNotServed }
func (c *fakeClients) Compute(context.Context) (*provision.Compute, error) { return c.compute, nil }
func (c *fakeClients) Network(context.Context) (*provision.Network, error) { return c.network, nil }
func (c *fakeClients) Images(context.Context) (*provision.Images, error)   { return c.images, nil }

// recordedFacts keeps the facts a set-up writes.
type recordedFacts struct {
	mu sync.Mutex
	m  map[string]string
}

func (f *recordedFacts) Set(key, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.m == nil {
		f.m = map[string]string{}
	}
	f.m[key] = value
}

// TestSetupOfComponents runs the set-up of the components that need only
// nova, neutron and glance twice on fakes: the first run makes what the
// settings and the component's defaults say, in order, the second changes
// nothing, and neither records facts.
func TestSetupOfComponents(t *testing.T) {
	yes := true
	cases := []struct {
		name, component string
		setup           SetupSettings
		// want are the names of the objects made, by fake and collection.
		want map[string][]string
	}{
		{name: "nova makes nova_flavors", component: "nova",
			setup: SetupSettings{Flavors: []provision.Flavor{
				{Name: "m1.small", VCPUs: 1, RAM: 2048, Disk: 20, Public: true},
				{Name: "m1.large", VCPUs: 4, RAM: 8192, Disk: 80},
			}},
			want: map[string][]string{"nova flavors": {"m1.small", "m1.large"}}},
		{name: "nova without flavors", component: "nova", want: map[string][]string{}},
		{name: "neutron makes neutron_networks", component: "neutron",
			setup: SetupSettings{Networks: []provision.NetworkSpec{{Name: "public", External: &yes, ProviderType: "flat",
				PhysicalNetwork: "external", Subnets: []provision.SubnetSpec{{Name: "public-subnet", CIDR: "10.96.250.0/24"}}}}},
			want: map[string][]string{"neutron networks": {"public"}, "neutron subnets": {"public-subnet"}}},
		{name: "glance-images uploads glance_images", component: "glance-images",
			setup: SetupSettings{Images: []provision.Image{{Name: "cirros", Source: "https://images.example/cirros.img", DiskFormat: "qcow2"}}},
			want:  map[string][]string{"glance images": {"cirros"}}},
		{name: "magnum uploads its cluster images", component: "magnum",
			want: map[string][]string{"glance images": {"ubuntu-2204-kube-v1.32.10", "ubuntu-2204-kube-v1.33.7", "ubuntu-2204-kube-v1.34.3"}}},
	}
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, strings.Repeat(r.URL.Path, 100))
	}))
	defer source.Close()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := Default().Get(tc.component)
			if !ok || !c.HasSetup() {
				t.Fatalf("%s: no component with set-up steps", tc.component)
			}
			nova, neutron, glance := &openstackfake.Nova{}, &openstackfake.Neutron{}, &openstackfake.Glance{}
			clients := &fakeClients{
				compute: provision.NewCompute(openstackfake.Client(t, nova, "")),
				network: provision.NewNetwork(openstackfake.Client(t, neutron, "v2.0/")),
				images:  provision.NewImages(openstackfake.Client(t, glance, "v2/"), &http.Client{Transport: openstackfake.ToServer(source.URL)}),
			}
			settings := DefaultSettings()
			settings.Setup = tc.setup
			facts := &recordedFacts{}
			s := &Setup{Clients: clients, Settings: settings, Facts: facts}
			ctx := context.Background()

			changed, err := c.Setup(ctx, s)
			if err != nil || changed != (len(tc.want) > 0) {
				t.Fatalf("first run: changed %v, %v; want changed %v", changed, err, len(tc.want) > 0)
			}
			got := map[string][]string{}
			for fake, store := range map[string]interface {
				Objects(string) []map[string]any
			}{"nova": nova, "neutron": neutron, "glance": glance} {
				for _, collection := range []string{"flavors", "keypairs", "networks", "subnets", "ports", "security-groups", "images"} {
					for _, o := range store.Objects(collection) {
						name, _ := o["name"].(string)
						got[fake+" "+collection] = append(got[fake+" "+collection], name)
					}
				}
			}
			for k, names := range got {
				if k == "glance images" {
					slices.Sort(names) // uploaded two at a time
				}
				if !slices.Equal(names, tc.want[k]) {
					t.Errorf("%s: %v, want %v", k, names, tc.want[k])
				}
			}
			for k, names := range tc.want {
				if len(got[k]) == 0 {
					t.Errorf("%s: none, want %v", k, names)
				}
			}

			if changed, err := c.Setup(ctx, s); err != nil || changed {
				t.Errorf("second run: changed %v, %v; want nothing changed", changed, err)
			}
			if len(facts.m) > 0 {
				t.Errorf("facts %v, want none", facts.m)
			}
		})
	}
}

// TestSetupImageSources checks that the set-ups of octavia, manila and
// magnum upload from the URLs the inventory names (octavia_amphora_image_url,
// manila_image_url, magnum_images), and from the roles' defaults when it
// names none; and that a magnum_images entry without a url is refused
// before the run.
func TestSetupImageSources(t *testing.T) {
	sources := func(s Settings, component string) map[string]string {
		out := map[string]string{}
		switch component {
		case "octavia":
			img := octaviaSetupOf(s).Image
			out[img.Name] = img.Source
		case "manila":
			img := manilaSetupOf(s).Image
			out[img.Name] = img.Source
		case "magnum":
			for _, img := range magnumSetupImages(s) {
				out[img.Name] = img.Source + " " + img.Properties["os_distro"]
			}
		}
		return out
	}
	cases := []struct {
		name, component string
		vars            map[string]any
		want            map[string]string
	}{
		{"octavia's default", "octavia", nil, map[string]string{"amphora-x64-haproxy": "https://tarballs.opendev.org/openstack/octavia/test-images/test-only-amphora-x64-haproxy-ubuntu-focal.qcow2"}},
		{"octavia_amphora_image_url", "octavia", map[string]any{"octavia_amphora_image_url": "http://127.0.0.1:1/a.raw"},
			map[string]string{"amphora-x64-haproxy": "http://127.0.0.1:1/a.raw"}},
		{"manila's default", "manila", nil, map[string]string{"manila-service-image": "https://github.com/vexxhost/manila-service-images/releases/download/2026.05-3/manila-service-image.qcow2"}},
		{"manila_image_url", "manila", map[string]any{"manila_image_url": "http://127.0.0.1:1/m.qcow2"},
			map[string]string{"manila-service-image": "http://127.0.0.1:1/m.qcow2"}},
		{"magnum's defaults", "magnum", nil, map[string]string{
			"ubuntu-2204-kube-v1.32.10": capoRelease + "ubuntu-22.04-v1.32.10.qcow2 ubuntu",
			"ubuntu-2204-kube-v1.33.7":  capoRelease + "ubuntu-22.04-v1.33.7.qcow2 ubuntu",
			"ubuntu-2204-kube-v1.34.3":  capoRelease + "ubuntu-22.04-v1.34.3.qcow2 ubuntu"}},
		{"magnum_images", "magnum", map[string]any{"magnum_images": []any{
			map[string]any{"name": "k8s", "url": "http://127.0.0.1:1/k.raw", "distro": "ubuntu"}}},
			map[string]string{"k8s": "http://127.0.0.1:1/k.raw ubuntu"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultSettings()
			s.Vars = tc.vars
			if got := sources(s, tc.component); !maps.Equal(got, tc.want) {
				t.Errorf("images %v, want %v", got, tc.want)
			}
		})
	}
	problems := Default().CheckKnobs(DefaultConfig(), merged(workspaceKeepalived, map[string]any{"cluster_issuer_type": "self-signed",
		"magnum_images": []any{map[string]any{"name": "k8s", "distro": "ubuntu"}}}))
	if len(problems) != 1 || problems[0].Key != "magnum_images" || !strings.Contains(problems[0].Message, "[0].url: required") {
		t.Errorf("problems %v, want magnum_images [0].url required", problems)
	}
}
