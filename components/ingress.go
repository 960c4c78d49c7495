package components

import (
	"fmt"
	"strings"
)

// The knobs of the public Ingresses (roles/openstack_helm_ingress); each
// Ingress's own <knob>_ingress_annotations and <knob>_ingress_class_name
// are its component's (Component.Knobs).
var (
	openstackHelmIngressClusterIssuer  = sharedKnobs.str("openstack_helm_ingress_cluster_issuer", "") // the cluster issuer
	openstackHelmIngressSecretName     = sharedKnobs.str("openstack_helm_ingress_secret_name", "")
	openstackHelmIngressWildcardDomain = sharedKnobs.str("openstack_helm_ingress_wildcard_domain", "")
	atmosphereIngressAnnotations       = sharedKnobs.mapping("atmosphere_ingress_annotations", map[string]any{})
)

// publicIngress is an OpenStack service's public Ingress, as atmosphere's
// openstack_helm_ingress role makes it after the service's chart: the
// endpoint's public host to the service's API, TLS from the cluster issuer
// (or the wildcard certificate).
type publicIngress struct {
	endpoint, hostVar, service string
	port                       int
	// annotations are the role's own; knob is the prefix of its
	// <knob>_ingress_annotations and <knob>_ingress_class_name.
	annotations map[string]any
	knob        string
	// annotationsKnob and classKnob, when set, name those knobs instead,
	// for a role whose knobs are not named after the prefix
	// (rook_ceph_cluster_radosgw_annotations,
	// rook_ceph_cluster_ingress_class_name).
	annotationsKnob, classKnob string
}

var bodyUnlimited = map[string]any{"nginx.ingress.kubernetes.io/proxy-body-size": "0", "nginx.ingress.kubernetes.io/proxy-request-buffering": "off"}

// ingressObjects are the public Ingresses of a component (after the
// wildcard certificate they share when openstack_helm_ingress_wildcard_domain
// is set), each applied after the component's release.
func ingressObjects(s Settings, component string, list []publicIngress) ([]Object, error) {
	if len(list) == 0 {
		return nil, nil
	}
	r := &Render{Settings: s}
	e := &endpointRender{Render: r}
	issuer := orDefault(r, openstackHelmIngressClusterIssuer, r.ClusterIssuer)
	secretName := openstackHelmIngressSecretName.get(r)
	var docs []map[string]any
	if domain := openstackHelmIngressWildcardDomain.get(r); domain != "" {
		secretName = "atmosphere-wildcard"
		docs = append(docs, map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
			"metadata": map[string]any{"name": "atmosphere-wildcard"},
			"spec": map[string]any{
				"secretName": "atmosphere-wildcard",
				"issuerRef":  map[string]any{"kind": "ClusterIssuer", "name": issuer},
				"dnsNames":   []any{"*." + domain},
			}})
	}
	global := atmosphereIngressAnnotations.get(r)
	for _, in := range list {
		host := e.host(in.hostVar)
		// The ingress role's template names the host as the certificate's
		// common name, under the annotations given.
		annotations := map[string]any{"cert-manager.io/common-name": host}
		for _, m := range []map[string]any{global, in.annotations, ingressAnnotations(in).get(r)} {
			for k, v := range m {
				annotations[k] = v
			}
		}
		if in.endpoint == "dashboard" {
			annotations["nginx.ingress.kubernetes.io/cors-allow-origin"] = host
		}
		if secretName == "" {
			annotations["cert-manager.io/cluster-issuer"] = issuer
		}
		service := in.service
		if component == "rook-ceph-cluster" {
			service = "rook-ceph-rgw-" + rookCephClusterName.get(r)
		}
		secret := secretName
		if secret == "" {
			secret = service + "-certs"
		}
		docs = append(docs, map[string]any{
			"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
			"metadata": map[string]any{"name": strings.ReplaceAll(in.endpoint, "_", "-"), "annotations": annotations},
			"spec": map[string]any{
				"ingressClassName": orDefault(r, ingressClass(in), r.IngressClass),
				"rules": []any{map[string]any{"host": host, "http": map[string]any{"paths": []any{map[string]any{
					"path": "/", "pathType": "Prefix",
					"backend": map[string]any{"service": map[string]any{"name": service, "port": map[string]any{"number": in.port}}},
				}}}}},
				"tls": []any{map[string]any{"secretName": secret, "hosts": []any{host}}},
			},
		})
	}
	if r.err != nil {
		return nil, fmt.Errorf("public Ingress of %s: %w", component, r.err)
	}
	return afterRelease(objectList(docs...)), nil
}
