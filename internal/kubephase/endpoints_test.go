package kubephase

import (
	"fmt"
	"testing"

	"github.com/vexxhost/atmosphere-go/components/values"
)

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
			objs, err := objectsOf(tc.component, s)
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
