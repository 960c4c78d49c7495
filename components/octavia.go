package components

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vexxhost/atmosphere-go/internal/sshkey"
)

// octavia declares octavia, with what it renders. Octavia's and manila's
// values carry the IDs of what their set-up makes (network, security
// groups, ports, flavor, image), so their set-up comes before the chart,
// and starts as soon as nova, neutron and glance (or cinder) are set up.
func octavia() *Component {
	c := withCatalog(before(withKinds(release("octavia", "octavia", openstack, chart("octavia", "0.2.9"), 289, needs("keystone", "valkey", rabbitmq), kubeAPI), Manifest),
		setup(89, "nova", "neutron", "glance")))
	c.valuesYAML = octaviaValues
	c.objects = octaviaObjects
	c.ingresses = []publicIngress{{"load_balancer", "octavia_api_host", "octavia-api", 9876, nil, "octavia"}}
	c.rabbitMQCluster = "octavia"
	return c
}

// octaviaValues are octavia's own values for its chart.
func octaviaValues(r *Render) string {
	// The Secret of the amphorae's SSH key (the role looks it up on
	// the cluster; octavia-ssh-key, as the keypair, when not given).
	sshKeySecret := r.fact("octavia", "ssh_key_secret", "octavia_ssh_key_secret.resources.0.metadata.name")
	if sshKeySecret == "" {
		sshKeySecret = "octavia-ssh-key"
	}
	jobboardDefault, _ := r.knob("octavia_jobboard_default_secret_name", "valkey-server-certs").(string)
	jobboardSentinel, _ := r.knob("octavia_jobboard_sentinel_secret_name", "valkey-server-certs").(string)
	type mount struct{ name, path, secret string }
	server := mount{"octavia-server-ca", "/etc/octavia/certs/server", "octavia-server-ca"}
	client := mount{"octavia-client-certs", "/etc/octavia/certs/client", "octavia-client-certs"}
	jbDefault := mount{"octavia-jobboard-default-ca", "/etc/octavia/certs/jobboard-default", jobboardDefault}
	jbSentinel := mount{"octavia-jobboard-sentinel-ca", "/etc/octavia/certs/jobboard-sentinel", jobboardSentinel}
	// Each service mounts the certificates; the worker also the
	// amphorae's SSH key. The lists' order is the role's.
	mounts := func(ms, vs []mount, sshKey bool) map[string]any {
		var vm, vol []any
		for _, m := range ms {
			vm = append(vm, map[string]any{"name": m.name, "mountPath": m.path})
		}
		for _, m := range vs {
			vol = append(vol, map[string]any{"name": m.name, "secret": map[string]any{"secretName": m.secret}})
		}
		if sshKey {
			vm = append(vm, map[string]any{"name": "octavia-amphora-ssh-key", "mountPath": "/var/lib/octavia/.ssh", "readOnly": true})
			vol = append(vol, map[string]any{"name": "octavia-amphora-ssh-key", "secret": map[string]any{
				"secretName": sshKeySecret, "defaultMode": 0o444}})
		}
		return map[string]any{"volumeMounts": vm, "volumes": vol}
	}
	usual := []mount{server, client, jbDefault, jbSentinel}
	controller := func(key, path string) string {
		return "\n      " + key + ": " + inline(r.fact("octavia", key, path))
	}
	return `
# The chart's Jobs as Helm hooks (openstack-helm review 965887).
helm3_hook: true` + r.openstackHelm("octavia") + podLabels + `  mounts:
    octavia_api:
      octavia_api: ` + inline(mounts(usual, usual, false)) + `
    octavia_worker:
      octavia_worker: ` + inline(mounts([]mount{server, jbDefault, jbSentinel, client}, []mount{jbDefault, jbSentinel, server, client}, true)) + `
    octavia_housekeeping:
      octavia_housekeeping: ` + inline(mounts(usual, usual, false)) + `
    octavia_health_manager:
      octavia_health_manager: ` + inline(mounts(usual, usual, false)) + `
  replicas:
    api: 3
    worker: 3
    housekeeping: 3
conf:
  octavia:
    DEFAULT:
      log_config_append: null
    api_settings:
      default_provider_driver: amphorav2
      enabled_provider_drivers: "amphorav2:'The v2 amphora driver.',amphora:'The Octavia Amphora driver.',octavia:'Deprecated name of Amphora driver.'"
    certificates:
      ca_certificate: /etc/octavia/certs/server/ca.crt
      ca_private_key: /etc/octavia/certs/server/tls.key
      ca_private_key_passphrase: null
      endpoint_type: internalURL
    cinder:
      endpoint_type: internalURL
    controller_worker:` +
		controller("amp_boot_network_list", "_octavia_management_network.id") +
		controller("amp_flavor_id", "_octavia_amphora_flavor.flavor.id") +
		controller("amp_image_owner_id", "_octavia_amphora_image.images.0.owner") +
		controller("amp_secgroup_list", "_octavia_amphora_sg.security_group.id") +
		controller("amp_ssh_key_name", "octavia_amphora_ssh_keypair.keypair.name") + `
      client_ca: /etc/octavia/certs/client/ca.crt
      volume_driver: volume_cinder_driver
      workers: 4` + database + `
    glance:
      endpoint_type: internalURL
    haproxy_amphora:
      client_cert: /etc/octavia/certs/client/tls-combined.pem
      server_ca: /etc/octavia/certs/server/ca.crt
    health_manager:
      controller_ip_port_list: ` + inline(r.healthManagers()) + `
      heartbeat_key: ` + inline(r.secret("octavia_heartbeat_key")) + `
    oslo_messaging_notifications:
      driver: noop
    neutron:
      endpoint_type: internalURL
      valid_interfaces: internal
    nova:
      endpoint_type: internalURL
    service_auth:
      endpoint_type: internalURL
    task_flow:
      jobboard_expiration_time: 100
      jobboard_redis_sentinel: atmosphere
      jobboard_redis_backend_ssl_options: ssl:True,ssl_keyfile:/etc/octavia/certs/jobboard-default/tls.key,ssl_certfile:/etc/octavia/certs/jobboard-default/tls.crt,ssl_ca_certs:/etc/octavia/certs/jobboard-default/ca.crt,ssl_cert_reqs:required
      jobboard_redis_sentinel_ssl_options: ssl:True,ssl_keyfile:/etc/octavia/certs/jobboard-sentinel/tls.key,ssl_certfile:/etc/octavia/certs/jobboard-sentinel/tls.crt,ssl_ca_certs:/etc/octavia/certs/jobboard-sentinel/ca.crt,ssl_cert_reqs:required` + rabbitPolicy("octavia") + `
` + noChartIngress
}

