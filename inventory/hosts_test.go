package inventory

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestExpandHosts(t *testing.T) {
	tests := []struct {
		pattern string
		want    []string
		err     string
	}{
		{"ctl1", []string{"ctl1"}, ""},
		{"ctl[1:3]", []string{"ctl1", "ctl2", "ctl3"}, ""},
		{"ctl[01:03]", []string{"ctl01", "ctl02", "ctl03"}, ""},
		{"ctl[8:10]", []string{"ctl8", "ctl9", "ctl10"}, ""},
		{"n[0:6:3].example", []string{"n0.example", "n3.example", "n6.example"}, ""},
		{"db-[a:c]", []string{"db-a", "db-b", "db-c"}, ""},
		{"r[1:2]n[1:2]", []string{"r1n1", "r1n2", "r2n1", "r2n2"}, ""},
		{"ctl[3:1]", nil, "start is after its end"},
		{"ctl[1:3", nil, "a range is [start:end]"},
		{"ctl[1:c]", nil, "numbers or of single letters"},
		{"ctl[1:3:0]", nil, "step must be 1 or more"},
		{"ctl[1:999999999]", nil, "more than 100000 hosts in one range"},
		{"ctl[1:99999999999999999999]", nil, "too large"},
		{"r[1:1000]n[1:1000]", nil, "more than 100000 hosts in one pattern"},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			got, err := expandHosts(tt.pattern)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// parsed is what a test checks of a hosts file.
type parsed struct {
	hosts    []string
	groups   map[string][]string
	hostVars map[string]map[string]any
	sources  map[string]string // "host.key" → source
}

func summary(h *hostsFile) parsed {
	p := parsed{hosts: h.hosts, groups: map[string][]string{}, hostVars: map[string]map[string]any{}, sources: map[string]string{}}
	for name := range h.groups {
		if hosts := h.groupHosts(name); len(hosts) > 0 {
			p.groups[name] = hosts
		}
	}
	for host, l := range h.hostVars {
		if len(l.vars) > 0 {
			p.hostVars[host] = l.vars
		}
		for k, s := range l.sources {
			p.sources[host+"."+k] = s
		}
	}
	for name, g := range h.groups {
		if len(g.vars.vars) > 0 {
			p.hostVars["group "+name] = g.vars.vars
		}
		for k, s := range g.vars.sources {
			p.sources["group "+name+"."+k] = s
		}
	}
	return p
}

// TestParseHostsFiles: the same inventory written as Ansible's ini and yaml
// plugins read it gives the same groups, hosts and variables.
func TestParseHostsFiles(t *testing.T) {
	const ini = `# comment
bastion ansible_host=192.0.2.1

[controllers]
ctl[1:2] ansible_user=ubuntu
ctl3:2222 rack="row 3" weight=1.5 tags="['a', 'b']" primary=True

[cephs]
nvme[01:02]

[storage:children]
cephs
; another comment
[storage:vars]
ceph_public_network=10.0.0.0/24
osd_count=3

[all:vars]
ntp_server=pool.ntp.org
`
	const yml = `all:
  hosts:
    bastion:
      ansible_host: 192.0.2.1
  vars:
    ntp_server: pool.ntp.org
  children:
    controllers:
      hosts:
        ctl[1:2]:
          ansible_user: ubuntu
        ctl3:
          ansible_port: 2222
          rack: row 3
          weight: 1.5
          tags: [a, b]
          primary: true
    storage:
      children:
        cephs:
          hosts:
            nvme[01:02]:
      vars:
        ceph_public_network: 10.0.0.0/24
        osd_count: 3
`
	wantGroups := map[string][]string{
		"all":         {"bastion", "ctl1", "ctl2", "ctl3", "nvme01", "nvme02"},
		"ungrouped":   {"bastion"},
		"controllers": {"ctl1", "ctl2", "ctl3"},
		"cephs":       {"nvme01", "nvme02"},
		"storage":     {"nvme01", "nvme02"},
	}
	wantVars := map[string]map[string]any{
		"bastion":       {"ansible_host": "192.0.2.1"},
		"ctl1":          {"ansible_user": "ubuntu"},
		"ctl2":          {"ansible_user": "ubuntu"},
		"ctl3":          {"ansible_port": float64(2222), "rack": "row 3", "weight": 1.5, "tags": []any{"a", "b"}, "primary": true},
		"group all":     {"ntp_server": "pool.ntp.org"},
		"group storage": {"ceph_public_network": "10.0.0.0/24", "osd_count": float64(3)},
	}
	tests := []struct {
		name    string
		parse   func() (*hostsFile, Problems)
		sources map[string]string
	}{
		{"ini", func() (*hostsFile, Problems) { return parseINI("hosts.ini", []byte(ini)) },
			map[string]string{"ctl3.rack": "hosts.ini:6", "ctl1.ansible_user": "hosts.ini:5", "group storage.osd_count": "hosts.ini:16", "group all.ntp_server": "hosts.ini:19"}},
		{"yaml", func() (*hostsFile, Problems) {
			return parseYAML("hosts.yml", []byte(yml), (&reader{opts: Options{Env: noEnv}}).nodeVars)
		}, map[string]string{"ctl3.rack": "hosts.yml:14", "ctl1.ansible_user": "hosts.yml:11", "group storage.osd_count": "hosts.yml:25", "group all.ntp_server": "hosts.yml:6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, ps := tt.parse()
			if len(ps) > 0 {
				t.Fatal(ps)
			}
			got := summary(h)
			if !slices.Equal(got.hosts, wantGroups["all"]) {
				t.Errorf("hosts %v, want %v", got.hosts, wantGroups["all"])
			}
			if !reflect.DeepEqual(got.groups, wantGroups) {
				t.Errorf("groups %v\nwant %v", got.groups, wantGroups)
			}
			if !reflect.DeepEqual(got.hostVars, wantVars) {
				t.Errorf("variables %v\nwant %v", got.hostVars, wantVars)
			}
			for k, want := range tt.sources {
				if got.sources[k] != want {
					t.Errorf("source of %s: %q, want %q", k, got.sources[k], want)
				}
			}
		})
	}
}

// TestBadHostsFiles: a hosts file Ansible would refuse is a problem naming
// its line.
func TestBadHostsFiles(t *testing.T) {
	tests := []struct {
		name, file, content, want string
	}{
		{"unknown section kind", "hosts.ini", "[controllers]\nctl1\n[controllers:hosts]\nctl2\n", "hosts.ini:3: [controllers:hosts]: unknown section kind \"hosts\""},
		{"section not closed", "hosts.ini", "[controllers\nctl1\n", "hosts.ini:1: \"[controllers\": a section is"},
		{"vars without =", "hosts.ini", "[all:vars]\nntp_server\n", "hosts.ini:2: [all:vars]: \"ntp_server\": want key=value"},
		{"host var without =", "hosts.ini", "[c]\nctl1 ansible_host\n", "hosts.ini:2: host ctl1: \"ansible_host\": want key=value"},
		{"bad range", "hosts.ini", "[c]\nctl[3:1]\n", "hosts.ini:2: host \"ctl[3:1]\": the range's start is after its end"},
		{"quote not closed", "hosts.ini", "[c]\nctl1 a=\"b\n", "hosts.ini:2:"},
		{"child of itself", "hosts.ini", "[c:children]\nc\n", "hosts.ini:2: [c:children]: c cannot be a child of c"},
		{"cycle", "hosts.ini", "[a:children]\nb\n[b:children]\na\n", "hosts.ini: groups are children of one another: a → b → a"},
		{"yaml not a mapping", "hosts.yml", "- a\n", "hosts.yml:1: want a mapping of groups"},
		{"yaml unknown key", "hosts.yml", "all:\n  children:\n    c:\n      host:\n        ctl1:\n", "hosts.yml:4: all.children.c.host: a group holds hosts, children and vars only"},
		{"yaml hosts a list", "hosts.yml", "all:\n  hosts: [ctl1]\n", "hosts.yml:2: all.hosts: want a mapping of hosts"},
		{"yaml host vars a list", "hosts.yml", "all:\n  hosts:\n    ctl1: [a]\n", "hosts.yml:3: want a mapping of variables"},
		{"yaml invalid", "hosts.yml", "all: [\n", "hosts.yml: not valid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := write(t, map[string]string{tt.file: tt.content, "group_vars/all.yml": "x_y: 1\n"})
			_, err := Load(dir, noEnv)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err %v, want Problems", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("problems:\n%v\nwant one saying %q", err, tt.want)
			}
		})
	}
}

