package kubephase

import (
	"context"
	"maps"
	"reflect"
	"strings"
	"sync"
	"testing"

	rabbithole "github.com/michaelklishin/rabbit-hole/v3"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/components/values"
	"github.com/vexxhost/atmosphere-go/dag"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
	"github.com/vexxhost/atmosphere-go/internal/queue"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestQueuePhasesMakeWhatTheChartsRabbitInitWould: for every component
// whose queue phase stands in for its chart's rabbit-init Job, the chart
// has that Job on by default, the release turns it off and no list of Jobs
// under dependencies names it; and the grant the queue phase makes is the
// one the Job would make from the same values: the user of
// endpoints.oslo_messaging.auth.<chart> with its password, the vhost of
// the endpoint's path, the administrator of auth.admin (the cluster's
// default user), the management port, the chart's policies.
func TestQueuePhasesMakeWhatTheChartsRabbitInitWould(t *testing.T) {
	st, _ := fidelitySettings(t, "", "")
	st.Charts = chartLoader()
	checked := 0
	for _, c := range components.Default().Components() {
		if _, ok := c.Phase(components.PhaseQueue); !ok {
			continue
		}
		checked++
		ch, err := st.Charts.Load(context.Background(), *c.Chart)
		if err != nil {
			t.Fatal(err)
		}
		if on, _ := values.Get(ch.Values, "manifests.job_rabbit_init"); on != true {
			t.Errorf("%s: the chart has no rabbit-init Job on by default (%v)", c.Name, on)
		}
		own, err := st.Values(c, ch.Values)
		if err != nil {
			t.Fatal(err)
		}
		v := values.Merge(ch.Values, own)
		if on, _ := values.Get(v, "manifests.job_rabbit_init"); on != false {
			t.Errorf("%s: the release's manifests.job_rabbit_init is %v, want false", c.Name, on)
		}
		walkJobs(v["dependencies"], func(job string) {
			if strings.HasSuffix(job, "-rabbit-init") {
				t.Errorf("%s: the release's dependencies still name Job %s", c.Name, job)
			}
		})
		grants, err := st.QueueGrants(context.Background(), c.Name, false)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if len(grants) != 1 {
			t.Fatalf("%s: %d grants, want 1", c.Name, len(grants))
		}
		g := grants[0]
		chart := c.Chart.Name
		wantPassword, _ := values.Get(v, "endpoints.oslo_messaging.auth."+chart+".password")
		checks := []struct{ what, got, want string }{
			{"cluster", g.Cluster, "rabbitmq-" + chart},
			{"namespace", g.Namespace, c.Namespace},
			{"user", g.User, chart},
			{"vhost", g.Vhost, chart},
			{"administrator", g.AdminUser, "rabbitmq-" + chart + "-default-user-user"},
			{"administrator's password", g.AdminPassword, "rabbitmq-" + chart + "-default-user-password"},
		}
		for _, k := range checks {
			if k.got != k.want {
				t.Errorf("%s: %s %q, want %q", c.Name, k.what, k.got, k.want)
			}
		}
		if g.Password == "" || g.Password != wantPassword {
			t.Errorf("%s: the user's password is not the one of endpoints.oslo_messaging.auth.%s", c.Name, chart)
		}
		if g.ManagementPort != 15672 {
			t.Errorf("%s: management port %d, want 15672", c.Name, g.ManagementPort)
		}
		if len(g.Policies) != 1 || g.Policies[0]["name"] != "ha_ttl_"+chart || g.Policies[0]["vhost"] != chart {
			t.Errorf("%s: policies %v, want atmosphere's ha_ttl_%s on vhost %s", c.Name, g.Policies, chart, chart)
		}
	}
	if checked != 10 {
		t.Errorf("%d components with a queue phase, want the 10 with a RabbitMQ cluster", checked)
	}
}

// walkJobs calls f with each Job named by a jobs list under x.
func walkJobs(x any, f func(string)) {
	switch x := x.(type) {
	case map[string]any:
		for _, y := range x {
			walkJobs(y, f)
		}
	case []any:
		for _, j := range x {
			if s, ok := j.(string); ok {
				f(s)
			}
		}
	}
}

// TestServicesQueuePhases runs the queue phase of every component that
// has one against a real RabbitMQ (Debian's rabbitmq-server with its
// management plugin, testenv.StartRabbitMQ), as the deploy does: the
// grants read from the release's values (Stack.QueueGrants), the cluster
// reached at atmosphere_rabbitmq_address as its administrator (the
// operator's default user, made in the server as the operator makes it:
// Stack.ConnectQueue). Each phase runs twice at once, all ten
// concurrently, then once more: each service's user then opens an AMQP
// connection to its vhost with the password its chart's values carry,
// its policy is there, guest is gone, and the run after reports every user
// in place. A changed password is set, and only the new one logs in.
func TestServicesQueuePhases(t *testing.T) {
	rmq := testenv.StartRabbitMQ(t)
	ctx := context.Background()
	st, _ := fidelitySettings(t, "", "")
	st.Charts = chartLoader()
	st.Config.Vars = maps.Clone(st.Config.Vars)
	st.Config.Vars["atmosphere_rabbitmq_address"] = rmq.ManagementAddr
	admin, err := queue.NewClient(ctx, rmq.ManagementURL, rmq.AdminUser, rmq.AdminPassword)
	if err != nil {
		t.Fatal(err)
	}
	// Each cluster's default user, as its operator makes it.
	defaultUsers := map[string]string{}
	var phases []*components.Component
	for _, c := range components.Default().Components() {
		if _, ok := c.Phase(components.PhaseQueue); !ok {
			continue
		}
		phases = append(phases, c)
		name := "rabbitmq-" + c.Chart.Name + "-default-user"
		defaultUsers[name] = "default_user_" + c.Chart.Name
		if _, err := admin.PutUser(defaultUsers[name], rabbithole.UserSettings{Password: "admin-" + c.Chart.Name, Tags: rabbithole.UserTags{"administrator"}}); err != nil {
			t.Fatal(err)
		}
	}
	if len(phases) != 10 {
		t.Fatalf("%d components with a queue phase, want 10", len(phases))
	}
	// A server's first user, which the charts' Job removes.
	if _, err := admin.PutUser("guest", rabbithole.UserSettings{Password: "guest", Tags: rabbithole.UserTags{}}); err != nil {
		t.Fatal(err)
	}
	others := st.Config.ClusterSecret
	st.Config.ClusterSecret = func(name, key string) (string, error) {
		user, ok := defaultUsers[name]
		if !ok {
			return others(name, key)
		}
		if key == "username" {
			return user, nil
		}
		return "admin-" + strings.TrimPrefix(user, "default_user_"), nil
	}
	passwords := map[string]string{}
	st.Config.Secret = func(name string) (string, error) {
		if p, ok := passwords[name]; ok {
			return p, nil
		}
		return "pw-" + name, nil
	}
	d := &queue.Deployer{Grants: st.QueueGrants, Connect: func(ctx context.Context, g components.QueueGrant) (*rabbithole.Client, error) {
		return st.ConnectQueue(ctx, nil, g)
	}}
	run := func(c *components.Component) ([]dag.Note, error) {
		p, _ := c.Phase(components.PhaseQueue)
		return deploytest.RunUnit(ctx, c.Name+":queue", func(ctx context.Context) error { return d.Deploy(ctx, c, p) })
	}
	var wg sync.WaitGroup
	errs := make(chan error, 2*len(phases))
	for _, c := range phases {
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := run(c); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent runs: %v", err)
	}
	amqpLogin := func(user, password, vhost string) error {
		conn, err := amqp.DialConfig("amqp://"+rmq.AMQPAddr+"/", amqp.Config{SASL: []amqp.Authentication{&amqp.PlainAuth{Username: user, Password: password}}, Vhost: vhost})
		if err != nil {
			return err
		}
		defer conn.Close()
		ch, err := conn.Channel()
		if err != nil {
			return err
		}
		defer ch.Close()
		_, err = ch.QueueDeclare("atmosphere-test", false, true, false, false, nil)
		return err
	}
	for _, c := range phases {
		chart := c.Chart.Name
		// The password the chart's values carry (barbican's and manila's
		// are the charts' default: atmosphere's roles give none).
		grants, err := st.QueueGrants(ctx, c.Name, false)
		if err != nil || len(grants) != 1 {
			t.Fatalf("%s: %v, %v", c.Name, grants, err)
		}
		if err := amqpLogin(chart, grants[0].Password, chart); err != nil {
			t.Errorf("%s: its user cannot use its vhost: %v", c.Name, err)
		}
		pol, err := admin.GetPolicy(chart, "ha_ttl_"+chart)
		if err != nil || pol.Definition["message-ttl"] != float64(70000) {
			t.Errorf("%s: policy ha_ttl_%s: %+v, %v", c.Name, chart, pol, err)
		}
		notes, err := run(c)
		if err != nil {
			t.Fatal(err)
		}
		if len(notes) != 1 || !notes[0].Unchanged || !strings.Contains(notes[0].Did, "in place") {
			t.Errorf("%s: the run after: %+v, want every user in place and nothing changed", c.Name, notes)
		}
	}
	if _, err := admin.GetUser("guest"); err == nil {
		t.Error("the user guest is still there")
	}
	for _, n := range mustNotes(t, run, phases) {
		if strings.Contains(n, "admin-") || strings.Contains(n, "pw-") {
			t.Errorf("a note shows a password: %s", n)
		}
	}

	// A new password in the inventory: set, and only it logs in.
	nova, _ := components.Default().Get("nova")
	passwords["openstack_helm_endpoints_nova_rabbitmq_password"] = "rotated"
	notes, err := run(nova)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0].Unchanged || !strings.Contains(notes[0].Did, "user nova") {
		t.Errorf("after a new password: %+v, want user nova set", notes)
	}
	if err := amqpLogin("nova", "rotated", "nova"); err != nil {
		t.Errorf("the new password: %v", err)
	}
	if err := amqpLogin("nova", "pw-openstack_helm_endpoints_nova_rabbitmq_password", "nova"); err == nil {
		t.Error("the old password still logs in")
	}
}

