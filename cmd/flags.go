package cmd

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"

	"github.com/vexxhost/atmosphere-go/action"
)

// DefaultStateNamespace holds atmosphere's own state: the deploy lease, the
// generated secrets and the measured durations.
const DefaultStateNamespace = action.DefaultStateNamespace

// DefaultConcurrency is the cap on units in flight unless told otherwise.
const DefaultConcurrency = action.DefaultConcurrency

// kubeFlags are the standard flags that locate a cluster.
type kubeFlags struct {
	kubeconfig, context string
}

func (k *kubeFlags) add(fs *pflag.FlagSet) {
	fs.StringVar(&k.kubeconfig, "kubeconfig", "", "kubeconfig file ($KUBECONFIG, then ~/.kube/config, when empty)")
	fs.StringVar(&k.context, "context", "", "kubeconfig context (its current one when empty)")
}

// reach is action.Reach of the flags.
func (k *kubeFlags) reach(ctx context.Context) (*rest.Config, error) {
	return action.Reach(ctx, k.kubeconfig, k.context)
}

// configFlags are the flags of the action.Configuration, each declared
// here once. A verb adds those it uses.
type configFlags struct {
	kube      kubeFlags
	inventory string
	vaultPass string
	state     string
	charts    []string
	osCloud   string
	ansible   ansibleFlags
}

// ansibleFlags say how the Ansible units run.
type ansibleFlags struct {
	playbook      string
	collections   []string
	hostsProvided bool
}

func (f *configFlags) addAnsible(fs *pflag.FlagSet) {
	fs.StringVar(&f.ansible.playbook, "ansible-playbook", "", "the ansible-playbook (ansible-core 2.15 or later) that runs the Ansible units; ansible-inventory and ansible-galaxy are taken from beside it (the one on PATH when empty)")
	fs.StringArrayVar(&f.ansible.collections, "collections-path", nil, "a directory holding ansible_collections/ with vexxhost.atmosphere and the collections its playbooks import, looked in in place of ansible's configured paths (repeatable, or DIR:DIR)")
	fs.BoolVar(&f.ansible.hostsProvided, "hosts-provided", false, "the hosts, the Kubernetes cluster and Ceph exist: report the Ansible units provided and run no ansible (as the inventory's atmosphere_hosts_provided: true)")
}

// collectionsPaths are --collections-path's directories, each split as
// ANSIBLE_COLLECTIONS_PATH is.
func (f *ansibleFlags) collectionsPaths() []string {
	var out []string
	for _, p := range f.collections {
		out = append(out, filepath.SplitList(p)...)
	}
	return out
}

func (f *configFlags) addKube(fs *pflag.FlagSet) { f.kube.add(fs) }

func (f *configFlags) addInventory(fs *pflag.FlagSet) {
	fs.StringVar(&f.inventory, "inventory", "", "atmosphere inventory directory (the hosts file, group_vars/, host_vars/); atmosphere's defaults when empty")
	fs.StringVar(&f.vaultPass, "vault-password-file", "", "file holding the ansible-vault password of the inventory's encrypted files and !vault values ($ANSIBLE_VAULT_PASSWORD_FILE when empty)")
}

func (f *configFlags) addState(fs *pflag.FlagSet) {
	fs.StringVar(&f.state, "state-namespace", DefaultStateNamespace, "namespace of atmosphere's lease, secrets and measured durations")
}

func (f *configFlags) addCharts(fs *pflag.FlagSet) {
	fs.StringArrayVar(&f.charts, "charts", nil, "a directory of unpacked charts (<name>/Chart.yaml) to take pinned charts from before downloading (repeatable)")
}

func (f *configFlags) addOSCloud(fs *pflag.FlagSet) {
	fs.StringVar(&f.osCloud, "os-cloud", "", "clouds.yaml cloud for the OpenStack set-up ($OS_CLOUD; when both are empty, the admin of the keystone atmosphere deploys)")
}

// config makes the verb's Configuration.
func (a *app) config(f *configFlags) *action.Configuration {
	return action.New(action.Options{
		Kubeconfig: f.kube.kubeconfig, Context: f.kube.context, Inventory: f.inventory, VaultPasswordFile: f.vaultPass,
		StateNamespace: f.state, Charts: f.charts, OSCloud: f.osCloud,
		Registry: a.registry, Log: a.log, Warnings: a.streams.Err,
		AnsiblePlaybook: f.ansible.playbook, CollectionsPaths: f.ansible.collectionsPaths(), HostsProvided: f.ansible.hostsProvided,
	})
}

// scheduleFlags are the scheduler's caps, shared by deploy, upgrade, plan
// and simulate.
type scheduleFlags struct {
	concurrency int
	resources   resourceFlag
}

// add declares --concurrency, whose default is the verb's (DefaultConcurrency
// for a deploy and its plan, none for a replay of measured durations), and
// --resource.
func (s *scheduleFlags) add(fs *pflag.FlagSet, concurrency int) {
	s.resources = resourceFlag{}
	fs.IntVar(&s.concurrency, "concurrency", concurrency, "cap on units in flight (0: no cap)")
	fs.Var(s.resources, "resource", "cap a resource, name=N (repeatable; overrides the registry's caps)")
}

// tagsFlag adds --tags.
func tagsFlag(fs *pflag.FlagSet, tags *[]string) {
	fs.StringSliceVar(tags, "tags", nil, "only these components (comma-separated), with what they need")
}

// skipTagsFlag binds --skip-tags, the units a deploy (and its plan) leaves
// out.
func skipTagsFlag(fs *pflag.FlagSet, skip *[]string) {
	fs.StringSliceVar(skip, "skip-tags", nil, "leave out these components or units (component or component:phase, comma-separated); what needs them still runs")
}

// resourceFlag is a repeated name=N flag.
type resourceFlag map[string]int

func (r resourceFlag) String() string { return action.CapsText(r) }

func (r resourceFlag) Set(v string) error {
	name, n, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q: want name=N", v)
	}
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 {
		return fmt.Errorf("%q: the cap must be a whole number of 1 or more", v)
	}
	r[name] = count
	return nil
}

func (r resourceFlag) Type() string { return "name=N" }
