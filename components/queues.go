package components

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vexxhost/atmosphere-go/components/values"
)

// The phases of a component with a RabbitMQ cluster of its own
// (withRabbitMQ), before its install phase.
const (
	// PhaseRabbitMQ applies the component's RabbitMQ cluster and waits
	// until it is ready: a manifest phase of its own, so that the queue
	// phase can reach the cluster before the chart is installed.
	PhaseRabbitMQ = "rabbitmq"
	// PhaseQueue makes the service's user, virtual host, permissions and
	// policies in that cluster: the chart's rabbit-init Job's work, done
	// natively, which is why ReleaseValues turns that Job off.
	PhaseQueue = "queue"
)

// rabbitJobs make a chart's RabbitMQ user and virtual host
// ("nova-rabbit-init"); the queue phase does their work.
var rabbitJobs = chartJobs{"job_rabbit_init", []string{"-rabbit-init"}}

// withRabbitMQ gives the component the RabbitMQ cluster rabbitmq-<chart>,
// as atmosphere's rabbitmq role makes it for the chart, and the two phases
// that make it ready for the chart's pods, first of all its phases:
// PhaseRabbitMQ (the cluster, once the operator is there and a storage
// provider has made the default StorageClass its persistence claims) and
// PhaseQueue (the service's user and virtual host in it, once the Percona
// XtraDB cluster's Secret its release's values read is there). They need
// nothing of the component's other phases (no catalog entry, no database,
// no set-up fact), so none of those waits for them nor they for those
// (#25, docs/edges.md). The install phase no longer needs the operator
// itself: its phases run in order.
func withRabbitMQ(c *Component, chart string) *Component {
	c.rabbitMQCluster = chart
	at := slices.IndexFunc(c.Phases, func(p Phase) bool { return p.Name == "install" })
	install := &c.Phases[at]
	install.Needs = slices.DeleteFunc(slices.Clone(install.Needs), func(n string) bool { return n == rabbitmq })
	// The cluster's persistence names no class: its claim takes the
	// cluster's default StorageClass, general, which a storage provider
	// makes.
	cluster := Phase{Name: PhaseRabbitMQ, Kind: Manifest, Needs: withStorage(rabbitmq), Resources: kubeAPI, Estimate: s(8)}
	// The queue phase reads its grants from the release's values, which
	// read the Percona XtraDB cluster's root password from its Secret.
	queue := Phase{Name: PhaseQueue, Kind: Queue, Needs: needs("percona-xtradb-cluster"), Estimate: s(1)}
	install.Estimate -= cluster.Estimate + queue.Estimate
	c.Phases = slices.Insert(c.Phases, 0, cluster, queue)
	for _, k := range []Kind{Manifest, Queue} {
		if !slices.Contains(c.Kinds, k) {
			c.Kinds = append(c.Kinds, k)
		}
	}
	return c
}

// QueueGrant is what a service needs in its RabbitMQ cluster, read from
// its release's values as the chart's rabbit-init Job reads them
// (helm-toolkit's job_rabbit_init): the administrator and the service's
// user of endpoints.oslo_messaging, the virtual host of its path, the
// management port, and the chart's conf.rabbitmq.policies.
type QueueGrant struct {
	// Cluster is the cluster's name (its Service's), Namespace its
	// namespace.
	Cluster, Namespace string
	// ManagementPort is where the management API answers on the
	// cluster's Service.
	ManagementPort int
	// AdminUser and AdminPassword are the cluster's administrator (its
	// operator's default user).
	AdminUser, AdminPassword string
	// User and Password are the service's user, Vhost its virtual host.
	User, Password, Vhost string
	// Policies are the chart's policies, as its values give them (vhost,
	// name, pattern, definition, priority, apply-to).
	Policies []map[string]any
}

// QueueGrants returns what the component's queue phase makes, read from
// the values its release is deployed with over its chart's defaults
// (effective): none for a component without a queue phase.
func (c *Component) QueueGrants(effective values.Values) ([]QueueGrant, error) {
	if _, ok := c.Phase(PhaseQueue); !ok {
		return nil, nil
	}
	mq, ok := values.Get(effective, "endpoints.oslo_messaging")
	if m, isMap := mq.(map[string]any); !ok || !isMap || len(m) == 0 {
		return nil, fmt.Errorf("%s: the chart's values have no RabbitMQ endpoint (endpoints.oslo_messaging)", c.Name)
	}
	get := func(path string) string {
		v, _ := values.Get(mq.(map[string]any), path)
		if v == nil {
			return ""
		}
		return fmt.Sprint(v)
	}
	user := c.rabbitMQCluster // helm-toolkit's serviceName: the chart's
	g := QueueGrant{
		Cluster: get("hosts.default"), Namespace: get("namespace"),
		AdminUser: get("auth.admin.username"), AdminPassword: get("auth.admin.password"),
		User: get("auth." + user + ".username"), Password: get("auth." + user + ".password"),
		Vhost: strings.TrimPrefix(endpointPath(mq.(map[string]any)), "/"),
	}
	if g.Namespace == "" {
		g.Namespace = c.Namespace
	}
	if g.Vhost == "" {
		g.Vhost = "/"
	}
	if _, err := fmt.Sscan(get("port.http.default"), &g.ManagementPort); err != nil {
		return nil, fmt.Errorf("%s: endpoints.oslo_messaging.port.http.default: want the management port: %w", c.Name, err)
	}
	for what, v := range map[string]string{"hosts.default": g.Cluster, "auth." + user + ".username": g.User} {
		if v == "" {
			return nil, fmt.Errorf("%s: endpoints.oslo_messaging.%s is empty", c.Name, what)
		}
	}
	policies, _ := values.Get(effective, "conf.rabbitmq.policies")
	list, ok := policies.([]any)
	if policies != nil && !ok {
		return nil, fmt.Errorf("%s: conf.rabbitmq.policies: want a list, got %T", c.Name, policies)
	}
	for i, p := range list {
		m, ok := p.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: conf.rabbitmq.policies[%d]: want a mapping, got %T", c.Name, i, p)
		}
		g.Policies = append(g.Policies, m)
	}
	return []QueueGrant{g}, nil
}

// endpointPath is an endpoint's path as helm-toolkit reads it: path itself
// when a string, else path.default.
func endpointPath(endpoint map[string]any) string {
	switch p := endpoint["path"].(type) {
	case string:
		return p
	case map[string]any:
		s, _ := p["default"].(string)
		return s
	}
	return ""
}
