package kubephase

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/golden"
)

// The verdicts of the edge audit (#25).
const (
	// kept: the edge has an install-time reason.
	kept = "kept"
	// unknownKept: no install-time reason was established, and no chart
	// wait makes its removal safe: it stays.
	unknownKept = "unknown, kept"
	// added: the edge was missing; what needed it is said.
	added = "added"
	// narrowed: the edge names the phase the unit needs in place of the
	// whole component (its replaces), which is no longer declared.
	narrowed = "narrowed"
	// removed: a runtime need the chart enforces itself (its wait); no
	// longer declared.
	removed = "removed"
	// dropped: the unit never used what the edge named; no longer
	// declared.
	dropped = "dropped"
)

// storage stands, in the audit, for the needs withStorage declares: every
// component that may provide the StorageClass general (one per CSI
// driver; the one the inventory picks is enabled, the others' needs are
// dropped).
const storage = "<storage>"

// storageProviders are withStorage's components.
var storageProviders = []string{"csi", "local-path-provisioner", "hpe-csi-driver", "storpool-csi", "ibm-block-csi-driver", "portworx"}

// auditedEdge is one edge of the registry (a need a phase declares), or
// one the audit removed, with why.
type auditedEdge struct {
	// from is the unit ("nova:install"), to the need as declared
	// ("placement", "keystone:install", storage).
	from, to string
	verdict  string
	reason   string
	// replaces, for a narrowed edge, is the need it replaced.
	replaces string
	// wait, for a removed edge, is the chart's own wait that makes the
	// removal safe.
	wait *chartWait
}

// chartWait is an entry of the dependencies of from's chart, in its
// release's values: a service (kubernetes-entrypoint waits for its
// endpoints) or a pod's labels (it waits for such a pod to be ready).
type chartWait struct {
	dependencies string
	service      string
	pod          map[string]string
}

func (w chartWait) String() string {
	if w.service != "" {
		return fmt.Sprintf("`%s` service `%s`", w.dependencies, w.service)
	}
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(w.pod)) {
		labels = append(labels, k+": "+w.pod[k])
	}
	return fmt.Sprintf("`%s` pod {%s}", w.dependencies, strings.Join(labels, ", "))
}

// auditedByRule are the edges every component of a kind of phase has,
// with their reason (withDatabases, withCatalog, withRabbitMQ, and the
// OpenStack services' need of keystone's API): a rule, applied to each
// edge of the registry it matches.
var auditedByRule = []struct {
	phase, to, verdict, reason string
}{
	{"database", "percona-xtradb-cluster", kept,
		"the phase connects to the cloud's MySQL (the Percona XtraDB cluster's Service) and makes the service's databases and user"},
	{"catalog", "keystone:install", kept,
		"the phase makes the service's catalog entry and users through keystone's API"},
	{components.PhaseRabbitMQ, "rabbitmq-cluster-operator", kept,
		"the phase applies a RabbitmqCluster: its CRD (and the operator that makes it ready) come with the operator's release"},
	{components.PhaseRabbitMQ, storage, added,
		"the RabbitmqCluster's persistence names no class: its claim takes the default StorageClass, general, which a storage provider makes; " +
			"the phase waits for the cluster to be ready (before #25 it ran after the catalog phase, so keystone's chain gave it csi)"},
	{components.PhaseQueue, "percona-xtradb-cluster", added,
		"the phase reads its grants from the release's values, which read Secret percona-xtradb (the database's root password, oslo_db's admin), made by percona-xtradb-cluster " +
			"(TestUnitsNeedTheSecretsTheirValuesRead; before #25 the database phase, before it, gave it)"},
	{"install", "keystone:install", kept,
		"the chart's pods and Jobs authenticate with keystone (also implied: the component's catalog phase, before it, needs keystone:install)"},
}

