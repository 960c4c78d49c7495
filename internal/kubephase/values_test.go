package kubephase

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/charts"
	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/manifest"
	"github.com/vexxhost/atmosphere-go/internal/secrets"
	"golang.org/x/crypto/ssh"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// testSettings are the defaults with what a deploy adds: an inventory's
// public host, its cluster issuer (the role's default, acme, needs an
// e-mail address), keepalived's interface and virtual IP, the HPE Nimble
// array's address and credentials (csi_driver hpe-nimble), portworx's
// pure.json and SAN type, storpool's template and the IBM array's address,
// credentials, pool and I/O group (which they require), and secrets.
func testSettings() components.Settings {
	s := components.DefaultSettings()
	s.Vars = map[string]any{"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com",
		"openstack_helm_endpoints_region_name": "RegionOne", "cluster_issuer_type": "self-signed",
		// As atmosphere's generate_workspace playbook writes them.
		"keepalived_interface": "br-ex", "keepalived_vip": "10.96.250.10",
		"hpe_nimble_csi_backend": "192.0.2.10", "hpe_nimble_csi_username": "admin", "hpe_nimble_csi_password": "nimble-secret",
		"portworx_pure_json": map[string]any{"FlashArrays": []any{}}, "portworx_pure_flasharray_san_type": "ISCSI",
		"storpool_csi_template": "hybrid", "ibm_block_csi_driver_management_address": "192.0.2.20",
		"ibm_block_csi_driver_username": "admin", "ibm_block_csi_driver_password": "ibm-secret",
		"ibm_block_csi_driver_pool": "pool0", "ibm_block_csi_driver_io_group": "0"}

	sshKey, err := secrets.GenerateSSHKey()
	if err != nil {
		panic(err)
	}
	s.Secret = func(name string) (string, error) {
		if strings.HasSuffix(name, "_ssh_key") {
			return sshKey, nil
		}
		return name + "-secret", nil
	}
	s.ClusterSecret = func(name, key string) (string, error) { return name + "-" + key, nil }
	return s
}

func TestEveryOwnValuesAndObjectsParse(t *testing.T) {
	for _, c := range components.Default().Components() {
		if !c.HasOwnValues() {
			continue
		}
		name := c.Name
		t.Run("values "+name, func(t *testing.T) {
			v, err := ownValuesOf(name, testSettings(), nil)
			if err != nil || len(v) == 0 {
				t.Errorf("OwnValues = %v, %v", v, err)
			}
		})
	}
	for _, c := range components.Default().Components() {
		if !c.HasObjects() {
			continue
		}
		name := c.Name
		t.Run("objects "+name, func(t *testing.T) {
			objs, err := objectsOf(name, testSettings())
			if err != nil || len(objs) == 0 {
				t.Fatalf("Objects = %d, %v", len(objs), err)
			}
			for i, o := range objs {
				if o.GetKind() == "" || o.GetAPIVersion() == "" || o.GetName() == "" {
					t.Errorf("object %d lacks kind, apiVersion or name: %v", i, o.Object)
				}
			}
		})
	}
}

func TestOverridesLayerOverOwnValues(t *testing.T) {
	s := &Stack{Config: components.DefaultSettings(), Overrides: map[string]values.Values{
		"loki": {"singleBinary": map[string]any{"replicas": 3}, "lokiCanary": nil},
	}}
	c, _ := components.Default().Get("loki")
	v, err := s.Values(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := values.Get(v, "singleBinary.replicas"); got != 3 {
		t.Errorf("override lost: %v", got)
	}
	if got, _ := values.Get(v, "singleBinary.persistence.size"); got != "256Gi" {
		t.Errorf("own value lost: %v", got)
	}
	if got, ok := values.Get(v, "lokiCanary"); !ok || got != nil {
		t.Errorf("null must stay to delete the chart default: %v %v", got, ok)
	}
}

func TestPasswordsAreRandomAndCreatedOnce(t *testing.T) {
	a, _ := objectsOf("percona-xtradb-cluster", components.DefaultSettings())
	b, _ := objectsOf("percona-xtradb-cluster", components.DefaultSettings())
	if !a[0].CreateOnly || a[0].GetKind() != "Secret" {
		t.Fatalf("first object %s create-only %v", a[0].GetKind(), a[0].CreateOnly)
	}
	pa, _ := values.Get(a[0].Object, "stringData.root")
	pb, _ := values.Get(b[0].Object, "stringData.root")
	if pa == pb || len(pa.(string)) != 32 {
		t.Errorf("passwords %q and %q", pa, pb)
	}
}

// A component whose chart is not in the catalogue fails before anything
// is applied or installed (the stack has no clients to touch anything).
func TestBadChartChangesNothing(t *testing.T) {
	s := &Stack{Config: components.DefaultSettings(), Charts: &charts.Loader{Catalog: charts.Default()}}
	c := &components.Component{Name: "valkey", Release: "valkey", Namespace: "openstack",
		Chart: &charts.Ref{Name: "valkey", Version: "0.0.0-missing"}}
	err := s.Deploy(context.Background(), c, components.Phase{Name: "install", Kind: components.Helm})
	if err == nil || !strings.Contains(err.Error(), "valkey@0.0.0-missing is not in the catalogue") {
		t.Errorf("err = %v", err)
	}
}

func TestKeycloakIngress(t *testing.T) {
	for _, tc := range []struct {
		name                 string
		vars                 map[string]any
		host, secret, issuer string
		err                  string
	}{
		{"from the domain", map[string]any{"openstack_helm_endpoints_keystone_api_host": "identity.cloud.example.com"},
			"keycloak.cloud.example.com", "keycloak.cloud.example.com-tls", "atmosphere", ""},
		{"set", map[string]any{"keycloak_host": "sso.example.com", "keycloak_host_tls_secret_name": "sso-tls", "keycloak_ingress_cluster_issuer": "letsencrypt"},
			"sso.example.com", "sso-tls", "letsencrypt", ""},
		{"nothing to derive it from", nil, "", "", "", "keycloak_host is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := components.DefaultSettings()
			s.Vars = tc.vars
			objs, err := objectsOf("keycloak", s)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Objects = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(objs) != 1 || !objs[0].AfterRelease || objs[0].GetKind() != "Ingress" {
				t.Fatalf("Objects = %v, %v", objs, err)
			}
			o := objs[0].Object
			host, _ := values.Get(o, "spec.rules")
			rules := host.([]any)
			tls := o["spec"].(map[string]any)["tls"].([]any)[0].(map[string]any)
			if rules[0].(map[string]any)["host"] != tc.host || tls["secretName"] != tc.secret ||
				objs[0].GetAnnotations()["cert-manager.io/cluster-issuer"] != tc.issuer {
				t.Errorf("Ingress = %v", o)
			}
		})
	}
}

