package components

// clusterIssuer declares cluster-issuer, with what it renders.
func clusterIssuer() *Component {
	c := manifests("cluster-issuer", "cert-manager", 11, needs("cert-manager"), nil)
	c.objects = clusterIssuerObjects
	return c
}

// clusterIssuerObjects are the objects cluster-issuer applies itself.
func clusterIssuerObjects(s Settings) (string, error) {
	return `
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: self-signed
spec:
  selfSigned: {}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: self-signed-ca
  namespace: cert-manager
spec:
  isCA: true
  commonName: selfsigned-ca
  secretName: root-secret
  duration: 86400h
  renewBefore: 360h
  privateKey:
    algorithm: ECDSA
    size: 256
  issuerRef:
    name: self-signed
    kind: ClusterIssuer
    group: cert-manager.io
---
apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: ` + s.ClusterIssuer + `
spec:
  ca:
    secretName: root-secret
`, nil
}
