package stack

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/components/manifest"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/secrets"
)

// objects are the Kubernetes objects each component applies itself (the
// manifest components, and the extra objects of Helm components, applied
// before the release as the roles do: the charts mount the secrets of
// these certificates), from atmosphere's roles (roles/<component>/tasks). A "#create-only"
// line before a document marks an object that is created once and never
// changed (generated passwords); "#after-release" one applied after the
// component's release (it needs what the chart creates).
var objects = map[string]func(Settings) (string, error){
	// The SSH key manila's share service reaches its share servers with,
	// mounted at /etc/manila/ssh-keys (id_rsa, id_rsa.pub), from
	// manila_ssh_key.
	"manila": func(s Settings) (string, error) {
		r := &Render{Settings: s}
		private := r.secret("manila_ssh_key")
		if private != "" && !strings.HasSuffix(private, "\n") {
			private += "\n"
		}
		public := r.sshPublicKey("_manila_ssh_publickey", private)
		if r.err != nil {
			return "", r.err
		}
		release, _ := r.knob("manila_helm_release_name", "manila").(string)
		raw, err := yaml.Marshal(map[string]any{
			"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
			"metadata":   map[string]any{"name": release + "-ssh-keys"},
			"stringData": map[string]any{"id_rsa": private, "id_rsa.pub": public + "\n"},
		})
		return string(raw), err
	},
	// The Ceph monitors as a headless Service with their addresses (the
	// ceph charts' clients find them by DNS), and the client.admin key the
	// provisioners' PVCs use, as the ceph_provisioners role makes them.
	"ceph-provisioners": func(s Settings) (string, error) {
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
	},
	"keystone":              keystoneOpenIDMetadata,
	"kube-prometheus-stack": kubePrometheusObjects,
	// keycloak's Ingress, made after its release as the role's ingress role
	// makes it: its host (keycloak_host, else keycloak.<the cloud's
	// domain>), TLS from the cluster issuer.
	"keycloak": func(s Settings) (string, error) {
		host := (&Render{Settings: s}).keycloakHost()
		if host == "" {
			return "", fmt.Errorf("keycloak_host is not set, and no domain to derive it from (openstack_helm_endpoints_keystone_api_host)")
		}
		secret := host + "-tls"
		if v, ok := s.Vars["keycloak_host_tls_secret_name"].(string); ok && v != "" {
			secret = v
		}
		class, issuer := s.IngressClass, s.ClusterIssuer
		if v, ok := s.Vars["keycloak_ingress_class_name"].(string); ok && v != "" {
			class = v
		}
		if v, ok := s.Vars["keycloak_ingress_cluster_issuer"].(string); ok && v != "" {
			issuer = v
		}
		// The ingress role's template names the host as the certificate's
		// common name.
		annotations := map[string]any{"cert-manager.io/cluster-issuer": issuer, "cert-manager.io/common-name": host}
		for _, key := range []string{"atmosphere_ingress_annotations", "keycloak_ingress_annotations"} {
			if m, ok := s.Vars[key].(map[string]any); ok {
				for k, v := range m {
					annotations[k] = v
				}
			}
		}
		raw, err := yaml.Marshal(annotations)
		if err != nil {
			return "", err
		}
		return `#after-release
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: keycloak
  annotations:
` + indentLines(string(raw), 4) + `spec:
  ingressClassName: ` + class + `
  rules:
    - host: ` + host + `
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: keycloak
                port:
                  number: 80
  tls:
    - secretName: ` + secret + `
      hosts:
        - ` + host + `
`, nil
	},
	"cluster-issuer": func(s Settings) (string, error) {
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
	},
	"valkey": func(Settings) (string, error) {
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
	},
	"libvirt": func(Settings) (string, error) {
		return caIssuer("libvirt-vnc", "libvirt", "libvirt-vnc-ca", "ECDSA", 256) + "\n---\n" +
			caIssuer("libvirt-api", "libvirt", "libvirt-api-ca", "ECDSA", 256), nil
	},
	// The amphorae's CAs and the controllers' client certificate, with the
	// role's octavia_tls_{server,client}_{common_name,private_key_*} knobs.
	"octavia": func(s Settings) (string, error) {
		r := &Render{Settings: s}
		tls := func(side string) (name, algorithm string, size int) {
			name, _ = r.knob("octavia_tls_"+side+"_common_name", "octavia-"+side).(string)
			algorithm, _ = r.knob("octavia_tls_"+side+"_private_key_algorithm", "ECDSA").(string)
			knob := r.knob("octavia_tls_"+side+"_private_key_size", 256)
			size, ok := wholeNumber(knob)
			if !ok {
				r.fail(fmt.Errorf("octavia_tls_%s_private_key_size: want a whole number, got %v", side, knob))
			}
			return name, algorithm, size
		}
		clientName, clientAlgorithm, clientSize := tls("client")
		serverName, serverAlgorithm, serverSize := tls("server")
		sshKey, err := octaviaSSHKey(r)
		if err != nil || r.err != nil {
			return "", errors.Join(err, r.err)
		}
		return caIssuer("octavia-client", clientName, "octavia-client-ca", clientAlgorithm, clientSize) + "\n---\n" +
			caIssuer("octavia-server", serverName, "octavia-server-ca", serverAlgorithm, serverSize) + fmt.Sprintf(`
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: octavia-client-certs
spec:
  commonName: %s
  secretName: octavia-client-certs
  additionalOutputFormats:
    - type: CombinedPEM
  duration: 87600h0m0s
  renewBefore: 720h0m0s
  privateKey:
    algorithm: %s
    size: %d
  issuerRef:
    name: octavia-client
    kind: Issuer
    group: cert-manager.io
`, inline(clientName), inline(clientAlgorithm), clientSize) + sshKey, nil
	},
	"magnum": magnumObjects,
	// The SSH keys networking-generic-switch logs in to the switches with
	// (neutron_genericswitch_keys: name and key), mounted at
	// /etc/neutron/ssh-keys; none without keys (pruned once they are gone).
	"neutron": func(s Settings) (string, error) {
		r := &Render{Settings: s}
		keys, _ := r.knob("neutron_genericswitch_keys", nil).([]any)
		if len(keys) == 0 {
			return "", nil
		}
		data := map[string]any{}
		for i, k := range keys {
			m, _ := k.(map[string]any)
			name, _ := m["name"].(string)
			key, _ := m["key"].(string)
			if name == "" || key == "" {
				return "", fmt.Errorf("neutron_genericswitch_keys[%d]: want a name and a key", i)
			}
			data[name] = base64.StdEncoding.EncodeToString([]byte(key))
		}
		release, _ := r.knob("neutron_helm_release_name", "neutron").(string)
		return joinDocs([]map[string]any{{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
			"metadata": map[string]any{"name": release + "-ssh-keys"}, "data": data}})
	},
	// The Service Prometheus scrapes memcached's exporter through.
	"memcached": func(s Settings) (string, error) {
		r := &Render{Settings: s}
		release, _ := r.knob("memcached_helm_release_name", "memcached").(string)
		labels := map[string]any{"application": "memcached", "component": "server"}
		doc, err := joinDocs([]map[string]any{{"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": release + "-metrics", "labels": labels},
			"spec": map[string]any{"selector": labels,
				"ports": []any{map[string]any{"name": "metrics", "protocol": "TCP", "port": 9150, "targetPort": 9150}}}}})
		return afterRelease(doc), err
	},
	// The keystone credentials of the RADOS gateway's service user (rgw),
	// which the CephObjectStore's keystone auth reads.
	"rook-ceph-cluster": func(s Settings) (string, error) {
		e := &endpointRender{Render: &Render{Settings: s}}
		name, _ := e.knob("rook_ceph_cluster_name", "ceph").(string)
		_, username, password := e.keystoneUser(rgwUser)
		doc := map[string]any{"apiVersion": "v1", "kind": "Secret",
			"metadata": map[string]any{"name": "rook-ceph-rgw-" + name + "-creds"},
			"stringData": map[string]any{
				"OS_AUTH_TYPE": "password", "OS_IDENTITY_API_VERSION": "3",
				"OS_USERNAME": username, "OS_PASSWORD": password,
				"OS_PROJECT_DOMAIN_NAME": "service", "OS_PROJECT_NAME": "service", "OS_USER_DOMAIN_NAME": "service",
			}}
		if e.err != nil {
			return "", e.err
		}
		return joinDocs([]map[string]any{doc})
	},
	"percona-xtradb-cluster": func(Settings) (string, error) {
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
	},
	"ipmi-exporter": func(Settings) (string, error) {
		return `
apiVersion: v1
kind: ConfigMap
metadata:
  name: ipmi-exporter
data:
  config.yml: |
    modules:
      default:
        collectors:
          - bmc
          - ipmi
          - chassis
          - dcmi
          - sel
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ipmi-exporter
  labels:
    application: ipmi-exporter
spec:
  selector:
    matchLabels:
      application: ipmi-exporter
  template:
    metadata:
      labels:
        application: ipmi-exporter
        job: ipmi
    spec:
      nodeSelector:
        openstack-compute-node: enabled
      containers:
        - name: exporter
          image: quay.io/prometheuscommunity/ipmi-exporter:v1.10.1
          args: ["--config.file", "/config.yml"]
          ports:
            - name: metrics
              containerPort: 9290
          securityContext:
            privileged: true
          volumeMounts:
            - {name: dev-ipmi0, mountPath: /dev/ipmi0}
            - {name: ipmi-exporter, mountPath: /config.yml, subPath: config.yml}
      volumes:
        - name: dev-ipmi0
          hostPath:
            path: /dev/ipmi0
        - name: ipmi-exporter
          configMap:
            name: ipmi-exporter
`, nil
	},
	"openstack-exporter": func(Settings) (string, error) {
		return `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: openstack-exporter
  labels:
    application: openstack-exporter
spec:
  replicas: 1
  selector:
    matchLabels:
      application: openstack-exporter
  template:
    metadata:
      labels:
        application: openstack-exporter
    spec:
      nodeSelector:
        openstack-control-plane: enabled
      containers:
        - name: openstack-exporter
          image: ghcr.io/openstack-exporter/openstack-exporter:1.7.0
          args: ["--endpoint-type", "internal", "default", "--collect-metric-time", "--disable-service.identity", "--disable-service.image", "--disable-metric=cinder-limits_volume_max_gb", "--disable-metric=cinder-limits_volume_used_gb", "--disable-metric=nova-limits_vcpus_max", "--disable-metric=nova-limits_vcpus_used", "--disable-metric=nova-server_status", "--disable-metric=nova-limits_memory_max", "--disable-metric=nova-limits_memory_used"]
          ports:
            - name: metrics
              containerPort: 9180
          env:
            - name: OS_COMPUTE_API_VERSION
              value: "2.87"
---
apiVersion: v1
kind: Service
metadata:
  name: openstack-exporter
  labels:
    application: openstack-exporter
spec:
  ports:
    - name: metrics
      port: 9180
      targetPort: metrics
  selector:
    application: openstack-exporter
`, nil
	},
	"keepalived": func(Settings) (string, error) {
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
	},
}