// audit is every other edge of the registry, and the ones the audit
// removed, each with its reason.
var audit = []auditedEdge{
	// Hosts and the cluster.
	{from: "image-warmup:install", to: "kubernetes", verdict: kept, reason: "the play pulls images with the nodes' container runtime, which kubernetes installs"},
	{from: "openstack-cli:install", to: "keystone", verdict: unknownKept, reason: "the role writes /root/openrc from the identity endpoint and calls nothing; an Ansible role has no chart wait to lean on, and an operator's `openstack` expects keystone set up"},
	{from: "portworx:host", to: "multipathd", verdict: kept, reason: "multipathd is the portworx role's meta dependency (roles/portworx/meta/main.yml): the role runs it first on the hosts"},
	{from: "portworx:install", to: "kubernetes", verdict: kept, reason: "the objects are applied through the Kubernetes API"},

	// Storage.
	{from: "csi:install", to: "ceph", verdict: kept, reason: "the values read ceph's facts (fsid, monitors, key: ceph:facts)"},
	{from: "csi:install", to: "kubernetes", verdict: kept, reason: "the release is installed through the Kubernetes API"},
	{from: "local-path-provisioner:install", to: "kubernetes", verdict: kept, reason: "the release is installed through the Kubernetes API"},
	{from: "hpe-csi-driver:install", to: "kubernetes", verdict: kept, reason: "the release is installed through the Kubernetes API"},
	{from: "storpool-csi:install", to: "kubernetes", verdict: kept, reason: "the objects are applied through the Kubernetes API"},
	{from: "ibm-block-csi-operator:install", to: "kubernetes", verdict: kept, reason: "the objects are applied through the Kubernetes API"},
	{from: "ibm-block-csi-driver:install", to: "ibm-block-csi-operator", verdict: kept, reason: "its IBMBlockCSI object's CRD comes with the operator's objects"},
	{from: "ceph-provisioners:install", to: "ceph", verdict: kept, reason: "the values read ceph's facts (fsid, monitors, admin key: ceph:facts)"},
	{from: "ceph-provisioners:install", to: "kubernetes", verdict: kept, reason: "the release is installed through the Kubernetes API"},
	{from: "rook-ceph:install", to: "kubernetes", verdict: kept, reason: "the release is installed through the Kubernetes API"},
	{from: "rook-ceph-cluster:install", to: "rook-ceph", verdict: kept, reason: "its CephCluster and CephObjectStore objects' CRDs come with rook-ceph's release"},
	{from: "rook-ceph-cluster:install", to: "ceph", verdict: kept, reason: "the objects read ceph's facts (fsid, monitors and keys of the rook-ceph-mon Secret)"},
	{from: "rook-ceph-cluster:install", to: "keystone", verdict: unknownKept, reason: "the RADOS gateway validates tokens with keystone when it serves; rook's operator has no wait for keystone, and the gateway's keystone user is made by this component's own set-up"},

	// Certificates and ingress.
	{from: "cert-manager:install", to: "kubernetes", verdict: kept, reason: "the release is installed through the Kubernetes API (kubernetes makes the cluster)"},
	{from: "cert-manager-webhook-godaddy:install", to: "cert-manager", verdict: kept, reason: "its serving Issuers and Certificates (templates/pki.yaml) need cert-manager's CRDs, and cert-manager's webhook must answer for them"},
	{from: "cert-manager-webhook-infoblox-wapi:install", to: "cert-manager", verdict: kept, reason: "its serving Issuers and Certificates (templates/pki.yaml) need cert-manager's CRDs, and cert-manager's webhook must answer for them"},
	{from: "cluster-issuer:install", to: "cert-manager", verdict: kept, reason: "the ClusterIssuer's CRD comes with cert-manager, whose webhook must answer for it"},
	{from: "cluster-issuer:install", to: "cert-manager-webhook-godaddy", verdict: kept, reason: "the ACME solver of the issuer is that webhook's: every Certificate issued after the issuer calls it (the role deploys it first)"},
	{from: "cluster-issuer:install", to: "cert-manager-webhook-infoblox-wapi", verdict: kept, reason: "the ACME solver of the issuer is that webhook's: every Certificate issued after the issuer calls it (the role deploys it first)"},
	{from: "ingress-nginx:install", to: "kubernetes", verdict: kept, reason: "the release is installed through the Kubernetes API"},

	// Operators and shared services.
	{from: "rabbitmq-cluster-operator:install", to: "cert-manager", verdict: kept, reason: "the chart's Issuer and Certificate (its webhooks' serving certificate) need cert-manager's CRDs"},
	{from: "percona-xtradb-cluster-operator:install", to: "cert-manager", verdict: kept, reason: "the operator issues the cluster's TLS through cert-manager when cert-manager is there when the cluster is made; the order decides which it does"},
	{from: "percona-xtradb-cluster:install", to: "percona-xtradb-cluster-operator", verdict: kept, reason: "its PerconaXtraDBCluster's CRD comes with the operator's release"},
	{from: "percona-xtradb-cluster:install", to: storage, verdict: kept, reason: "the cluster's volumeSpec claims the default StorageClass (general), and the unit waits for the cluster to be ready"},
	{from: "valkey:install", to: storage, verdict: kept, reason: "the release's StatefulSet claims the default StorageClass (general), and the release waits for it to be ready"},
	{from: "valkey:install", to: "cluster-issuer", verdict: kept, reason: "its CA Certificate's issuerRef names ClusterIssuer self-signed"},
	{from: "keycloak:install", to: "ingress-nginx", verdict: kept, reason: "its Ingress names IngressClass atmosphere, and ingress-nginx's admission webhook must answer for it"},
	{from: "keycloak:install", to: "cluster-issuer", verdict: kept, reason: "its Ingress's cert-manager.io/cluster-issuer names ClusterIssuer atmosphere"},
	{from: "keepalived:install", to: "kubernetes", verdict: kept, reason: "the objects are applied through the Kubernetes API"},
	{from: "memcached:install", to: "kubernetes", verdict: kept, reason: "the release is installed through the Kubernetes API"},

	// Monitoring.
	{from: "node-feature-discovery:install", to: "kubernetes", verdict: kept, reason: "the release is installed through the Kubernetes API"},
	{from: "kube-prometheus-stack:sso", to: "keycloak", verdict: kept, reason: "the phase makes its realm's clients through keycloak's admin API"},
	{from: "kube-prometheus-stack:install", to: storage, verdict: kept, reason: "the release's volumes claim StorageClass general, and the release waits for them to be ready"},
	{from: "kube-prometheus-stack:install", to: "cluster-issuer", verdict: kept, reason: "its Ingresses name ClusterIssuer atmosphere"},
	{from: "loki:install", to: storage, verdict: kept, reason: "the release's StatefulSets claim the default StorageClass (general), and the release waits for them to be ready"},
	{from: "vector:install", to: "loki", verdict: unknownKept, reason: "vector ships the logs to loki's gateway; its chart has no wait to lean on"},
	{from: "goldpinger:install", to: "kubernetes", verdict: kept, reason: "the release is installed through the Kubernetes API"},
	{from: "ipmi-exporter:install", to: "kube-prometheus-stack", verdict: unknownKept, reason: "its objects (a ConfigMap and a DaemonSet) name nothing of kube-prometheus-stack's (the manifest unit makes the namespace); Prometheus scrapes the exporter with kube-prometheus-stack's own monitors; a manifest has no chart wait to lean on"},
	{from: "smartctl-exporter:install", to: "kube-prometheus-stack", verdict: kept, reason: "its ServiceMonitor's CRD comes with kube-prometheus-stack"},
	{from: "prometheus-pushgateway:install", to: "kube-prometheus-stack", verdict: kept, reason: "its ServiceMonitor's CRD comes with kube-prometheus-stack"},

	// Keystone.
	{from: "keystone:sso", to: "keycloak", verdict: kept, reason: "the phase makes the realms and keystone's client through keycloak's admin API, and reads each realm's discovery document that the install phase's ConfigMap carries"},
	{from: "keystone:install", to: "ingress-nginx", verdict: kept, reason: "its public Ingress names IngressClass atmosphere, and ingress-nginx's admission webhook must answer for it (the services after keystone inherit it for theirs)"},
	{from: "keystone:install", to: "cluster-issuer", verdict: kept, reason: "its public Ingress names ClusterIssuer atmosphere (the services after keystone inherit it for theirs)"},
	{from: "keystone:install", to: "percona-xtradb-cluster", verdict: kept, reason: "the db-sync Job, which the release waits for, needs the database (also implied by keystone:database)"},
	{from: "keystone:install", to: "memcached", verdict: kept, reason: "keystone's own pods wait for it (`dependencies.static.api` service `oslo_cache`), but this edge is the only one that orders memcached before the services after keystone, " +
		"whose charts do not all wait for it (nova, glance, cinder, placement, heat, barbican, magnum, manila name no oslo_cache): removing it would leave their caches to chance"},

	// The services.
	{from: "glance:install", to: "ceph-provisioners", verdict: kept, reason: "Job glance-storage-init, which the release waits for, mounts Secret pvc-ceph-client-key"},
	{from: "glance-images:setup", to: "glance", verdict: kept, reason: "the phase uploads glance_images through glance's API"},
	{from: "cinder:install", to: "ceph-provisioners", verdict: kept, reason: "Jobs cinder-storage-init and cinder-backup-storage-init, which the release waits for, mount Secret pvc-ceph-client-key"},
	{from: "staffeln:install", to: "cinder", verdict: unknownKept, reason: "staffeln backs up cinder's volumes through cinder's API; its chart waits for no volume service (`dependencies.static.conductor` names oslo_db, identity, oslo_messaging)"},
	{from: "openvswitch:host-check", to: "kubernetes", verdict: kept, reason: "the play checks containerd's LimitMEMLOCK, which kubernetes installs"},
	{from: "ovn:install", to: storage, verdict: kept, reason: "the ovsdb StatefulSets' volumes (ovn_ovsdb_nb, ovn_ovsdb_sb) claim StorageClass general (the issue's example: withStorage already gave it)"},
	{from: "ovn:install", to: "openvswitch", verdict: removed, reason: "ovn-controller's pods wait for the Open vSwitch pod of their node; openvswitch waits for nothing of ovn's (no cycle), and its 13 s are well within ovn's 5 min timeout",
		wait: &chartWait{dependencies: "dependencies.static.ovn_controller.pod", pod: map[string]string{"application": "openvswitch", "component": "server"}}},
	{from: "frr-k8s:install", to: "kubernetes", verdict: kept, reason: "the release is installed through the Kubernetes API"},
	{from: "libvirt:install", to: "cluster-issuer", verdict: kept, reason: "its CA Certificates' issuerRef names ClusterIssuer self-signed"},
	{from: "libvirt:install", to: "ceph-provisioners", verdict: kept, reason: "DaemonSet libvirt-libvirt-default mounts Secret pvc-ceph-client-key"},
	{from: "coredns:install", to: "kubernetes", verdict: kept, reason: "the release is installed through the Kubernetes API"},
	{from: "nova:install", to: "placement", verdict: unknownKept, reason: "nova-compute reports its resource provider to placement when it starts and nova-cell-setup waits for the computes to be up; nova's chart waits for no placement service (`dependencies.static` names none): no chart wait to lean on"},
	{from: "nova:install", to: "libvirt", verdict: kept, reason: "the noVNC proxy's Certificate names Issuer libvirt-vnc, which libvirt's objects make"},
	{from: "nova:install", to: "glance", verdict: removed, reason: "nova-compute's pods wait for glance's API; glance waits for nothing of nova's (no cycle), and nova's timeout (nova_helm_timeout) covers glance's install",
		wait: &chartWait{dependencies: "dependencies.static.compute.services", service: "image"}},
	{from: "neutron:install", to: "ovn", verdict: unknownKept, reason: "neutron-server's ML2/OVN driver connects to the ovsdb servers when it starts; `dependencies.static.server` names no ovn service: no chart wait to lean on"},
	{from: "neutron:install", to: "coredns", verdict: unknownKept, reason: "the DHCP agents' dnsmasq forwards to coredns's cluster IP (a knob's value, no object of coredns's); no chart wait to lean on"},
	{from: "neutron:setup", to: "nova", verdict: dropped, reason: "the phase makes neutron_networks through neutron's API alone (neutronSetup; TestSetupThroughTheScheduler checks every API a set-up calls against its needs)"},
	{from: "octavia:setup", to: "nova:install", replaces: "nova", verdict: narrowed, reason: "the phase calls nova's API (amphora flavor, keypair, quotas); nova's set-up (the inventory's flavors) is not read"},
	{from: "octavia:setup", to: "neutron:install", replaces: "neutron", verdict: narrowed, reason: "the phase calls neutron's API (management network, security groups, health-manager ports, quotas); neutron's set-up (the inventory's networks) is not read"},
	{from: "octavia:setup", to: "glance", verdict: kept, reason: "the phase uploads the amphora image through glance's API"},
	{from: "octavia:setup", to: "cinder", verdict: added, reason: "the phase lifts the admin project's volume quotas through cinder's API (unlimited); cinder was reached through no other need"},
	{from: "octavia:install", to: "valkey", verdict: kept, reason: "the pods mount Secret valkey-server-certs (the jobboard's certificates), which valkey's objects make"},
	{from: "magnum:setup", to: "glance", verdict: kept, reason: "the phase uploads magnum's cluster images through glance's API"},
	{from: "manila:setup", to: "nova:install", replaces: "nova", verdict: narrowed, reason: "the phase calls nova's API (share-server flavor, quotas); nova's set-up is not read"},
	{from: "manila:setup", to: "neutron:install", replaces: "neutron", verdict: narrowed, reason: "the phase calls neutron's API (security group, quotas); neutron's set-up is not read"},
	{from: "manila:setup", to: "cinder", verdict: kept, reason: "the phase lifts the service project's volume quotas through cinder's API"},
	{from: "manila:setup", to: "glance", verdict: added, reason: "the phase uploads the share servers' image through glance's API; glance was reached only through nova's old need of it"},
	{from: "horizon:install", to: "keystone", verdict: unknownKept, reason: "horizon's pods wait for keystone's API (`dependencies.static.dashboard` service `identity`), but WebSSO logins need keystone's federation (keystone:setup), which no chart waits for"},
	{from: "openstack-exporter:install", to: "cinder", verdict: unknownKept, reason: "the exporter scrapes cinder's API; manifests have no chart wait to lean on"},
	{from: "openstack-exporter:install", to: "neutron", verdict: unknownKept, reason: "the exporter scrapes neutron's API, and reads Secret keystone-keystone-admin (keystone:install) only through this need and cinder's"},
}