// The amphorae's CAs and the controllers' client certificate, with the
// role's octavia_tls_{server,client}_{common_name,private_key_*} knobs.
func octaviaObjects(s Settings) (string, error) {
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
}

// healthManagers are octavia's health managers' addresses, sorted and
// joined: the set-up's fact, else the inventory's
// _octavia_controller_ip_port_list.
func (r *Render) healthManagers() string {
	if r.Facts != nil {
		if v, ok := r.Facts("octavia")["controller_ip_port_list"]; ok {
			list := strings.Split(v, ",")
			slices.Sort(list)
			return strings.Join(list, ",")
		}
	}
	var list []string
	if xs, ok := r.knob("_octavia_controller_ip_port_list", nil).([]any); ok {
		for _, x := range xs {
			if s, ok := x.(string); ok {
				list = append(list, s)
			}
		}
	}
	slices.Sort(list)
	return strings.Join(list, ",")
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
	if public, err = sshkey.PublicKey(private); err != nil {
		return "", "", fmt.Errorf("octavia_ssh_key: %w", err)
	}
	return private, public, nil
}

// AmphoraPublicKey is the public half of the key octavia's objects put in
// the octavia-ssh-key Secret, which the set-up makes the amphorae's
// keypair of; empty when the inventory names a Secret of its own.
func AmphoraPublicKey(s Settings) (string, error) {
	_, public, err := amphoraKey(&Render{Settings: s})
	return public, err
}