// caIssuer is a CA certificate signed by the self-signed ClusterIssuer and
// an Issuer named issuer that signs with it, as the roles create for the
// TLS of valkey, libvirt and octavia.
func caIssuer(issuer, commonName, secret, algorithm string, size int) string {
	return fmt.Sprintf(`apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: %[3]s
spec:
  commonName: %[2]q
  isCA: true
  duration: 87600h0m0s
  renewBefore: 720h0m0s
  privateKey:
    algorithm: %[4]s
    size: %[5]d
  issuerRef:
    group: cert-manager.io
    kind: ClusterIssuer
    name: self-signed
  secretName: %[3]s
---
apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: %[1]s
spec:
  ca:
    secretName: %[3]s
`, issuer, commonName, secret, algorithm, size)
}

// rabbitmqClusters are the components whose charts talk to a RabbitMQ of
// their own, rabbitmq-<chart>, which atmosphere's endpoints role makes
// before their release (the Secret of its default user gives the chart's
// values their message-queue user).
var rabbitmqClusters = map[string]string{
	"barbican": "barbican", "cinder": "cinder", "glance": "glance", "heat": "heat", "keystone": "keystone",
	"magnum": "magnum", "manila": "manila", "neutron": "neutron", "nova": "nova", "octavia": "octavia",
}