// declaredEdges returns every need each phase of the registry declares,
// as "unit -> need", withStorage's needs as one need of storage.
func declaredEdges() map[string]bool {
	out := map[string]bool{}
	for _, c := range components.Default().Components() {
		for _, p := range c.Phases {
			unit := components.UnitKey(c.Name, p.Name)
			var rest []string
			for _, n := range p.Needs {
				if !slices.Contains(storageProviders, n) {
					rest = append(rest, n)
				}
			}
			if len(p.Needs)-len(rest) == len(storageProviders) {
				rest = append(rest, storage)
			} else {
				rest = p.Needs
			}
			for _, n := range rest {
				out[unit+" -> "+n] = true
			}
		}
	}
	return out
}

// auditRows are the audit's rows in the registry's order: every declared
// edge with its rule's or its row's verdict and reason, then the removed
// and dropped ones, and the needs narrowed edges replaced.
func auditRows(t *testing.T) []auditedEdge {
	t.Helper()
	byKey := map[string]auditedEdge{}
	for _, e := range audit {
		k := e.from + " -> " + e.to
		if _, dup := byKey[k]; dup {
			t.Errorf("audit: %s twice", k)
		}
		byKey[k] = e
	}
	declared := declaredEdges()
	var out []auditedEdge
	for _, c := range components.Default().Components() {
		for _, p := range c.Phases {
			unit := components.UnitKey(c.Name, p.Name)
			for _, e := range audit {
				if e.from == unit && (e.verdict == removed || e.verdict == dropped) {
					out = append(out, e)
				}
			}
			needs := map[string]bool{}
			for k := range declared {
				if from, to, _ := strings.Cut(k, " -> "); from == unit {
					needs[to] = true
				}
			}
			for _, to := range slices.Sorted(maps.Keys(needs)) {
				e, ok := byKey[unit+" -> "+to]
				for _, r := range auditedByRule {
					if r.phase == p.Name && r.to == to && !ok {
						e, ok = auditedEdge{from: unit, to: to, verdict: r.verdict, reason: r.reason}, true
					}
				}
				if !ok {
					t.Errorf("edge %s -> %s is not audited: add it to audit (internal/kubephase/edges_test.go) with its reason", unit, to)
					continue
				}
				out = append(out, e)
			}
		}
	}
	return out
}