// mustNotes runs each component's unit once and returns what the units
// said.
func mustNotes(t *testing.T, run func(*components.Component) ([]dag.Note, error), cs []*components.Component) []string {
	t.Helper()
	var out []string
	for _, c := range cs {
		notes, err := run(c)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range notes {
			out = append(out, n.Did)
		}
	}
	return out
}

// TestWithChartJobsGivesTheRolesValues: for every component of the
// registry, its release's values with its chart Jobs given back
// (Component.WithChartJobs), over its chart's defaults, are its own values
// over them: what the role deploys, every chart Job with it (the values
// make bench gives the other tools).
func TestWithChartJobsGivesTheRolesValues(t *testing.T) {
	st, _ := fidelitySettings(t, "", "")
	st.Charts = chartLoader()
	given := 0
	for _, c := range components.Default().Components() {
		if c.Chart == nil || !c.IsEnabled(st.Config.Config) {
			continue
		}
		ch, err := st.Charts.Load(context.Background(), *c.Chart)
		if err != nil {
			t.Fatal(err)
		}
		own, err := c.OwnValues(st.Config, ch.Values)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		deployed, err := c.ReleaseValues(st.Config, ch.Values, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		got := values.Merge(ch.Values, c.WithChartJobs(own, deployed))
		want := values.Merge(ch.Values, own)
		if !reflect.DeepEqual(got, want) {
			for _, key := range []string{"manifests", "dependencies"} {
				if !reflect.DeepEqual(got[key], want[key]) {
					t.Errorf("%s: %s with the chart Jobs given back:\n%v\nwant the role's\n%v", c.Name, key, got[key], want[key])
				}
			}
			t.Errorf("%s: the values with the chart Jobs given back differ from the role's", c.Name)
		}
		if !reflect.DeepEqual(values.Merge(ch.Values, deployed), want) {
			given++
		}
	}
	if given < 13 {
		t.Errorf("%d components had Jobs given back, want every OpenStack service", given)
	}
}
