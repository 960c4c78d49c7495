package components

// valkey declares valkey, with what it renders.
func valkey() *Component {
	c := withKinds(release("valkey", "valkey", openstack, chart("valkey", "2.4.6"), 8, needs("csi", "cluster-issuer"), kubeAPI), Manifest)
	c.valuesYAML = valkeyValues
	c.objects = valkeyObjects
	return c
}

// valkeyValues are valkey's own values for its chart.
func valkeyValues(r *Render) string {
	release, _ := r.knob("valkey_helm_release_name", "valkey").(string)
	return `
global:
  security:
    # atmosphere's own image repository.
    allowInsecureImages: true
image:` + r.bitnami("valkey", 2) + `
auth:
  # TLS client certificates authenticate and encrypt instead of passwords.
  enabled: false
  sentinel: false
replica:
  nodeSelector:
    openstack-control-plane: enabled
  podAntiAffinityPreset: hard
  resources:
    requests: {cpu: 500m, memory: 512Mi}
    limits: {cpu: 1000m, memory: 1024Mi}
sentinel:
  enabled: true
  image:` + r.bitnami("valkey_sentinel", 4) + `
  primarySet: atmosphere
tls:
  enabled: true
  existingSecret: ` + inline(r.knob("valkey_server_certificate_secret_name", release+"-server-certs")) + `
  certFilename: tls.crt
  certKeyFilename: tls.key
  certCAFilename: ca.crt
metrics:
  enabled: true
  image:` + r.bitnami("redis_exporter", 4) + `
primary:
  resources:
    requests: {cpu: 500m, memory: 512Mi}
    limits: {cpu: 1000m, memory: 1024Mi}
`
}

// valkeyObjects are the objects valkey applies itself.
func valkeyObjects(Settings) (string, error) {
	return caIssuer("valkey", "valkey-ca", "valkey-ca", "RSA", 2048) + `
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: valkey-server
spec:
  commonName: valkey
  dnsNames:
    - 127.0.0.1
    - localhost
    - valkey.openstack.svc.cluster.local
    - "*.valkey.openstack.svc.cluster.local"
    - valkey-headless.openstack.svc.cluster.local
    - "*.valkey-headless.openstack.svc.cluster.local"
  duration: 87600h0m0s
  renewBefore: 720h0m0s
  issuerRef:
    group: cert-manager.io
    kind: Issuer
    name: valkey
  privateKey:
    algorithm: RSA
    size: 2048
  secretName: valkey-server-certs
`, nil
}