func TestINIValues(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"plain", "plain"},
		{"42", float64(42)},
		{"-1", float64(-1)},
		{"1.5", 1.5},
		{"True", true},
		{"False", false},
		{"true", "true"}, // literal_eval knows True alone
		{"None", nil},
		{`"quoted"`, "quoted"},
		{"'single'", "single"},
		{"[1, 'a']", []any{float64(1), "a"}},
		{"{'k': True}", map[string]any{"k": true}},
		{"10.0.0.1", "10.0.0.1"},
		{"0x10", float64(16)},
		{"010", "010"},
		{"[broken", "[broken"},
	}
	for _, tt := range tests {
		if got := iniValue(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("iniValue(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

// TestHostsFileForm: the form of a hosts file is told as Ansible's plugins
// tell it.
func TestHostsFileForm(t *testing.T) {
	tests := []struct {
		name, content string
		yaml          bool
	}{
		{"hosts.yml", "all:\n  hosts:\n    ctl1:\n", true},
		{"hosts.json", `{"all": {"hosts": {"ctl1": null}}}`, true},
		{"hosts.ini", "all:\n  hosts:\n", false},
		{"hosts", "all:\n  hosts:\n    ctl1:\n", true},
		{"hosts", "[controllers]\nctl1\n", false},
		{"hosts", "ctl1\nctl2\n", false},
	}
	for _, tt := range tests {
		if got := isYAMLHosts(tt.name, []byte(tt.content)); got != tt.yaml {
			t.Errorf("%s %q: YAML %v, want %v", tt.name, tt.content, got, tt.yaml)
		}
	}
}

// FuzzHostsFile: any hosts file is read or refused with Problems that say
// something, never a panic.
func FuzzHostsFile(f *testing.F) {
	f.Add("[controllers]\nctl[1:3] a=1\n[c:children]\ncontrollers\n[c:vars]\nx=True\n", false)
	f.Add("all:\n  children:\n    c:\n      hosts:\n        ctl[01:02]:\n          a: 1\n      vars: {b: 2}\n", true)
	f.Add("[a:children]\nb\n[b:children]\na\n", false)
	f.Add("ctl[9:1]\n", false)
	f.Fuzz(func(t *testing.T, content string, isYAML bool) {
		var ps Problems
		if isYAML {
			_, ps = parseYAML("hosts.yml", []byte(content), (&reader{opts: Options{Env: noEnv}}).nodeVars)
		} else {
			_, ps = parseINI("hosts.ini", []byte(content))
		}
		for _, p := range ps {
			if p.Message == "" || p.File == "" {
				t.Fatalf("a problem without a file or message: %+v", p)
			}
		}
	})
}