// TestEveryEdgeIsAudited: every need a phase of the registry declares has
// its verdict and reason in the audit (by rule or by row), each edge the
// audit says was removed, dropped or replaced is no longer declared, and
// docs/edges.md is the audit's table (go test -run TestEveryEdgeIsAudited
// -update rewrites it).
func TestEveryEdgeIsAudited(t *testing.T) {
	declared := declaredEdges()
	rows := auditRows(t)
	for _, e := range audit {
		k := e.from + " -> " + e.to
		switch e.verdict {
		case removed, dropped:
			if declared[k] {
				t.Errorf("%s is %s in the audit, but the registry still declares it", k, e.verdict)
			}
			if e.verdict == removed && e.wait == nil {
				t.Errorf("%s is removed without the chart's wait that makes it safe", k)
			}
		case narrowed:
			if declared[e.from+" -> "+e.replaces] {
				t.Errorf("%s replaces %s -> %s, which the registry still declares", k, e.from, e.replaces)
			}
			fallthrough
		default:
			if !declared[k] {
				t.Errorf("%s is %s in the audit, but the registry does not declare it", k, e.verdict)
			}
		}
	}
	golden.CheckFile(t, "../../docs/edges.md", edgesDoc(rows, namedAcrossEdges(t)))
}

// namedAcrossEdges renders the units of the fidelity inventory (with each
// network backend) and returns, by edge ("unit -> need"), what the unit's
// objects name that the need's units provide (as
// TestUnitsNeedWhatTheirObjectsName finds it): the install-time reason of
// the edge where it is a name, derived from the rendered objects.
func namedAcrossEdges(t *testing.T) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, backend := range []string{"", components.BackendOVN} {
		st, _ := fidelitySettings(t, backend, "")
		units := renderUnits(t, st)
		providers := providedBy(units)
		reg := components.Default()
		for _, u := range units {
			c, _ := reg.Get(u.component)
			_, phase := components.SplitUnit(u.key)
			p, _ := c.Phase(phase)
			for _, need := range p.Needs {
				to := need
				if slices.Contains(storageProviders, need) {
					to = storage
				}
				edge := u.key + " -> " + to
				for _, r := range u.names() {
					if !slices.ContainsFunc(providers[r.key()], func(from string) bool {
						pc, _ := components.SplitUnit(from)
						return from == need || pc == need
					}) || slices.Contains(out[edge], r.key()) {
						continue
					}
					out[edge] = append(out[edge], r.key())
				}
			}
		}
	}
	for k := range out {
		slices.Sort(out[k])
	}
	return out
}

