package components

import (
	"context"
	"fmt"

	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/openstack/provision"
)

// The knobs magnum reads (roles/magnum/defaults/main.yml).
var (
	magnumKnobs                            = knobsOf("magnum")
	magnumCACertificates                   = magnumKnobs.str("defaults_ca_certificates_path", "/etc/ssl/certs/ca-certificates.crt")
	magnumHelmReleaseNamespace             = magnumKnobs.str("magnum_helm_release_namespace", "openstack")
	magnumClusterAPIProxyPriorityClassName = magnumKnobs.str("magnum_cluster_api_proxy_priority_class_name", "")
	magnumRegistryPriorityClassName        = magnumKnobs.str("magnum_registry_priority_class_name", "")
	magnumClusterAPIProxyOVSNodeSelector   = magnumKnobs.mapping("magnum_cluster_api_proxy_ovs_node_selector", map[string]any{"openstack-control-plane": "enabled"})
	magnumClusterAPIProxyOVNNodeSelector   = magnumKnobs.mapping("magnum_cluster_api_proxy_ovn_node_selector", map[string]any{"openvswitch": "enabled"})
	// magnumImages is magnum_images: the role's _magnum_images when unset.
	magnumImages = magnumKnobs.list("magnum_images")
	// The formats of every cluster image.
	magnumImageContainerFormat, magnumImageDiskFormat = magnumKnobs.imageFormats("magnum_image", "raw")
)

// magnumClusterctlConfig is magnum_clusterctl_config: the clusterctl
// configuration (the images of the Cluster API providers) with which the
// role's dependency vexxhost.kubernetes.cluster_api installs Cluster API
// for magnum. atmosphere-go does not install Cluster API, so any value is
// refused before the run rather than silently left unused.
var magnumClusterctlConfig = add(magnumKnobs, knob[map[string]any]{name: "magnum_clusterctl_config",
	want: "it unset (atmosphere-go does not install Cluster API with clusterctl, which this configuration is for)",
	conv: func(any) (map[string]any, bool) { return nil, false }})

// magnum declares magnum, with what it renders.
func magnum() *Component {
	c := withCatalog(withKinds(split(release("magnum", "magnum", openstack, chart("magnum"), 290, needs(keystoneAPI, rabbitmq), kubeAPI),
		setup(90, "glance")), Manifest))
	c = withDatabases(c, "magnum", "magnum")
	c.services, c.endpoints = magnumServices, magnumEndpoints
	c.values = magnumValues
	c.objects = magnumObjects
	c.ingresses = []publicIngress{
		publicIngressOf("container_infra", "magnum-api", 9511, nil, "magnum"),
		publicIngressOf("container_infra_registry", "magnum-registry", 5000, nil, "magnum_registry"),
	}
	c = withRabbitMQ(c, "magnum")
	c.setup = magnumSetup
	return c
}

// magnumValues are magnum's own values for its chart: its static values
// with the endpoints and images' tags, the region of each service's client,
// magnum's keystone user, the RabbitMQ policies and the host's CA bundle.
func magnumValues(r *Render) values.Values {
	e := &endpointRender{Render: r}
	base := merge(r.static("magnum"), r.openstackHelmValues("magnum"))
	conf := map[string]any{
		"keystone_auth": map[string]any{
			"username": "magnum-" + e.region("magnum"),
			"password": e.secret("magnum_keystone_password"),
		},
	}
	for _, service := range []string{"barbican", "cinder", "glance", "heat", "magnum", "manila", "neutron", "nova", "octavia"} {
		conf[service+"_client"] = map[string]any{"region_name": e.region(service)}
	}
	caBundle := magnumCACertificates.get(r)
	return merge(base, values.Values{
		"conf": map[string]any{
			"magnum":   conf,
			"rabbitmq": map[string]any{"policies": rabbitPolicies("magnum")},
		},
		"pod": map[string]any{"mounts": map[string]any{"magnum_conductor": map[string]any{"magnum_conductor": map[string]any{
			"volumes": []any{map[string]any{"name": "ca-certificates", "hostPath": map[string]any{"path": caBundle}}},
		}}}},
	})
}

// magnumSudoers lets the Cluster API proxy's magnum user run privsep.
const magnumSudoers = `Defaults !requiretty
Defaults secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/snap/bin:/var/lib/openstack/bin:/var/lib/kolla/venv/bin"
magnum ALL = (root) NOPASSWD: /var/lib/openstack/bin/privsep-helper
`

