package components

import "time"

// perconaXtradbCluster declares percona-xtradb-cluster, with what it renders.
func perconaXtradbCluster() *Component {
	c := timeout(manifests("percona-xtradb-cluster", openstack, 91, needs("percona-xtradb-cluster-operator", "csi"), kubeAPI), 10*time.Minute)
	c.objects = perconaXtradbClusterObjects
	return c
}

// perconaXtradbClusterObjects are the objects percona-xtradb-cluster
// applies itself: the Secret of its users' generated passwords (created
// once, never changed), then the cluster and the Service of its haproxy's
// metrics (percona-xtradb-cluster.objects.yaml).
func perconaXtradbClusterObjects(Settings) ([]Object, error) {
	passwords := map[string]any{}
	for _, k := range []string{"clustercheck", "monitor", "operator", "proxyadmin", "replication", "root", "xtrabackup"} {
		p, err := password(32)
		if err != nil {
			return nil, err
		}
		passwords[k] = p
	}
	secret := object(map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata":   map[string]any{"name": "percona-xtradb"},
		"stringData": passwords,
	})
	secret.CreateOnly = true
	cluster, err := staticObjects("percona-xtradb-cluster")
	if err != nil {
		return nil, err
	}
	return append([]Object{secret}, cluster...), nil
}
