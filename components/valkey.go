package components

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// The knobs valkey reads (roles/valkey/defaults/main.yml). The names the
// role derives from the release's name default to the same derivation
// (valkeyNames).
var (
	valkeyKnobs                       = knobsOf("valkey")
	valkeyHelmReleaseName             = valkeyKnobs.str("valkey_helm_release_name", "valkey")
	valkeyCACertificateName           = valkeyKnobs.str("valkey_ca_certificate_name", "") // <release>-ca
	valkeyCACertificateCommonName     = valkeyKnobs.str("valkey_ca_certificate_common_name", "valkey-ca")
	valkeyCACertificateSecretName     = valkeyKnobs.str("valkey_ca_certificate_secret_name", "") // the CA certificate's name
	valkeyIssuerName                  = valkeyKnobs.str("valkey_issuer_name", "")                // <release>
	valkeyServerCertificateName       = valkeyKnobs.str("valkey_server_certificate_name", "")    // <release>-server
	valkeyServerCertificateCommonName = valkeyKnobs.str("valkey_server_certificate_common_name", "valkey")
	valkeyServerCertificateSecretName = valkeyKnobs.str("valkey_server_certificate_secret_name", "") // <server certificate>-certs
)

// valkeyNames are the names of valkey's TLS objects, as the role's
// defaults derive them: each knob's value when the inventory sets it,
// else derived from the release's name (and the certificate's name, for
// its Secret).
type valkeyNames struct {
	release, caCertificate, caCommonName, caSecret, issuer, server, serverCommonName, serverSecret string
}

func valkeyNamesOf(r *Render) valkeyNames {
	n := valkeyNames{release: valkeyHelmReleaseName.get(r)}
	n.caCertificate = orDefault(r, valkeyCACertificateName, n.release+"-ca")
	n.caCommonName = valkeyCACertificateCommonName.get(r)
	n.caSecret = orDefault(r, valkeyCACertificateSecretName, n.caCertificate)
	n.issuer = orDefault(r, valkeyIssuerName, n.release)
	n.server = orDefault(r, valkeyServerCertificateName, n.release+"-server")
	n.serverCommonName = valkeyServerCertificateCommonName.get(r)
	n.serverSecret = orDefault(r, valkeyServerCertificateSecretName, n.server+"-certs")
	return n
}

// valkey declares valkey, with what it renders.
func valkey() *Component {
	c := withKinds(release("valkey", "valkey", openstack, chart("valkey"), 8, withStorage("cluster-issuer"), kubeAPI), Manifest)
	c.values = valkeyValues
	c.objects = valkeyObjects
	return c
}

// valkeyValues are valkey's own values for its chart: its static values
// with the images and the server certificate's Secret.
func valkeyValues(r *Render) values.Values {
	return merge(r.static("valkey"), values.Values{
		"image":    r.bitnamiImage("valkey"),
		"sentinel": map[string]any{"image": r.bitnamiImage("valkey_sentinel")},
		"tls":      map[string]any{"existingSecret": valkeyNamesOf(r).serverSecret},
		"metrics":  map[string]any{"image": r.bitnamiImage("redis_exporter")},
	})
}

// valkeyObjects are the objects valkey applies itself: its CA and Issuer,
// then the server certificate that Issuer signs (valkey.objects.yaml),
// named by the valkey_*_name knobs; the server certificate's DNS names are
// the release's Services in the openstack namespace, as the role's.
func valkeyObjects(s Settings) ([]Object, error) {
	r := &Render{Settings: s}
	n := valkeyNamesOf(r)
	if r.err != nil {
		return nil, fmt.Errorf("valkey's TLS objects: %w", r.err)
	}
	server, err := staticObjects("valkey")
	if err != nil {
		return nil, err
	}
	if len(server) != 1 || server[0].GetKind() != "Certificate" {
		return nil, fmt.Errorf("valkey.objects.yaml: want the server Certificate alone, got %d objects", len(server))
	}
	ca := caIssuer(n.issuer, n.caCommonName, n.caSecret, "RSA", 2048)
	ca[0].SetName(n.caCertificate)
	cert := server[0]
	cert.SetName(n.server)
	var dnsNames []any
	for _, name := range []string{"127.0.0.1", "localhost"} {
		dnsNames = append(dnsNames, name)
	}
	for _, svc := range []string{n.release, n.release + "-headless"} {
		host := svc + "." + openstack + ".svc.cluster.local"
		dnsNames = append(dnsNames, host, "*."+host)
	}
	for _, f := range []struct {
		value any
		path  []string
	}{
		{n.serverCommonName, []string{"spec", "commonName"}},
		{dnsNames, []string{"spec", "dnsNames"}},
		{n.issuer, []string{"spec", "issuerRef", "name"}},
		{n.serverSecret, []string{"spec", "secretName"}},
	} {
		if err := unstructured.SetNestedField(cert.Object, f.value, f.path...); err != nil {
			return nil, fmt.Errorf("valkey's server Certificate: %w", err)
		}
	}
	return append(ca, cert), nil
}

func init() { valkeyKnobs.check(checkValkeyOctavia) }

// checkValkeyOctavia finds a server certificate Secret of valkey's that
// octavia's jobboard does not read: octavia_jobboard_default_secret_name
// and octavia_jobboard_sentinel_secret_name name valkey's Secret on their
// own (valkey-server-certs by default, as the roles'), so that an inventory
// renaming one and not the others would deploy an octavia that cannot
// reach valkey; it is refused, naming what to set.
func checkValkeyOctavia(vars map[string]any) []KnobProblem {
	str := func(k knob[string], def string) string {
		if v := k.in(vars); v != "" {
			return v
		}
		return def
	}
	release := valkeyHelmReleaseName.in(vars)
	secret := str(valkeyServerCertificateSecretName, str(valkeyServerCertificateName, release+"-server")+"-certs")
	var out []KnobProblem
	for _, k := range []knob[string]{octaviaJobboardDefaultSecretName, octaviaJobboardSentinelSecretName} {
		if got := k.in(vars); got != secret {
			out = append(out, KnobProblem{Key: k.name, Message: fmt.Sprintf(
				"octavia's jobboard reads valkey's server certificate from Secret %q, but valkey's is %q (valkey_server_certificate_secret_name, else named after valkey_server_certificate_name or valkey_helm_release_name): set %s to %q",
				got, secret, k.name, secret)})
		}
	}
	return out
}