// rabbitmqCluster is the RabbitmqCluster of a chart, as atmosphere's
// rabbitmq role makes it, with the inventory's <chart>_rabbitmq_spec laid
// over the spec.
func rabbitmqCluster(s Settings, chart string) (string, error) {
	r := &Render{Settings: s}
	spec := r.parse(`
delayStartSeconds: 0
image: ` + inline(r.image("rabbitmq_server").String()) + `
affinity: ` + inline(controlPlaneAffinity) + `
override: {}
persistence:
  storage: 10Gi
rabbitmq:
  additionalConfig: |
    deprecated_features.permit.management_metrics_collection = true
    vm_memory_high_watermark.relative = 0.9
replicas: 1
resources:
  requests:
    cpu: 500m
    memory: 1Gi
secretBackend:
  externalSecret:
    name: ""
service:
  type: ClusterIP
terminationGracePeriodSeconds: 15
tls: {}
`)
	if r.err != nil {
		return "", r.err
	}
	spec = values.Merge(spec, r.mapKnob(chart+"_rabbitmq_spec"))
	raw, err := yaml.Marshal(map[string]any{
		"apiVersion": "rabbitmq.com/v1beta1", "kind": "RabbitmqCluster",
		"metadata": map[string]any{"name": "rabbitmq-" + chart}, "spec": spec,
	})
	return string(raw), err
}

