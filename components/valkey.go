package components

import "github.com/vexxhost/atmosphere-go/components/values"

// The knobs valkey reads (roles/valkey/defaults/main.yml).
var (
	valkeyKnobs                       = knobsOf("valkey")
	valkeyHelmReleaseName             = valkeyKnobs.str("valkey_helm_release_name", "valkey")
	valkeyServerCertificateSecretName = valkeyKnobs.str("valkey_server_certificate_secret_name", "") // <release>-server-certs
)

// valkey declares valkey, with what it renders.
func valkey() *Component {
	c := withKinds(release("valkey", "valkey", openstack, chart("valkey"), 8, needs("csi", "cluster-issuer"), kubeAPI), Manifest)
	c.values = valkeyValues
	c.objects = valkeyObjects
	return c
}

// valkeyValues are valkey's own values for its chart: its static values
// with the images and the server certificate's Secret.
func valkeyValues(r *Render) values.Values {
	release := valkeyHelmReleaseName.get(r)
	return merge(r.static("valkey"), values.Values{
		"image":    r.bitnamiImage("valkey"),
		"sentinel": map[string]any{"image": r.bitnamiImage("valkey_sentinel")},
		"tls":      map[string]any{"existingSecret": orDefault(r, valkeyServerCertificateSecretName, release+"-server-certs")},
		"metrics":  map[string]any{"image": r.bitnamiImage("redis_exporter")},
	})
}

// valkeyObjects are the objects valkey applies itself: its CA and Issuer,
// then the server certificate that Issuer signs (valkey.objects.yaml).
func valkeyObjects(Settings) ([]Object, error) {
	server, err := staticObjects("valkey")
	if err != nil {
		return nil, err
	}
	return append(caIssuer("valkey", "valkey-ca", "valkey-ca", "RSA", 2048), server...), nil
}