// edgesDoc renders the audit as docs/edges.md.
func edgesDoc(rows []auditedEdge, named map[string][]string) string {
	var b strings.Builder
	b.WriteString(`# The edges of the graph, audited (#25)

Generated by ` + "`go test ./internal/kubephase -run TestEveryEdgeIsAudited -update`" + ` from the
registry (` + "`components/*.go`" + `: each phase's needs) and the audit's reasons
(` + "`internal/kubephase/edges_test.go`" + `); the test fails when an edge of the
registry has no row, or when a row says removed and the registry still has
it.

Each edge is a need a phase declares ("from" needs "to": "to" is done
before "from" starts; a need on a whole component is a need on its last
phase). ` + "`<storage>`" + ` is withStorage's needs: every component that may provide
the StorageClass general (csi, local-path-provisioner, hpe-csi-driver,
storpool-csi, ibm-block-csi-driver, portworx; the inventory's CSI driver
picks one, the others' needs are dropped).

Verdicts:

- **kept**: the edge has an install-time reason (a CRD the objects use, a
  webhook that must answer, a database, queue, Secret or fact that the
  values, or a Job the release waits for, read, a StorageClass,
  IngressClass or issuer named, an API the phase calls). Where the reason
  is a name in the rendered objects, ` + "`TestUnitsNeedWhatTheirObjectsName`" + `
  derives it again and fails without the edge; where it is a cluster
  Secret the values read, ` + "`TestUnitsNeedTheSecretsTheirValuesRead`" + ` does.
- **removed**: a runtime need that the chart enforces itself: its pods
  wait (kubernetes-entrypoint) for the other's endpoints or pods, the
  other waits for nothing of this one's (no cycle), and this one's timeout
  covers the other's install. Atmosphere waits for a release's resources to
  be ready and its Jobs to complete, so such a wait only delays this
  unit's end. ` + "`TestRemovedEdgesAreWaitedForByTheCharts`" + ` checks the quoted
  dependency is still in the rendered values.
- **dropped**: the unit never used what the edge named (its API calls are
  checked by ` + "`TestSetupThroughTheScheduler`" + `).
- **narrowed**: the need names the phase the unit uses in place of the
  whole component.
- **added**: the edge was missing.
- **unknown, kept**: no install-time reason was established and no chart
  wait makes a removal safe: it stays.

What the audit changed, on the seed timings
(` + "`atmosphere simulate --timings ../shared/data/seed-aio-ovn-durations.csv`" + `): with
` + "`--phases`" + ` (an empty phases file: each phase its share) the makespan went from
1984 s to 1935 s, the chain now ending keystone:install → placement →
nova:install → octavia:setup → octavia:install (no nova:setup,
neutron:setup, nor RabbitMQ phases on it); whole components from 2207 s to
2007 s (neutron off the chain). ` + "`make bench`" + ` regenerates docs/benchmarks.md's
figures.

The phases of a component run in the order declared (each needs the one
before it). ` + "`withRabbitMQ`" + `'s two phases (the service's RabbitMQ cluster and
its user and virtual host) come first since #25: they read nothing of the
other phases, which therefore no longer wait for them, nor they for the
catalog or a set-up.

The column "objects name" is derived from the rendered objects of the
fidelity inventory (openvswitch and OVN): what the unit's objects name that
the need's units provide (a CRD's kind, an admission webhook that must
answer, a StorageClass — "(the default class)" for a claim that names
none —, an IngressClass, an issuer, a Secret), as
` + "`TestUnitsNeedWhatTheirObjectsName`" + ` finds it.

| from | needs | verdict | objects name | reason |
|---|---|---|---|---|
`)
	for _, e := range rows {
		verdict := e.verdict
		switch {
		case e.verdict == narrowed:
			verdict = fmt.Sprintf("narrowed (was %s)", e.replaces)
		case e.wait != nil:
			verdict = "removed: " + e.wait.String()
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", e.from, e.to, verdict,
			strings.Join(named[e.from+" -> "+e.to], ", "), strings.ReplaceAll(e.reason, "|", "\\|"))
	}
	b.WriteString("\nThe phases' order, where a component has more than one:\n\n")
	for _, c := range components.Default().Components() {
		if len(c.Phases) < 2 {
			continue
		}
		var names []string
		for _, p := range c.Phases {
			names = append(names, p.Name)
		}
		fmt.Fprintf(&b, "- %s: %s\n", c.Name, strings.Join(names, " → "))
	}
	return b.String()
}