// Objects returns the objects a component applies itself (none for most).
func Objects(component string, s Settings) ([]manifest.Object, error) {
	f, ok := objects[component]
	chart, rabbit := rabbitmqClusters[component]
	_, ingress := publicIngresses[component]
	if !ok && !rabbit && !ingress {
		return nil, nil
	}
	var text string
	if ok {
		var err error
		if text, err = f(s); err != nil {
			return nil, err
		}
	}
	if rabbit {
		doc, err := rabbitmqCluster(s, chart)
		if err != nil {
			return nil, fmt.Errorf("RabbitMQ cluster of %s: %w", component, err)
		}
		text = doc + "\n---\n" + text
	}
	if ingress {
		docs, err := ingressDocs(s, component)
		if err != nil {
			return nil, err
		}
		text += "\n---\n" + docs
	}
	var out []manifest.Object
	for i, doc := range strings.Split(text, "\n---\n") {
		createOnly := strings.Contains(doc, "#create-only\n")
		after := strings.Contains(doc, "#after-release\n")
		var m map[string]any
		if err := yaml.Unmarshal([]byte(doc), &m); err != nil {
			return nil, fmt.Errorf("%s object %d: %w", component, i, err)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, manifest.Object{Unstructured: &unstructured.Unstructured{Object: m}, CreateOnly: createOnly, AfterRelease: after})
	}
	return out, nil
}

// octaviaSSHKey is the Secret of the amphorae's SSH key (octavia_ssh_key
// from the secrets store: the private key and its authorized_keys line,
// under the names secretgen-controller's SSHKey gives them), which
// octavia's worker mounts and whose public half the set-up makes the
// amphorae's keypair of; none when the inventory names a Secret of its
// own (octavia_ssh_key_secret). The role's generate_resources.yml, which
// makes it there, is not in ../shared.
func octaviaSSHKey(r *Render) (string, error) {
	private, public, err := amphoraKey(r)
	if err != nil || private == "" {
		return "", err
	}
	doc, err := joinDocs([]map[string]any{{"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
		"metadata":   map[string]any{"name": "octavia-ssh-key"},
		"stringData": map[string]any{"ssh-privatekey": private, "ssh-authorizedkey": public + "\n"}}})
	return "\n---\n" + doc, err
}

// amphoraKey is the amphorae's SSH key, octavia_ssh_key, and its public
// half; both empty when the inventory names a Secret of its own
// (octavia_ssh_key_secret).
func amphoraKey(r *Render) (private, public string, err error) {
	if name, _ := r.fact("octavia", "ssh_key_secret", "octavia_ssh_key_secret.resources.0.metadata.name").(string); name != "" {
		return "", "", nil
	}
	private = r.secret("octavia_ssh_key")
	if r.err != nil {
		return "", "", r.err
	}
	if public, err = secrets.PublicKey(private); err != nil {
		return "", "", fmt.Errorf("octavia_ssh_key: %w", err)
	}
	return private, public, nil
}

// AmphoraPublicKey is the public half of the key octavia's objects put in
// the octavia-ssh-key Secret, which the set-up makes the amphorae's
// keypair of; empty when the inventory names a Secret of its own.
func (s *Stack) AmphoraPublicKey() (string, error) {
	_, public, err := amphoraKey(&Render{Settings: s.Config})
	return public, err
}

// joinDocs is the YAML stream of docs.
func joinDocs(docs []map[string]any) (string, error) {
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		raw, err := yaml.Marshal(d)
		if err != nil {
			return "", err
		}
		out = append(out, string(raw))
	}
	return strings.Join(out, "\n---\n"), nil
}

// afterRelease marks every document of a YAML stream "#after-release".
func afterRelease(stream string) string {
	docs := strings.Split(stream, "\n---\n")
	for i, d := range docs {
		docs[i] = "#after-release\n" + d
	}
	return strings.Join(docs, "\n---\n")
}

// convert decodes an inventory value into out (a struct with json tags),
// refusing unknown fields.
func convert(v any, out any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(out)
}

// indentLines indents every line of s by n spaces.
func indentLines(s string, n int) string {
	pad := strings.Repeat(" ", n)
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString(pad + line)
		}
	}
	return b.String()
}

// password returns n random letters and digits.
func password(n int) (string, error) {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		if _, err := rand.Read(buf); err != nil {
			return "", fmt.Errorf("random password: %w", err)
		}
		for _, b := range buf {
			// 248 = 4*62: rejecting the rest keeps every letter equally likely.
			if b < 248 && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