// magnumObjects are the objects around magnum's chart, as the magnum role
// makes them: the magnum-system namespace and cluster-admin for
// magnum-conductor (Cluster API), then, after the chart, the Cluster API
// proxy (a DaemonSet on the network nodes of the backend, with its sudoers
// ConfigMap) and the registry of cluster images (Deployment and Service;
// its public Ingress is one of magnum's ingresses). Images come from the
// image table; magnum_cluster_api_proxy_{ovs,ovn}_node_selector and the
// priority class knobs are the role's.
func magnumObjects(s Settings) ([]Object, error) {
	r := &Render{Settings: s}
	namespace := magnumHelmReleaseNamespace.get(r)
	labels := func(component string) map[string]any {
		return map[string]any{"application": "magnum", "component": component}
	}
	withPriority := func(spec map[string]any, class knob[string]) map[string]any {
		if class := class.get(r); class != "" {
			spec["priorityClassName"] = class
		}
		return spec
	}
	selector := magnumClusterAPIProxyOVSNodeSelector.get(r)
	if s.Config.NetworkBackend == BackendOVN {
		selector = magnumClusterAPIProxyOVNNodeSelector.get(r)
	}
	proxy := withPriority(map[string]any{
		"containers": []any{map[string]any{
			"name": "magnum-cluster-api-proxy", "command": []any{"magnum-cluster-api-proxy"},
			"image":           r.image("magnum_cluster_api_proxy").String(),
			"securityContext": map[string]any{"privileged": true, "readOnlyRootFilesystem": true},
			"volumeMounts": []any{
				map[string]any{"name": "pod-tmp", "mountPath": "/tmp"},
				map[string]any{"name": "pod-run", "mountPath": "/run"},
				map[string]any{"name": "config", "mountPath": "/etc/sudoers.d/magnum_capi_sudoers", "subPath": "magnum_capi_sudoers", "readOnly": true},
				map[string]any{"name": "haproxy-state", "mountPath": "/var/lib/magnum/.magnum-cluster-api-proxy"},
				map[string]any{"name": "host-run-netns", "mountPath": "/run/netns", "mountPropagation": "Bidirectional"},
			},
		}},
		"nodeSelector":       selector,
		"securityContext":    map[string]any{"runAsUser": 42424},
		"serviceAccountName": "magnum-conductor",
		"volumes": []any{
			map[string]any{"name": "pod-tmp", "emptyDir": map[string]any{}},
			map[string]any{"name": "pod-run", "emptyDir": map[string]any{}},
			map[string]any{"name": "config", "configMap": map[string]any{"name": "magnum-cluster-api-proxy-config"}},
			map[string]any{"name": "haproxy-state", "emptyDir": map[string]any{}},
			map[string]any{"name": "host-run-netns", "hostPath": map[string]any{"path": "/run/netns"}},
		},
	}, magnumClusterAPIProxyPriorityClassName)
	probe := map[string]any{"httpGet": map[string]any{"path": "/", "port": 5000, "scheme": "HTTP"}}
	registry := withPriority(map[string]any{
		"containers": []any{map[string]any{
			"name": "registry", "image": r.image("magnum_registry").String(),
			"env":            []any{map[string]any{"name": "REGISTRY_STORAGE_MAINTENANCE_READONLY", "value": `{"enabled": true}`}},
			"ports":          []any{map[string]any{"name": "registry", "containerPort": 5000, "protocol": "TCP"}},
			"livenessProbe":  probe,
			"readinessProbe": probe,
		}},
		"nodeSelector": map[string]any{"openstack-control-plane": "enabled"},
	}, magnumRegistryPriorityClassName)
	workload := func(kind, name, component string, spec map[string]any, extra map[string]any) map[string]any {
		body := map[string]any{
			"selector": map[string]any{"matchLabels": labels(component)},
			"template": map[string]any{"metadata": map[string]any{"labels": labels(component)}, "spec": spec},
		}
		for k, v := range extra {
			body[k] = v
		}
		return map[string]any{"apiVersion": "apps/v1", "kind": kind,
			"metadata": map[string]any{"name": name, "labels": labels(component)}, "spec": body}
	}
	before := objectList(
		map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "magnum-system"}},
		map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": map[string]any{"name": "magnum-cluster-api"},
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"},
			"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "magnum-conductor", "namespace": namespace}}},
	)
	after := objectList(
		map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "magnum-cluster-api-proxy-config"},
			"data": map[string]any{"magnum_capi_sudoers": magnumSudoers}},
		workload("DaemonSet", "magnum-cluster-api-proxy", "cluster-api-proxy", proxy, nil),
		workload("Deployment", "magnum-registry", "registry", registry, map[string]any{"replicas": 1}),
		map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": "magnum-registry", "labels": labels("registry")},
			"spec": map[string]any{"type": "ClusterIP", "selector": labels("registry"),
				"ports": []any{map[string]any{"name": "magnum", "port": 5000, "protocol": "TCP", "targetPort": 5000}}}},
	)
	if r.err != nil {
		return nil, r.err
	}
	return append(before, afterRelease(after)...), nil
}

