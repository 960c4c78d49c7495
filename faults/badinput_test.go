package faults

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// badInput is a broken inventory (files laid over a copy of the kwok one)
// or broken chart directory, and what the refusal must name.
type badInput struct {
	name string
	// files are written into the inventory copy (paths relative to it);
	// an empty content removes the file.
	files map[string]string
	// chart, when set, changes a copy of memcached's chart in a --charts
	// directory put first.
	chart func(t *testing.T, dir string)
	// args replace the default deploy flags' extras.
	args []string
	want []string
}

const vars = "group_vars/all/zz-bad.yml"

func badInputs() []badInput {
	huge := "glance_images:\n" + strings.Repeat("  - {name: cirros, url: http://example.invalid/x.img}\n", 100_000)
	return []badInput{
		// Malformed files.
		{name: "malformed YAML", files: map[string]string{vars: "a: [1, 2\n"}, want: []string{vars + ": not valid YAML"}},
		{name: "tab indentation", files: map[string]string{vars: "nova_helm_values:\n\tconf: {}\n"}, want: []string{vars + ": not valid YAML"}},
		{name: "a list at the top", files: map[string]string{vars: "- a\n- b\n"}, want: []string{vars + ": not valid YAML"}},
		{name: "a scalar at the top", files: map[string]string{vars: "just a string\n"}, want: []string{vars + ": not valid YAML"}},
		{name: "huge file", files: map[string]string{vars: huge}, want: []string{vars, "more than the 4194304"}},
		{name: "no variables at all", files: map[string]string{"group_vars/all/kwok.yml": "", "group_vars/all/molecule.yml": "", "group_vars/all/keepalived.yml": "", "group_vars/all/zz-given-secrets.yml": "", "group_vars/all/zz-test-database.yml": "", "group_vars/all/zz-test-database-passwords.yml": "", "group_vars/all/zz-test-rabbitmq.yml": "", "group_vars/all/" + setupVarsFile: ""}, want: []string{"group_vars: no variables"}},
		{name: "Jinja atmosphere does not evaluate", files: map[string]string{vars: "keystone_helm_values:\n  conf:\n    x: \"{{ foo }}\"\n"}, want: []string{"keystone_helm_values.conf.x"}},
		{name: "Jinja in a list", files: map[string]string{vars: "glance_images:\n  - name: a\n    url: \"{% if x %}y{% endif %}\"\n"}, want: []string{"glance_images[0].url"}},

		// Wrong types and values.
		{name: "unknown network backend", files: map[string]string{vars: "atmosphere_network_backend: linuxbridge\n"}, want: []string{`atmosphere_network_backend: "linuxbridge"`}},
		{name: "backend a list", files: map[string]string{vars: "atmosphere_network_backend: [ovn]\n"}, want: []string{"atmosphere_network_backend: want a string, got a list"}},
		{name: "boolean of the wrong type", files: map[string]string{vars: "keepalived_enabled: maybe\n"}, want: []string{`keepalived_enabled: want true or false, got the string "maybe"`}},
		{name: "helm values a list", files: map[string]string{vars: "nova_helm_values: [1]\n"}, want: []string{"nova_helm_values: want a mapping of Helm values, got a list"}},
		{name: "helm values a string", files: map[string]string{vars: "keystone_helm_values: replicas=3\n"}, want: []string{"keystone_helm_values: want a mapping of Helm values, got the string"}},
		{name: "images not a list", files: map[string]string{vars: "glance_images: cirros\n"}, want: []string{`glance_images: want a list, got the string "cirros"`}},
		{name: "image not a mapping", files: map[string]string{vars: "glance_images: [cirros]\n"}, want: []string{"glance_images[0]: want a mapping"}},
		{name: "image without a url", files: map[string]string{vars: "glance_images:\n  - name: cirros\n"}, want: []string{"glance_images[0].url: required"}},
		{name: "flavor vcpus a string", files: map[string]string{vars: "nova_flavors:\n  - {name: m1.small, vcpus: two, ram: 2048}\n"}, want: []string{"nova_flavors[0].vcpus"}},
		{name: "flavor ram negative", files: map[string]string{vars: "nova_flavors:\n  - {name: m1.small, vcpus: 1, ram: -5}\n"}, want: []string{"nova_flavors[0].ram: want a whole number of 0 or more, got the number -5"}},
		{name: "flavor ram fractional", files: map[string]string{vars: "nova_flavors:\n  - {name: m1.small, vcpus: 1, ram: 1.5}\n"}, want: []string{"nova_flavors[0].ram: want a whole number"}},
		{name: "flavor field misspelt", files: map[string]string{vars: "nova_flavors:\n  - {name: m1.small, vcpu: 1, ram: 2}\n"}, want: []string{"nova_flavors[0]", "vcpu"}},
		{name: "flavor without a name", files: map[string]string{vars: "nova_flavors:\n  - {vcpus: 1, ram: 2}\n"}, want: []string{"nova_flavors[0].name: required"}},
		{name: "subnet without a cidr", files: map[string]string{vars: "neutron_networks:\n  - name: public\n    subnets:\n      - name: s\n"}, want: []string{"neutron_networks[0].subnets[0].cidr: required"}},
		{name: "subnets not a list", files: map[string]string{vars: "neutron_networks:\n  - name: public\n    subnets: s\n"}, want: []string{"neutron_networks[0].subnets: want a list"}},
		{name: "pool start without end", files: map[string]string{vars: "neutron_networks:\n  - name: p\n    subnets:\n      - {name: s, cidr: 10.0.0.0/24, allocation_pool_start: 10.0.0.5}\n"},
			want: []string{"allocation_pool_start and allocation_pool_end go together"}},
		{name: "dns servers not a list", files: map[string]string{vars: "neutron_networks:\n  - name: p\n    subnets:\n      - {name: s, cidr: 10.0.0.0/24, dns_nameservers: 1.1.1.1}\n"},
			want: []string{"dns_nameservers: want a list of strings"}},
		{name: "segmentation id a string", files: map[string]string{vars: "neutron_networks:\n  - {name: p, provider_segmentation_id: vlan10}\n"}, want: []string{"provider_segmentation_id: want a whole number"}},
		{name: "external not a boolean", files: map[string]string{vars: "neutron_networks:\n  - {name: p, external: 3}\n"}, want: []string{"external: want true or false, got the number 3"}},

		{name: "password of the wrong type", files: map[string]string{vars: "openstack_helm_endpoints_cinder_keystone_password: 918273645546372819\n"},
			want: []string{"openstack_helm_endpoints_cinder_keystone_password: want a string, got a number (a secret: its value is not shown)"}},

		// After the test bed's own zz-test-database.yml, which names one.
		{name: "database name MySQL refuses", files: map[string]string{"group_vars/all/zzz-bad.yml": "keycloak_database_name: key-cloak\n"},
			want: []string{`keycloak: database of keycloak: database name "key-cloak"`}},

		// Unknown components.
		{name: "misspelt component", files: map[string]string{vars: "novaa_helm_values:\n  conf: {}\n"}, want: []string{"novaa_helm_values: no component is called novaa (did you mean nova_helm_values?)"}},
		{name: "component that does not exist", files: map[string]string{vars: "frobnicator_helm_values: {}\n"}, want: []string{"frobnicator_helm_values: no component is called frobnicator"}},
		{name: "unknown component on the command line", args: []string{"--tags", "keystone,glanse"}, want: []string{`"glanse" (did you mean "glance"?)`}},
		{name: "unknown unit skipped", args: []string{"--skip-tags", "glance:bogus"}, want: []string{`glance has no phase "bogus"`}},

		// Missing required keys.
		{name: "no public domain for the catalog", files: map[string]string{"group_vars/all/kwok.yml": "openstack_helm_endpoints_region_name: RegionKwok\n"},
			want: []string{"openstack_helm_endpoints_keystone_api_host"}},

		// Every problem at once.
		{name: "every problem, across files", files: map[string]string{
			"group_vars/all/za.yml": "atmosphere_network_backend: linuxbridge\nnova_flavors: 3\n",
			"group_vars/all/zb.yml": "keepalived_enabled: 7\nglance_images:\n  - {name: a}\nnovaa_helm_values: {}\n",
		}, want: []string{"5 problem(s)", "za.yml: atmosphere_network_backend", "za.yml: nova_flavors: want a list", "zb.yml: keepalived_enabled", "zb.yml: glance_images[0].url: required", "zb.yml: novaa_helm_values"}},

		// Charts.
		{name: "chart off its digest", chart: func(t *testing.T, dir string) {
			appendTo(t, filepath.Join(dir, "values.yaml"), "\ntampered: true\n")
		}, want: []string{"memcached", "digest"}},
		{name: "chart that does not load", chart: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "Chart.yaml"), "apiVersion: v2\nname: memcached\nversion: [0.1.12\n")
		}, want: []string{"memcached", "Chart.yaml"}},
		{name: "chart with a broken template", chart: func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "templates", "zz-broken.yaml"), "{{ if }}\n")
		}, want: []string{"memcached"}},
	}
}

