package components

import (
	"context"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/kubeutil"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// nova declares nova, with what it renders.
func nova() *Component {
	// Not glance: nova-compute's pods wait for its API themselves
	// (dependencies.static.compute.services: image), so nova is installed
	// while glance still is (#25). libvirt stays: nova's noVNC proxy's
	// certificate is issued by libvirt's VNC issuer.
	c := withCatalog(split(release("nova", "nova", openstack, chart("nova"), 231, needs("placement", "libvirt", rabbitmq), kubeAPI), setup(11)))
	c = withDatabases(c, "nova", "nova", "nova_api", "nova_cell0")
	c.roleTimeout = true // nova_helm_timeout
	c.services, c.endpoints = []provision.Service{novaCompute}, novaEndpoints
	c.values = novaValues
	c.BeforeChange = novaBeforeChange
	c.ingresses = []publicIngress{
		publicIngressOf("compute", "nova-api", 8774, nil, "nova_api"),
		publicIngressOf("compute_novnc_proxy", "nova-novncproxy", 6080, map[string]any{
			"nginx.ingress.kubernetes.io/proxy-read-timeout": "3600", "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600"}, "nova_novnc"),
	}
	c = withRabbitMQ(c, "nova")
	c.setup = novaSetup
	return c
}

// novaValues are nova's own values for its chart: its static values with
// the endpoints and images' tags, the network backend, the compute hosts'
// SSH keys, the metadata proxy's secret, the RabbitMQ policies and its
// storage values (ephemeral disks, Ceph; laid aside by r.storage).
func novaValues(r *Render) values.Values {
	e := &endpointRender{Render: r}
	base := merge(r.static("nova"), r.openstackHelmValues("nova"))
	private := r.secret("nova_ssh_key")
	if private != "" && !strings.HasSuffix(private, "\n") {
		private += "\n"
	}
	v := merge(base, values.Values{
		"network": map[string]any{
			"backend": []any{r.Config.NetworkBackend},
			"ssh": map[string]any{
				"public_key":  r.sshPublicKey("_nova_ssh_publickey", private),
				"private_key": private,
			},
		},
		"conf": map[string]any{
			"nova": map[string]any{"neutron": map[string]any{
				"metadata_proxy_shared_secret": e.secret("neutron_metadata_secret")}},
			"rabbitmq": map[string]any{"policies": rabbitPolicies("nova")},
		},
	})
	r.storage(novaStorage)
	return v
}

// nova's bootstrap and cell-setup Jobs are not Helm hooks, and a
// Job's template cannot change: the upgrade would be refused
// (roles/nova: "Remove nova-bootstrap and nova-cell-setup job").
func novaBeforeChange(ctx context.Context, client kubernetes.Interface, namespace string) error {
	jobs := client.BatchV1().Jobs(namespace)
	for _, name := range []string{"nova-bootstrap", "nova-cell-setup"} {
		err := kubeutil.DeleteAndWait(ctx, "Job "+namespace+"/"+name,
			func(ctx context.Context, opts metav1.DeleteOptions) error { return jobs.Delete(ctx, name, opts) },
			func(ctx context.Context) error { _, err := jobs.Get(ctx, name, metav1.GetOptions{}); return err })
		if err != nil {
			return err
		}
	}
	return nil
}

// novaCompute is nova's entry in the catalog and its service user; its path
// is also the chart's compute endpoint's (atmosphere overrides the
// chart's).
var novaCompute = provision.Service{Type: "compute", Name: "nova", Description: "OpenStack Compute",
	Host: "nova-api", Port: 8774, Path: "/v2.1", Users: []provision.ServiceUser{serviceUser("nova", "nova", adminService...)}}

// novaEndpoints are the chart endpoints nova owns: its API, its API and
// cell0 databases, its metadata service and its VNC console.
var novaEndpoints = map[string]endpointFragment{
	"compute": func(e *endpointRender) values.Values {
		return e.service("compute", "nova", m{"path": m{"default": novaCompute.Path}}, true, true)
	},
	"oslo_db_api":   func(e *endpointRender) values.Values { return e.extraDB("oslo_db_api", "nova") },
	"oslo_db_cell0": func(e *endpointRender) values.Values { return e.extraDB("oslo_db_cell0", "nova") },
	"compute_metadata": func(e *endpointRender) values.Values {
		return m{"compute_metadata": m{
			"secret": e.secret("neutron_metadata_secret"),
			"hosts":  m{"public": "nova-metadata"},
			"port":   m{"metadata": m{"public": 8775}},
		}}
	},
	"compute_novnc_proxy": func(e *endpointRender) values.Values {
		return merge(e.public("compute_novnc_proxy", "novnc_proxy"), m{"compute_novnc_proxy": m{"path": m{"default": "/vnc_lite.html"}}})
	},
}

// novaSetup makes the inventory's flavors (nova_flavors), in order.
func novaSetup(ctx context.Context, s *Setup) (bool, error) {
	compute, err := s.Clients.Compute(ctx)
	if err != nil {
		return false, err
	}
	var t tally
	for _, f := range s.Settings.Setup.Flavors {
		_, changed, err := compute.EnsureFlavor(ctx, f)
		if err := t.add(changed, err); err != nil {
			return t.changed, err
		}
	}
	return t.changed, nil
}

// novaStorage are nova's storage values: local (qcow2) or RBD ephemeral
// disks, with Ceph enabled when there are RBD volumes.
func novaStorage(cfg values.Values) (values.Values, error) {
	bs, err := backends(cfg, "volumes")
	if err != nil {
		return nil, err
	}
	eph, _ := cfg["ephemeral"].(map[string]any)
	switch eph["type"] {
	case nil:
		return values.Values{}, nil
	case "local":
		return values.Values{"conf": map[string]any{"ceph": map[string]any{"enabled": len(bs) > 0},
			"nova": map[string]any{"libvirt": map[string]any{"images_type": "qcow2"}}}}, nil
	case "rbd":
		p, err := poolOf("ephemeral", eph)
		if err != nil {
			return nil, err
		}
		return values.Values{
			"conf": map[string]any{"ceph": map[string]any{"enabled": true}, "nova": map[string]any{"libvirt": map[string]any{
				"images_type": "rbd", "images_rbd_pool": p.pool, "images_rbd_ceph_conf": "/etc/ceph/ceph.conf",
				"rbd_user": p.user, "rbd_secret_uuid": p.secretUUID}}},
			"manifests": map[string]any{"job_storage_init": true},
			"rbd_pool":  map[string]any{"app_name": "nova-vms", "replication": p.replication, "crush_rule": p.crushRule, "chunk_size": p.chunkSize},
		}, nil
	}
	return nil, fmt.Errorf("ephemeral: type %q is not supported by this build (local or rbd are)", eph["type"])
}
