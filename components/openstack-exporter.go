package components

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The knobs openstack-exporter reads
// (roles/openstack_exporter/defaults/main.yml), with the role's defaults.
var (
	openstackExporterKnobs = knobsOf("openstack-exporter")
	openstackExporterArgs  = add(openstackExporterKnobs, stringList("openstack_exporter_args", []any{
		"--endpoint-type", "internal", "default", "--collect-metric-time",
		"-d cinder-agent_state", "-d cinder-limits_backup_max_gb", "-d cinder-limits_backup_used_gb",
		"-d cinder-limits_volume_max_gb", "-d cinder-limits_volume_used_gb", "-d cinder-snapshots", "-d cinder-volume_gb",
		"-d cinder-volume_status", "-d cinder-volume_status_counter", "-d cinder-volume_type_quota_gigabytes", "-d cinder-volumes",
		"--disable-service.identity", "--disable-service.image", "--disable-service.placement", "--disable-service.compute",
		"--disable-service.object-store", "--disable-service.load-balancer", "--disable-service.container-infra",
		"--disable-service.dns", "--disable-service.baremetal", "--disable-service.gnocchi", "--disable-service.database",
		"--disable-service.orchestration",
	}))
	openstackExporterNeutronDisabledMetrics = add(openstackExporterKnobs, stringList("openstack_exporter_neutron_disabled_metrics", []any{
		"-d neutron-l3_agent_of_router", "-d neutron-floating_ip", "-d neutron-floating_ips",
		"-d neutron-floating_ips_associated_not_active", "-d neutron-network", "-d neutron-network_ip_availabilities_total",
		"-d neutron-network_ip_availabilities_used", "-d neutron-networks", "-d neutron-port", "-d neutron-ports",
		"-d neutron-ports_lb_not_active", "-d neutron-ports_no_ips", "-d neutron-quota_floatingip", "-d neutron-quota_network",
		"-d neutron-quota_port", "-d neutron-quota_rbac_policy", "-d neutron-quota_router", "-d neutron-quota_security_group",
		"-d neutron-quota_security_group_rule", "-d neutron-quota_subnet", "-d neutron-quota_subnetpool", "-d neutron-router",
		"-d neutron-routers", "-d neutron-routers_not_active", "-d neutron-security_groups", "-d neutron-subnet", "-d neutron-subnets",
	}))
)

// stringList is a knob that takes a list of strings (def by default).
func stringList(name string, def []any) knob[[]any] {
	return knob[[]any]{name: name, def: def, want: "a list of strings", conv: func(v any) ([]any, bool) {
		x, ok := v.([]any)
		for _, e := range x {
			if _, isString := e.(string); !isString {
				return nil, false
			}
		}
		return x, ok
	}}
}

// openstackExporter declares openstack-exporter, with what it renders.
func openstackExporter() *Component {
	c := manifests("openstack-exporter", openstack, 16, needs("cinder", "neutron"), nil)
	c.objects = openstackExporterObjects
	return c
}

// openstackExporterObjects are the objects openstack-exporter applies
// itself, as data (openstack-exporter.objects.yaml): its Deployment and the
// Service Prometheus scrapes. As the role's, the exporter authenticates as
// keystone's admin: an init container writes its clouds.yaml from Secret
// keystone-keystone-admin into a volume mounted at /etc/openstack; the
// role makes no keystone user of the exporter's own
// (openstack_helm_endpoints_openstack_exporter_keystone_password is read
// by none of its tasks). When the inventory sets
// openstack_exporter_args or openstack_exporter_neutron_disabled_metrics,
// the exporter's arguments are the role's: openstack_exporter_args, then,
// with the ovn network backend, openstack_exporter_neutron_disabled_metrics,
// else --disable-service.network (each knob the role's default when
// unset). When it sets neither, they are those of the objects' file.
func openstackExporterObjects(s Settings) ([]Object, error) {
	objs, err := staticObjects("openstack-exporter")
	if err != nil {
		return nil, err
	}
	r := &Render{Settings: s}
	args, argsSet := openstackExporterArgs.lookup(r)
	neutron, neutronSet := openstackExporterNeutronDisabledMetrics.lookup(r)
	if r.err != nil {
		return nil, r.err
	}
	if !argsSet && !neutronSet {
		return objs, nil
	}
	all := append([]any{}, args...)
	if s.NetworkBackend == BackendOVN {
		all = append(all, neutron...)
	} else {
		all = append(all, "--disable-service.network")
	}
	for _, o := range objs {
		if o.GetKind() != "Deployment" || o.GetName() != "openstack-exporter" {
			continue
		}
		containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
		for i, c := range containers {
			if m, ok := c.(map[string]any); ok && m["name"] == "openstack-exporter" {
				m["args"] = all
				containers[i] = m
				if err := unstructured.SetNestedSlice(o.Object, containers, "spec", "template", "spec", "containers"); err != nil {
					return nil, fmt.Errorf("openstack-exporter's arguments: %w", err)
				}
				return objs, nil
			}
		}
	}
	return nil, fmt.Errorf("openstack-exporter's arguments: openstack-exporter.objects.yaml has no Deployment openstack-exporter with its container")
}