// keystone's pods mount its OpenID metadata ConfigMap: it is there before
// the release, with the client of every domain; without the realm's
// discovery document (keystone:sso did not run: no fact) its provider is
// "{}" and it is only created when missing, so that a document an earlier
// run wrote stays (the document's path: components' and
// internal/keycloak's TestDiscoveryDocumentInTheConfigMap).
func TestKeystoneOpenIDMetadata(t *testing.T) {
	objs, err := objectsOf("keystone", testSettings())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() != "ConfigMap" || o.GetName() != "keystone-openid-metadata" {
			continue
		}
		if !o.CreateOnly || o.AfterRelease {
			t.Errorf("create-only %v, after the release %v: want it created once, before the release", o.CreateOnly, o.AfterRelease)
		}
		data, _ := o.Object["data"].(map[string]any)
		client, _ := data["atmosphere-oidc-client"].(string)
		if !strings.Contains(client, `"client_id":"keystone"`) || !strings.Contains(client, "keystone_keycloak_client_secret-secret") ||
			data["atmosphere-oidc-conf"] != `{"scope":"openid email profile"}` || data["atmosphere-oidc-provider"] != "{}" {
			t.Errorf("data = %v", data)
		}
		return
	}
	t.Errorf("no keystone-openid-metadata ConfigMap among %d objects", len(objs))
}

func TestCephMonitorsObjects(t *testing.T) {
	s := testSettings()
	s.Vars["ceph_csi_rbd_monitors"] = []any{"10.0.0.1", "10.0.0.2"}
	s.Vars["_ceph_provisioners_keyring"] = map[string]any{"key": "AQBadminkey=="}
	objs, err := objectsOf("ceph-provisioners", s)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]*manifest.Object{}
	for i := range objs {
		kinds[objs[i].GetKind()] = &objs[i]
	}
	if kinds["Service"] == nil || kinds["Endpoints"] == nil || kinds["Secret"] == nil {
		t.Fatalf("objects %v: want the monitors' Service and Endpoints and the client key", kinds)
	}
	subsets, _ := values.Get(kinds["Endpoints"].Object, "subsets")
	addrs := subsets.([]any)[0].(map[string]any)["addresses"].([]any)
	if len(addrs) != 2 || addrs[1].(map[string]any)["ip"] != "10.0.0.2" {
		t.Errorf("Endpoints addresses = %v", addrs)
	}
	if key, _ := values.Get(kinds["Secret"].Object, "stringData.key"); key != "AQBadminkey==" {
		t.Errorf("client key = %v", key)
	}
	// Without the facts: the Service alone, no invented key.
	objs, err = objectsOf("ceph-provisioners", testSettings())
	if err != nil || len(objs) != 1 || objs[0].GetKind() != "Service" {
		t.Errorf("without facts: %d objects, %v", len(objs), err)
	}
}

func TestManilaSSHKeys(t *testing.T) {
	objs, err := objectsOf("manila", testSettings())
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() != "Secret" || o.GetName() != "manila-ssh-keys" {
			continue
		}
		data, _ := o.Object["stringData"].(map[string]any)
		private, _ := data["id_rsa"].(string)
		public, _ := data["id_rsa.pub"].(string)
		signer, err := ssh.ParsePrivateKey([]byte(private))
		if err != nil {
			t.Fatalf("id_rsa: %v", err)
		}
		if want := string(ssh.MarshalAuthorizedKey(signer.PublicKey())); public != want {
			t.Errorf("id_rsa.pub = %q, want %q", public, want)
		}
		return
	}
	t.Errorf("no manila-ssh-keys Secret among %d objects", len(objs))
}

