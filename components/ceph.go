package components

import (
	"embed"
	"encoding/json"
	"fmt"
	"slices"

	"sigs.k8s.io/yaml"
)

// ceph declares ceph: the cluster, by atmosphere's collection playbook,
// then the facts its charts need.
func ceph() *Component {
	c := ansible("ceph", 362, nil, hostLock)
	c.Ansible = &AnsibleWork{Playbook: "vexxhost.atmosphere.ceph"}
	return withCephFacts(c)
}

// ceph's facts phase (ceph:facts, after the cluster's own) reads what the
// Ceph charts' values need from the live Ceph cluster, as atmosphere's
// ceph_csi_rbd and ceph_provisioners roles do before their charts on the
// first host of the monitors' group: the fsid and monitors (`ceph mon
// dump`), the `kube` pool and its client.kube key (made when missing), and
// the client.admin key; and, as the rook_ceph_cluster role does, the
// quorum's leader and the monitors' key. Its play (ceph.facts.yaml) runs through
// Ansible and hands them back as ceph's facts, which csi,
// ceph-provisioners and rook-ceph-cluster (all need ceph) read
// (Render.ceph, cephProvisionersObjects, rookCephClusterObjects). What the inventory gives wins: when it gives
// every fact, the play is not run.

// cephFactsName is the component whose facts the Ceph charts read.
const cephFactsName = "ceph"

// The knobs ceph's facts phase reads (roles/ceph_csi_rbd/defaults/main.yml,
// roles/ceph_provisioners/defaults/main.yml,
// roles/rook_ceph_cluster/defaults/main.yml): the groups of the monitors
// the roles delegate to.
var (
	cephFactsKnobs           = knobsOf(cephFactsName)
	cephFactsCSIMonsGroup    = cephFactsKnobs.str("ceph_csi_rbd_mons_group", "controllers")
	cephFactsProvisionersMon = cephFactsKnobs.str("ceph_provisioners_ceph_mon_group", "controllers")
	cephFactsRookMon         = cephFactsKnobs.str("rook_ceph_cluster_mon_group", "controllers")
)

// The facts the play yields, each with the inventory variable that gives
// it instead (the roles' own variables: ceph_csi_rbd's facts skip the
// reading when set; ceph_provisioners registers the client.admin key as
// _ceph_provisioners_keyring).
var cephFactsYields = []YieldedFact{
	{Key: "fsid", Var: "ceph_csi_rbd_ceph_fsid"},
	{Key: "monitors", Var: "ceph_csi_rbd_monitors"},
	{Key: "keyring", Var: "ceph_csi_rbd_keyring"},
	{Key: "admin_key", Var: "_ceph_provisioners_keyring.key"},
	// rook_ceph_cluster's: the monitors' key and the quorum leader's
	// "name=address", read whenever the play runs (rookCephClusterObjects
	// falls back on the inventory's monitors without them).
	{Key: "mon_key", Optional: true},
	{Key: "mon_endpoints", Optional: true},
}

//go:embed ceph.facts.yaml
var cephFactsData embed.FS

// withCephFacts adds ceph's facts phase, after the cluster's, with 6 s of
// its estimate.
func withCephFacts(c *Component) *Component {
	c.Facts = &AnsibleWork{Hosts: "localhost", Tasks: cephFactsTasks(), Yields: cephFactsYields, From: cephFactsFrom}
	return split(c, Phase{Name: "facts", Kind: AnsibleFacts, Estimate: s(6)})
}

// cephFactsTasks are the play's tasks, parsed from the embedded data; a
// broken file is a bug the registry's tests catch at once.
func cephFactsTasks() []map[string]any {
	raw, err := cephFactsData.ReadFile("ceph.facts.yaml")
	if err != nil {
		panic(fmt.Sprintf("ceph facts play: %v", err))
	}
	var tasks []map[string]any
	if err := yaml.Unmarshal(raw, &tasks); err != nil {
		panic(fmt.Sprintf("ceph facts play: %v", err))
	}
	return tasks
}

// cephFactsFrom are the monitors the play reads from: the first host of
// each role's monitors' group.
func cephFactsFrom(s Settings) []string {
	r := &Render{Settings: s}
	var out []string
	for _, k := range []knob[string]{cephFactsCSIMonsGroup, cephFactsProvisionersMon, cephFactsRookMon} {
		if g := k.get(r) + "[0]"; !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// cephFact is a fact ceph's facts phase read, "" when it has not.
func (r *Render) cephFact(key string) string {
	if r.Facts == nil {
		return ""
	}
	return r.Facts(cephFactsName)[key]
}

// cephFactList is a list fact ceph's facts phase read (its JSON text), nil when it
// has not.
func (r *Render) cephFactList(key string) []any {
	raw := r.cephFact(key)
	if raw == "" {
		return nil
	}
	var out []any
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		r.fail(fmt.Errorf("%s fact %s: %w", cephFactsName, key, err))
	}
	return out
}