// magnumServices are magnum's entry in the catalog and its users: its
// service user and the admin of its clusters' stack-user domain.
var magnumServices = []provision.Service{{Type: "container-infra", Name: "magnum", Description: "OpenStack Container Infrastructure",
	Host: "magnum-api", Port: 9511, Path: "/v1", Users: []provision.ServiceUser{serviceUser("magnum", "magnum", admin...),
		{Key: "magnum_stack_user", Name: "magnum-domain", Domain: "magnum"}}}}

// magnumEndpoints are the chart endpoints magnum owns: its API and its
// registry.
var magnumEndpoints = map[string]endpointFragment{
	"container_infra": func(e *endpointRender) values.Values {
		return merge(e.identityUsers(user{"magnum", "magnum", "magnum", ""},
			user{"magnum_stack_user", "magnum", "magnum-domain", "magnum_keystone_password"}),
			e.public("container_infra", "api"), e.public("container_infra_registry", "api"),
			e.db("magnum"), e.mq("magnum"))
	},
}

// magnumSetupImages are the images magnum's set-up uploads: the
// inventory's magnum_images (each a name, a url and a distro, as the
// role's loop reads them), else the cluster images of atmosphere's
// defaults (the role's _magnum_images), each of the formats
// magnum_image_{container,disk}_format say. An entry of the wrong shape
// is checkMagnumImages' problem, refused before the run.
func magnumSetupImages(s Settings) []provision.Image {
	container, disk := magnumImageContainerFormat.in(s.Vars), magnumImageDiskFormat.in(s.Vars)
	magnumImage := func(name, url, distro string) provision.Image {
		return provision.Image{Name: name, ContainerFormat: container, DiskFormat: disk,
			Properties: map[string]string{"os_distro": distro}, Source: url}
	}
	list := magnumImages.in(s.Vars)
	if list == nil {
		return []provision.Image{
			magnumImage("ubuntu-2204-kube-v1.32.10", capoRelease+"ubuntu-22.04-v1.32.10.qcow2", "ubuntu"),
			magnumImage("ubuntu-2204-kube-v1.33.7", capoRelease+"ubuntu-22.04-v1.33.7.qcow2", "ubuntu"),
			magnumImage("ubuntu-2204-kube-v1.34.3", capoRelease+"ubuntu-22.04-v1.34.3.qcow2", "ubuntu"),
		}
	}
	var out []provision.Image
	for _, x := range list {
		m, _ := x.(map[string]any)
		name, _ := m["name"].(string)
		url, _ := m["url"].(string)
		distro, _ := m["distro"].(string)
		out = append(out, magnumImage(name, url, distro))
	}
	return out
}

// capoRelease is where the default cluster images are: capo-image-elements' release.
const capoRelease = "https://github.com/vexxhost/capo-image-elements/releases/download/2025.12-3/"

// checkMagnumImages refuses a magnum_images entry that is not a mapping
// with a name, a url and a distro, each a non-empty string.
func checkMagnumImages(vars map[string]any) []KnobProblem {
	list, ok := vars["magnum_images"].([]any)
	if !ok {
		return nil // unset, or not a list: the knob's own problem
	}
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return []KnobProblem{{Key: "magnum_images", Message: fmt.Sprintf("[%d]: want a mapping of name, url and distro, got %s", i, describe("magnum_images", x))}}
		}
		for _, f := range []string{"name", "url", "distro"} {
			if v, ok := m[f].(string); !ok || v == "" {
				return []KnobProblem{{Key: "magnum_images", Message: fmt.Sprintf("[%d].%s: required, a string", i, f)}}
			}
		}
	}
	return nil
}

func init() { magnumKnobs.check(checkMagnumImages) }

// magnumSetup uploads magnum's cluster images, two at a time.
func magnumSetup(ctx context.Context, s *Setup) (bool, error) {
	_, changed, err := uploads(ctx, s, magnumSetupImages(s.Settings))
	return changed, err
}
