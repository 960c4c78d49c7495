package components

import (
	"time"

	"sigs.k8s.io/yaml"
)

// perconaXtradbCluster declares percona-xtradb-cluster, with what it renders.
func perconaXtradbCluster() *Component {
	c := timeout(manifests("percona-xtradb-cluster", openstack, 91, needs("percona-xtradb-cluster-operator", "csi"), kubeAPI), 10*time.Minute)
	c.objects = perconaXtradbClusterObjects
	return c
}

// perconaXtradbClusterObjects are the objects percona-xtradb-cluster applies itself.
func perconaXtradbClusterObjects(Settings) (string, error) {
	passwords := map[string]string{}
	for _, k := range []string{"clustercheck", "monitor", "operator", "proxyadmin", "replication", "root", "xtrabackup"} {
		p, err := password(32)
		if err != nil {
			return "", err
		}
		passwords[k] = p
	}
	secret, err := yaml.Marshal(map[string]any{
		"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata":   map[string]any{"name": "percona-xtradb"},
		"stringData": passwords,
	})
	if err != nil {
		return "", err
	}
	return "#create-only\n" + string(secret) + `
---
apiVersion: pxc.percona.com/v1
kind: PerconaXtraDBCluster
metadata:
  name: percona-xtradb
spec:
  crVersion: "1.18.0"
  secretsName: percona-xtradb
  enableVolumeExpansion: true
  pxc:
    size: 3
    image: docker.io/percona/percona-xtradb-cluster:8.0.42-33.1
    autoRecovery: true
    configuration: |
      [mysqld]
      max_connections=8192
      innodb_buffer_pool_size=4096M
      skip-name-resolve
      pxc_strict_mode=MASTER
    nodeSelector:
      openstack-control-plane: enabled
    volumeSpec:
      persistentVolumeClaim:
        resources:
          requests:
            storage: 160Gi
  haproxy:
    enabled: true
    size: 3
    image: docker.io/percona/haproxy:2.8.15
    nodeSelector:
      openstack-control-plane: enabled
---
apiVersion: v1
kind: Service
metadata:
  name: percona-xtradb-haproxy-metrics
  labels:
    name: percona-xtradb-haproxy-metrics
spec:
  type: ClusterIP
  ports:
    - name: metrics
      port: 8404
      protocol: TCP
      targetPort: 8404
  selector:
    app.kubernetes.io/component: haproxy
    app.kubernetes.io/instance: percona-xtradb
`, nil
}
