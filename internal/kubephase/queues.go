package kubephase

import (
	"context"
	"errors"
	"fmt"
	"time"

	rabbithole "github.com/michaelklishin/rabbit-hole/v3"
	"k8s.io/client-go/kubernetes"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/internal/queue"
)

// QueueGrants are what a component's queue phase makes in its RabbitMQ
// cluster, read from the values its release is deployed with over its
// chart's defaults, as the chart's rabbit-init Job reads them
// (components.Component.QueueGrants); with peek, secrets are only peeked
// at and the cluster's administrator, before the cluster exists, reads as
// empty.
func (s *Stack) QueueGrants(ctx context.Context, component string, peek bool) ([]components.QueueGrant, error) {
	c, ok := s.component(component)
	if !ok {
		return nil, nil
	}
	if _, ok := c.Phase(components.PhaseQueue); !ok {
		return nil, nil
	}
	cfg := s.Config
	if peek {
		cfg, _ = s.lenient(true)
	}
	ch, err := s.Charts.Load(ctx, *c.Chart)
	if err != nil {
		return nil, err
	}
	v, err := s.valuesWith(c, ch.Values, cfg)
	if err != nil {
		return nil, err
	}
	return c.QueueGrants(values.Merge(ch.Values, v))
}

// rabbitMQWait bounds the wait for a RabbitMQ cluster's management API to
// answer its administrator: the cluster is ready (its phase waited for
// it), but its management listener may take a moment more.
const rabbitMQWait = 2 * time.Minute

// ConnectQueue opens a management API client of the grant's RabbitMQ
// cluster as its administrator: at atmosphere_rabbitmq_address (host:port,
// every cluster's) when the inventory sets it, else at the cluster IP of
// the cluster's Service and the management port its values name
// (reachable from the cluster's nodes, where the roles ran). A cluster
// that does not answer is tried again for two minutes; a refused login
// (401) is not.
func (s *Stack) ConnectQueue(ctx context.Context, client kubernetes.Interface, g components.QueueGrant) (*rabbithole.Client, error) {
	addr, err := s.serviceAddress(ctx, client, "atmosphere_rabbitmq_address", "RabbitMQ cluster "+g.Cluster, g.Namespace, g.Cluster, g.ManagementPort)
	if err != nil {
		return nil, err
	}
	if g.AdminUser == "" || g.AdminPassword == "" {
		return nil, fmt.Errorf("RabbitMQ cluster %s/%s: no administrator in the values (is its Secret %s-default-user there?)", g.Namespace, g.Cluster, g.Cluster)
	}
	c, err := queue.NewClient(ctx, "http://"+addr, g.AdminUser, g.AdminPassword)
	if err != nil {
		return nil, err
	}
	wait, cancel := context.WithTimeout(ctx, rabbitMQWait)
	defer cancel()
	for {
		probe, _ := queue.NewClient(wait, "http://"+addr, g.AdminUser, g.AdminPassword)
		_, err := probe.Whoami()
		if err == nil {
			return c, nil
		}
		if isUnauthorized(err) {
			return nil, fmt.Errorf("RabbitMQ cluster %s/%s at %s: its administrator %s is refused: %w", g.Namespace, g.Cluster, addr, g.AdminUser, err)
		}
		select {
		case <-wait.Done():
			return nil, fmt.Errorf("RabbitMQ cluster %s/%s: management API at %s: %w", g.Namespace, g.Cluster, addr, err)
		case <-time.After(2 * time.Second):
		}
	}
}

// isUnauthorized says whether rabbit-hole's error is the API's 401 (which
// it reports as text).
func isUnauthorized(err error) bool {
	var e rabbithole.ErrorResponse
	if errors.As(err, &e) {
		return e.StatusCode == 401
	}
	return err != nil && err.Error() == "Error: API responded with a 401 Unauthorized"
}