// TestNodeExporterConfig: kube_prometheus_stack_node_exporter_config
// becomes node-exporter's web configuration; without it the role's stays.
func TestNodeExporterConfig(t *testing.T) {
	webConfig := func(s components.Settings) any {
		t.Helper()
		v, err := ownValuesOf("kube-prometheus-stack", s, nil)
		if err != nil {
			t.Fatal(err)
		}
		found, _ := values.Get(v, "prometheus-node-exporter.extraManifests")
		manifests, _ := found.([]any)
		var cm struct {
			Data map[string]string `json:"data"`
		}
		if len(manifests) == 0 {
			t.Fatal("no extraManifests")
		}
		if err := yaml.Unmarshal([]byte(manifests[0].(string)), &cm); err != nil {
			t.Fatal(err)
		}
		var config any
		if err := yaml.Unmarshal([]byte(cm.Data["node-exporter.yml"]), &config); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cm.Data["certificate-template.yml"], "kind: Certificate") {
			t.Errorf("the certificate template is gone: %q", cm.Data["certificate-template.yml"])
		}
		return config
	}
	s := testSettings()
	def := webConfig(s)
	if tls, _ := def.(map[string]any)["tls_server_config"].(map[string]any); tls["min_version"] != "TLS13" {
		t.Errorf("default web config %v, want the role's TLS 1.3 one", def)
	}
	want := map[string]any{"tls_server_config": map[string]any{"cert_file": "/certs/tls.crt", "key_file": "/certs/tls.key", "min_version": "TLS12"},
		"http_server_config": map[string]any{"http2": false}}
	s.Vars["kube_prometheus_stack_node_exporter_config"] = want
	if got := webConfig(s); !reflect.DeepEqual(got, want) {
		t.Errorf("web config %v, want %v", got, want)
	}
}

// TestOctaviaTLSKnobs: the role's octavia_tls_* knobs name and size the
// amphorae's CAs and the controllers' certificate; a size that is not a
// number is refused naming the knob.
func TestOctaviaTLSKnobs(t *testing.T) {
	s := testSettings()
	s.Vars["octavia_tls_server_common_name"] = "amphora-server"
	s.Vars["octavia_tls_client_private_key_algorithm"] = "RSA"
	s.Vars["octavia_tls_client_private_key_size"] = 4096
	objs, err := objectsOf("octavia", s)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, o := range objs {
		if o.GetKind() != "Certificate" {
			continue
		}
		name, _, _ := unstructured.NestedString(o.Object, "spec", "commonName")
		algorithm, _, _ := unstructured.NestedString(o.Object, "spec", "privateKey", "algorithm")
		size, _, _ := unstructured.NestedFieldNoCopy(o.Object, "spec", "privateKey", "size")
		got[o.GetName()] = fmt.Sprintf("%s %s %v", name, algorithm, size)
	}
	want := map[string]string{"octavia-server-ca": "amphora-server ECDSA 256", "octavia-client-ca": "octavia-client RSA 4096",
		"octavia-client-certs": "octavia-client RSA 4096"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("certificates %v, want %v", got, want)
	}
	s.Vars["octavia_tls_server_private_key_size"] = "big"
	if _, err := objectsOf("octavia", s); err == nil || !strings.Contains(err.Error(), "octavia_tls_server_private_key_size") {
		t.Errorf("a size that is not a number: %v", err)
	}
}

// TestOctaviaSSHKeySecret: the amphorae's key Secret holds the private key
// and its public half; an inventory naming a Secret of its own gets none.
func TestOctaviaSSHKeySecret(t *testing.T) {
	find := func(s components.Settings) map[string]any {
		objs, err := objectsOf("octavia", s)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			if o.GetKind() == "Secret" && o.GetName() == "octavia-ssh-key" {
				data, _, _ := unstructured.NestedMap(o.Object, "stringData")
				return data
			}
		}
		return nil
	}
	s := testSettings()
	data := find(s)
	if data == nil {
		t.Fatal("no Secret octavia-ssh-key")
	}
	public, err := secrets.PublicKey(data["ssh-privatekey"].(string))
	if err != nil || data["ssh-authorizedkey"] != public+"\n" {
		t.Errorf("authorized key %q, want the private key's %q (%v)", data["ssh-authorizedkey"], public, err)
	}
	if got, err := components.AmphoraPublicKey(s); err != nil || got != public {
		t.Errorf("the set-up's public key %q (%v), want the Secret's %q", got, err, public)
	}
	s.Vars["octavia_ssh_key_secret"] = map[string]any{"resources": []any{map[string]any{"metadata": map[string]any{"name": "operators-key"}}}}
	if find(s) != nil {
		t.Error("a Secret made although the inventory names its own")
	}
	if got, err := components.AmphoraPublicKey(s); err != nil || got != "" {
		t.Errorf("the set-up's public key %q (%v) with the operator's own Secret, want none", got, err)
	}
}
