package components

// clusterIssuer declares cluster-issuer, with what it renders.
func clusterIssuer() *Component {
	c := manifests("cluster-issuer", "cert-manager", 11, needs("cert-manager"), nil)
	c.objects = clusterIssuerObjects
	return c
}

// clusterIssuerObjects are the objects cluster-issuer applies itself: the
// self-signed ClusterIssuer and the root CA it signs
// (cluster-issuer.objects.yaml), then the cluster's ClusterIssuer, which
// signs with that CA.
func clusterIssuerObjects(s Settings) ([]Object, error) {
	objs, err := staticObjects("cluster-issuer")
	if err != nil {
		return nil, err
	}
	return append(objs, object(map[string]any{"apiVersion": "cert-manager.io/v1", "kind": "ClusterIssuer",
		"metadata": map[string]any{"name": s.ClusterIssuer},
		"spec":     map[string]any{"ca": map[string]any{"secretName": "root-secret"}}})), nil
}