// TestRemovedEdgesAreWaitedForByTheCharts: each edge the audit removed
// because the chart's own pods wait for what it expressed (#25) is still
// such a wait in the release's values: a service of the other component
// (kubernetes-entrypoint waits for its endpoints) or a pod of its labels
// in a dependencies list of the chart, and the registry no longer has the
// edge. Were the chart to stop waiting, the edge would have to come back.
func TestRemovedEdgesAreWaitedForByTheCharts(t *testing.T) {
	reg := components.Default()
	checked := 0
	for _, e := range audit {
		if e.verdict != removed {
			continue
		}
		checked++
		component, phase := components.SplitUnit(e.from)
		c, _ := reg.Get(component)
		p, _ := c.Phase(phase)
		if slices.Contains(p.Needs, e.to) {
			t.Errorf("%s still needs %s", e.from, e.to)
		}
		backend := ""
		if component == "ovn" {
			backend = components.BackendOVN
		}
		st, _ := fidelitySettings(t, backend, "")
		st.Charts = chartLoader()
		ch, err := st.Charts.Load(context.Background(), *c.Chart)
		if err != nil {
			t.Fatal(err)
		}
		own, err := st.Values(c, ch.Values)
		if err != nil {
			t.Fatal(err)
		}
		list, _ := values.Get(values.Merge(ch.Values, own), e.wait.dependencies)
		waits := false
		items, _ := list.([]any)
		for _, d := range items {
			m, ok := d.(map[string]any)
			if !ok {
				continue
			}
			if e.wait.service != "" && m["service"] == e.wait.service {
				waits = true
			}
			if labels, _ := m["labels"].(map[string]any); e.wait.pod != nil && len(labels) == len(e.wait.pod) &&
				!slices.ContainsFunc(slices.Collect(maps.Keys(e.wait.pod)), func(k string) bool { return labels[k] != e.wait.pod[k] }) {
				waits = true
			}
		}
		if !waits {
			t.Errorf("%s's release no longer waits (%s: %v): %s must need %s again", component, e.wait, list, e.from, e.to)
		}
	}
	if checked == 0 {
		t.Error("no removed edge checked")
	}
}
