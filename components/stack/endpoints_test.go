package stack

import (
	"fmt"
	"testing"

	"github.com/vexxhost/atmosphere-go/bootstrap"
	"github.com/vexxhost/atmosphere-go/components/values"
)

// The public hosts the values derive agree with the keystone catalog's.
func TestHostPrefixesAgreeWithTheCatalog(t *testing.T) {
	vars := map[string]string{
		"keystone_api_host": "identity", "glance_api_host": "image", "cinder_api_host": "volumev3",
		"nova_api_host": "compute", "placement_api_host": "placement", "neutron_api_host": "network",
		"heat_api_host": "orchestration", "heat_cfn_api_host": "cloudformation", "barbican_api_host": "key-manager",
		"octavia_api_host": "load-balancer", "magnum_api_host": "container-infra", "manila_api_host": "sharev2",
		"rgw_host": "object-store", "designate_api_host": "dns",
	}
	e := bootstrap.Endpoints{Domain: "cloud.example.com"}
	r := &endpointRender{Render: &Render{Settings: Settings{Vars: map[string]any{
		"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com"}}}}
	for _, svc := range bootstrap.Services {
		for name, typ := range vars {
			if typ != svc.Type {
				continue
			}
			if got, want := r.host(name), e.PublicHost(svc); got != want {
				t.Errorf("%s: values use %s, the catalog %s", name, got, want)
			}
			delete(vars, name)
		}
	}
	if len(vars) > 0 {
		t.Errorf("no catalog service for %v", vars)
	}
	r.Vars["openstack_helm_endpoints_glance_api_host"] = "glance.example.org"
	if got := r.host("glance_api_host"); got != "glance.example.org" {
		t.Errorf("a host the inventory sets: %s", got)
	}
}

func TestPublicIngresses(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		vars                         map[string]any
		component, ingress           string
		host, service, secret, class string
		port                         int64
		annotation, annotationValue  string
		certificate                  bool
	}{
		{"glance", nil, "glance", "image", "image.cloud.example.com", "glance-api", "glance-api-certs", "atmosphere", 9292,
			"nginx.ingress.kubernetes.io/proxy-body-size", "0", false},
		{"knobs", map[string]any{"nova_novnc_ingress_class_name": "public", "openstack_helm_endpoints_nova_novnc_host": "console.example.org",
			"nova_novnc_ingress_annotations": map[string]any{"example.com/x": "y"}},
			"nova", "compute-novnc-proxy", "console.example.org", "nova-novncproxy", "nova-novncproxy-certs", "public", 6080, "example.com/x", "y", false},
		{"wildcard", map[string]any{"openstack_helm_ingress_wildcard_domain": "cloud.example.com"},
			"keystone", "identity", "identity.cloud.example.com", "keystone-api", "atmosphere-wildcard", "atmosphere", 5000,
			"nginx.ingress.kubernetes.io/proxy-read-timeout", "120", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := testSettings()
			for k, v := range tc.vars {
				s.Vars[k] = v
			}
			objs, err := Objects(tc.component, s)
			if err != nil {
				t.Fatal(err)
			}
			var found, cert bool
			for _, o := range objs {
				if o.GetKind() == "Certificate" && o.GetName() == "atmosphere-wildcard" {
					cert = true
				}
				if o.GetKind() != "Ingress" || o.GetName() != tc.ingress {
					continue
				}
				found = true
				if !o.AfterRelease {
					t.Error("the Ingress is not applied after the release")
				}
				rule, _ := values.Get(o.Object, "spec.rules")
				r := rule.([]any)[0].(map[string]any)
				backend, _ := values.Get(r, "http")
				path := backend.(map[string]any)["paths"].([]any)[0].(map[string]any)
				svc, _ := values.Get(path, "backend.service.name")
				port, _ := values.Get(path, "backend.service.port.number")
				tls := o.Object["spec"].(map[string]any)["tls"].([]any)[0].(map[string]any)
				class, _ := values.Get(o.Object, "spec.ingressClassName")
				if r["host"] != tc.host || svc != tc.service || tls["secretName"] != tc.secret || class != tc.class || fmt.Sprint(port) != fmt.Sprint(tc.port) ||
					o.GetAnnotations()[tc.annotation] != tc.annotationValue {
					t.Errorf("Ingress = %v", o.Object)
				}
				if _, issuer := o.GetAnnotations()["cert-manager.io/cluster-issuer"]; issuer == tc.certificate {
					t.Errorf("cluster-issuer annotation present = %v with a wildcard certificate = %v", issuer, tc.certificate)
				}
			}
			if !found || cert != tc.certificate {
				t.Errorf("Ingress %s found %v, wildcard certificate %v; objects %d", tc.ingress, found, cert, len(objs))
			}
		})
	}
}
