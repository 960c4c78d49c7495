package components

// cephProvisioners declares ceph-provisioners, with what it renders.
func cephProvisioners() *Component {
	c := withKinds(release("ceph-provisioners", "ceph-provisioners", openstack, chart("ceph-provisioners", "0.1.8"), 24, needs("ceph", "kubernetes"), kubeAPI), Manifest)
	c.valuesYAML = cephProvisionersValues
	c.objects = cephProvisionersObjects
	return c
}

// cephProvisionersValues are ceph-provisioners's own values for its chart.
func cephProvisionersValues(r *Render) string {
	c := r.ceph()
	return `
network:
  public: ` + inline(r.knob("ceph_provisioners_ceph_public_network", c.publicNetwork)) + `
  cluster: ` + inline(r.knob("ceph_provisioners_ceph_cluster_network", c.clusterNetwork)) + podLabels + `conf:
  ceph:
    global:
      fsid: ` + inline(c.fsid) + `
manifests:
  configmap_bin: false
  configmap_bin_common: false
  deployment_rbd_provisioner: false
  deployment_csi_rbd_provisioner: false
  deployment_cephfs_provisioner: false
  job_cephfs_client_key: false
  job_namespace_client_key_cleaner: false
  job_namespace_client_key: false
  storageclass: false
` + r.storage("ceph-provisioners")
}

// The Ceph monitors as a headless Service with their addresses (the
// ceph charts' clients find them by DNS), and the client.admin key the
// provisioners' PVCs use, as the ceph_provisioners role makes them.
func cephProvisionersObjects(s Settings) (string, error) {
	r := &Render{Settings: s}
	var addresses []any
	if list, ok := r.knob("_ceph_provisioners_ceph_monitors", nil).([]any); ok {
		addresses = list
	} else if list, ok := r.knob("ceph_csi_rbd_monitors", nil).([]any); ok {
		for _, ip := range list {
			addresses = append(addresses, map[string]any{"ip": ip})
		}
	}
	ports := func(withProtocol bool) []any {
		var out []any
		for _, p := range []struct {
			name string
			port int
		}{{"mon", 6789}, {"mon-msgr2", 3300}, {"metrics", 9283}} {
			m := map[string]any{"name": p.name, "port": p.port}
			if withProtocol {
				m["protocol"] = "TCP"
			} else {
				m["targetPort"] = p.port
			}
			out = append(out, m)
		}
		return out
	}
	docs := []map[string]any{{
		"apiVersion": "v1", "kind": "Service",
		"metadata": map[string]any{"name": "ceph-mon", "labels": map[string]any{"application": "ceph"}},
		"spec":     map[string]any{"clusterIP": "None", "ports": ports(false)},
	}}
	if len(addresses) > 0 {
		docs = append(docs, map[string]any{
			"apiVersion": "v1", "kind": "Endpoints",
			"metadata": map[string]any{"name": "ceph-mon", "labels": map[string]any{"application": "ceph"}},
			"subsets":  []any{map[string]any{"addresses": addresses, "ports": ports(true)}},
		})
	}
	if key, _ := r.fact("ceph-provisioners", "admin_key", "_ceph_provisioners_keyring.key").(string); key != "" {
		docs = append(docs, map[string]any{
			"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/rbd",
			"metadata":   map[string]any{"name": "pvc-ceph-client-key", "labels": map[string]any{"application": "ceph"}},
			"stringData": map[string]any{"key": key},
		})
	}
	return joinDocs(docs)
}