// TestBadInputsLeaveTheClusterUntouched: each broken inventory or chart is
// refused with exit 2 naming every problem, and the cluster is exactly as
// it was: no new revision, no object, not even the lease.
func TestBadInputsLeaveTheClusterUntouched(t *testing.T) {
	b := newBed(t)
	b.giveSecrets("nova", "glance") // the cases leave cinder's password to break
	b.known["password of the wrong type"] = "918273645546372819"
	// Something deployed, so that "no new revision" means something.
	b.deployCompletes("deploy of memcached", "--tags", "memcached")
	// Settled: the controllers still write (the Endpoints of the new
	// Services) for a moment after the deploy.
	before := b.settledSnapshot(time.Minute)
	tried := 0
	for _, tc := range badInputs() {
		t.Run(tc.name, func(t *testing.T) {
			inv := testenv.CopyDir(t, b.inventory)
			for name, content := range tc.files {
				path := filepath.Join(inv, name)
				if content == "" {
					if err := os.Remove(path); err != nil {
						t.Fatal(err)
					}
					continue
				}
				writeFile(t, path, content)
			}
			args := []string{"deploy", "--inventory", inv, "--kubeconfig", b.kubeconfig, "--report-dir", b.reports, "--output", "json"}
			if tc.chart != nil {
				dir := t.TempDir()
				testenv.CopyTree(t, filepath.Join(sharedCharts, "memcached"), filepath.Join(dir, "memcached"))
				tc.chart(t, filepath.Join(dir, "memcached"))
				args = append(args, "--charts", dir)
			}
			args = append(args, "--charts", sharedCharts, "--charts", testCharts, "--skip-tags", skipSetup)
			args = append(args, tc.args...)
			p, code := b.run("bad input "+tc.name, args...)
			stderr := p.stderr.String()
			if code != 2 {
				t.Errorf("exit %d, want 2\nstderr:\n%s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
			if p.stdout.String() != "" {
				t.Errorf("a refused run printed events:\n%s", p.stdout.String())
			}
			if diff := changes(before, b.snapshot()); len(diff) > 0 {
				t.Errorf("the refused run changed the cluster:\n  %s", strings.Join(diff, "\n  "))
				before = b.snapshot()
			}
			tried++
		})
	}
	if len(badInputs()) < 30 {
		t.Errorf("%d bad inputs, want at least 30", len(badInputs()))
	}
	b.noPendingRelease("after the bad inputs")
	res := b.scanSecrets()
	summary(t, "bad inputs tried: %d, each refused with exit 2 and the cluster untouched unless reported above; secrets scanned: %d in %d outputs, leaks: %d",
		tried, res.secrets, res.texts, res.leaks)
}

// snapshot is the resourceVersion of every object of the cluster that a
// deploy could write, by "resource namespace/name": all listable
// resources but those the cluster's own controllers keep writing (events,
// nodes and their leases, the controllers' leader leases).
func (b *bed) snapshot() map[string]string {
	b.t.Helper()
	disc := discovery.NewDiscoveryClientForConfigOrDie(b.cfg)
	dyn := dynamic.NewForConfigOrDie(b.cfg)
	// A group discovery cannot list fails the snapshot: its objects would
	// not be compared.
	lists, err := disc.ServerPreferredResources()
	if err != nil {
		b.t.Fatalf("snapshot: discovery: %v", err)
	}
	noisy := []string{"events", "nodes", "componentstatuses"}
	out := map[string]string{}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			b.t.Fatalf("snapshot: discovery: group version %q: %v", l.GroupVersion, err)
		}
		for _, r := range l.APIResources {
			if !slices.Contains(r.Verbs, "list") || slices.Contains(noisy, r.Name) || strings.Contains(r.Name, "/") {
				continue
			}
			list, err := dyn.Resource(gv.WithResource(r.Name)).List(context.Background(), metav1.ListOptions{})
			if err != nil {
				b.t.Fatalf("snapshot: list %s: %v", r.Name, err)
			}
			for _, o := range list.Items {
				if r.Name == "leases" && o.GetNamespace() != stateNS {
					continue // node heartbeats and the controllers' leader election
				}
				out[fmt.Sprintf("%s %s/%s", r.Name, o.GetNamespace(), o.GetName())] = o.GetResourceVersion()
			}
		}
	}
	return out
}

// changes lists what differs between two snapshots.
func changes(before, after map[string]string) []string {
	var out []string
	for k, v := range after {
		switch old, ok := before[k]; {
		case !ok:
			out = append(out, "new: "+k)
		case old != v:
			out = append(out, "changed: "+k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			out = append(out, "gone: "+k)
		}
	}
	slices.Sort(out)
	return out
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendTo(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
}
