package components

// keepalived declares keepalived, with what it renders.
func keepalived() *Component {
	c := enabledWhen(manifests("keepalived", openstack, 4, needs("kubernetes"), nil), func(c Config) bool { return c.Keepalived })
	c.objects = keepalivedObjects
	return c
}

// keepalivedObjects are the objects keepalived applies itself.
func keepalivedObjects(Settings) (string, error) {
	return `
apiVersion: v1
kind: ServiceAccount
metadata:
  name: keepalived
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: keepalived
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: keepalived
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: keepalived
subjects:
  - kind: ServiceAccount
    name: keepalived
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: keepalived
spec:
  selector:
    matchLabels:
      application: keepalived
  template:
    metadata:
      labels:
        application: keepalived
    spec:
      serviceAccountName: keepalived
      hostNetwork: true
      nodeSelector:
        openstack-control-plane: enabled
      containers:
        - name: keepalived
          image: ghcr.io/vexxhost/keepalived:latest
          command: [keepalived, -f, /etc/keepalived/keepalived.conf, --dont-fork, --log-console]
          securityContext:
            capabilities:
              add: [NET_ADMIN, NET_BROADCAST, NET_RAW]
`, nil
}
