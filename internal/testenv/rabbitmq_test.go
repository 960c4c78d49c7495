package testenv

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
)

// whoami is the management API's /api/whoami as user.
func whoami(ctx context.Context, r *RabbitMQ, user, password string) (name string, tags []string, err error) {
	var me struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}
	err = managementCall(ctx, r.ManagementURL, user, password, http.MethodGet, "/api/whoami", nil, &me)
	return me.Name, me.Tags, err
}

// status is the HTTP status of a ManagementError, 0 for no error, -1 for
// another error.
func status(err error) int {
	var me *ManagementError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &me):
		return me.Status
	}
	return -1
}

// TestStartRabbitMQ starts a real rabbitmq-server: the administrator logs
// in to the management API, a wrong password and an unknown user are
// refused (401), AMQP answers the protocol header with Connection.Start,
// every port of the node and its epmd is on loopback, and when the test
// ends no process of it is left.
func TestStartRabbitMQ(t *testing.T) {
	var pid int
	t.Cleanup(func() { // runs after StartRabbitMQ's stop
		for _, p := range Processes() {
			if pid > 0 && p.PGID == pid {
				t.Errorf("left running after the stop: %d %s", p.PID, p.Cmd)
			}
		}
	})
	start := time.Now()
	r := StartRabbitMQ(t)
	pid = r.PID
	t.Logf("RabbitMQ %s up in %s: management %s, AMQP %s", r.Node, time.Since(start).Round(time.Millisecond), r.ManagementURL, r.AMQPAddr)
	beam := r.BeamPID()
	if beam == 0 {
		t.Errorf("no beam.smp in the process group %d", r.PID)
	} else if rss, err := os.ReadFile("/proc/" + strconv.Itoa(beam) + "/status"); err == nil {
		for _, l := range strings.Split(string(rss), "\n") {
			if strings.HasPrefix(l, "VmRSS:") {
				t.Logf("beam.smp (pid %d) %s", beam, l)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	for _, tc := range []struct {
		name, user, password string
		want                 int // HTTP status: 0 when it logs in
	}{
		{"the administrator", r.AdminUser, r.AdminPassword, 0},
		{"a wrong password", r.AdminUser, r.AdminPassword + "x", http.StatusUnauthorized},
		{"an unknown user", "nobody", r.AdminPassword, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name, tags, err := whoami(ctx, r, tc.user, tc.password)
			if status(err) != tc.want {
				t.Fatalf("GET /api/whoami as %s: %v, want status %d", tc.user, err, tc.want)
			}
			if tc.want == 0 && (name != tc.user || !slices.Contains(tags, "administrator")) {
				t.Errorf("whoami: %s %v, want %s tagged administrator", name, tags, tc.user)
			}
		})
	}

	t.Run("AMQP", func(t *testing.T) {
		conn, err := net.DialTimeout("tcp", r.AMQPAddr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write([]byte("AMQP\x00\x00\x09\x01")); err != nil {
			t.Fatal(err)
		}
		// A method frame (type 1) on channel 0 whose method is
		// Connection.Start (class 10, method 10).
		head := make([]byte, 11)
		if _, err := conn.Read(head); err != nil {
			t.Fatalf("no answer to the AMQP 0-9-1 header: %v", err)
		}
		if head[0] != 1 || !bytes.Equal(head[1:3], []byte{0, 0}) || !bytes.Equal(head[7:11], []byte{0, 10, 0, 10}) {
			t.Errorf("AMQP answered % x, want Connection.Start", head)
		}
	})

	t.Run("loopback only", func(t *testing.T) {
		var group []int
		for _, p := range Processes() {
			if p.PGID == r.PID {
				group = append(group, p.PID)
			}
		}
		ports, err := ListeningPorts(group)
		if err != nil {
			t.Fatal(err)
		}
		// AMQP, management, distribution, epmd (which listens on ::1 too).
		if len(ports) != 4 {
			t.Errorf("the node's processes listen on %v, want 4 ports", ports)
		}
		for port, ip := range ports {
			if !ip.IsLoopback() {
				t.Errorf("port %d is bound to %s, not to loopback", port, ip)
			}
		}
	})
}

// TestSharedRabbitMQ: one server for the process, answering.
func TestSharedRabbitMQ(t *testing.T) {
	a, b := SharedRabbitMQ(t), SharedRabbitMQ(t)
	if a != b {
		t.Errorf("two servers: %s and %s", a.ManagementURL, b.ManagementURL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.API(ctx, http.MethodGet, "/api/overview", nil, nil); err != nil {
		t.Error(err)
	}
}

// TestRabbitMQDefaultUser: the stand-in's default user of a
// RabbitmqCluster, without a server (the Secret alone, as before), with one
// (a user of a random name made in it, logging in as administrator), and
// when the Secret is there (left alone, no user made).
func TestRabbitMQDefaultUser(t *testing.T) {
	r := SharedRabbitMQ(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cluster := func(name string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetName(name)
		u.SetNamespace("openstack")
		return u
	}
	users := func() []string {
		var list []struct {
			Name string `json:"name"`
		}
		if err := r.API(ctx, http.MethodGet, "/api/users", nil, &list); err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range list {
			names = append(names, u.Name)
		}
		return names
	}
	existing := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "rabbitmq-kept-default-user", Namespace: "openstack"},
		Data: map[string][]byte{"username": []byte("someone"), "password": []byte("theirs")}}
	for _, tc := range []struct {
		name      string
		server    *RabbitMQ
		cluster   string
		wantUser  func(string) bool
		wantLogIn bool
	}{
		{"no server", nil, "rabbitmq-nova", func(u string) bool { return u == "default_user_rabbitmq-nova" }, false},
		{"a server", r, "rabbitmq-nova", func(u string) bool {
			return strings.HasPrefix(u, "default_user_") && len(u) == len("default_user_")+20 && u != "default_user_rabbitmq-nova"
		}, true},
		{"the Secret is there", r, "rabbitmq-kept", func(u string) bool { return u == "someone" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs := fake.NewClientset(existing.DeepCopy())
			before := users()
			if err := ensureRabbitMQDefaultUser(ctx, cs, tc.server, cluster(tc.cluster)); err != nil {
				t.Fatal(err)
			}
			s, err := cs.CoreV1().Secrets("openstack").Get(ctx, tc.cluster+"-default-user", metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			user, password := s.StringData["username"]+string(s.Data["username"]), s.StringData["password"]+string(s.Data["password"])
			if !tc.wantUser(user) {
				t.Errorf("user %q", user)
			}
			if host := s.StringData["host"]; s.Data == nil && (host != tc.cluster+".openstack.svc" || s.StringData["port"] != "5672") {
				t.Errorf("host %s port %s, want the Service's", host, s.StringData["port"])
			}
			made := len(users()) - len(before)
			if !tc.wantLogIn {
				if made != 0 {
					t.Errorf("%d users made in the server, want none", made)
				}
				return
			}
			if made != 1 {
				t.Errorf("%d users made in the server, want 1", made)
			}
			name, tags, err := whoami(ctx, r, user, password)
			if err != nil || name != user || !slices.Contains(tags, "administrator") {
				t.Errorf("the Secret's user logs in: %s %v %v, want %s tagged administrator", name, tags, err, user)
			}
		})
	}
}

// TestRabbitMQStandIn: on a test cluster given the test RabbitMQ
// (ProvideRabbitMQ), the inventory names its management address, and the
// stand-in makes each RabbitmqCluster's default user, of a name of its own,
// in the server before its Secret: the Secret's credentials log in to the
// management API, and the cluster is AllReplicasReady.
func TestRabbitMQStandIn(t *testing.T) {
	cfg := PrivateKube(t, 1)
	gvk := schema.GroupVersionKind{Group: "rabbitmq.com", Version: "v1beta1", Kind: "RabbitmqCluster"}
	CreateCRD(t, cfg, gvk)
	inv := t.TempDir()
	r := ProvideRabbitMQ(t, cfg, inv)
	raw, err := os.ReadFile(filepath.Join(inv, "group_vars", "all", "zz-test-rabbitmq.yml"))
	if err != nil || !strings.Contains(string(raw), "\natmosphere_rabbitmq_address: "+r.ManagementAddr+"\n") {
		t.Errorf("inventory vars %q (%v), want atmosphere_rabbitmq_address: %s", raw, err, r.ManagementAddr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := StandIns(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "openstack"}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	res := dynamic.NewForConfigOrDie(cfg).Resource(gvk.GroupVersion().WithResource("rabbitmqclusters")).Namespace("openstack")
	names := []string{"rabbitmq-nova", "rabbitmq-neutron"}
	for _, name := range names {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": gvk.GroupVersion().String(), "kind": gvk.Kind,
			"metadata": map[string]any{"name": name, "namespace": "openstack"}}}
		waitFor(t, "RabbitmqCluster "+name+" made", func(ctx context.Context) (bool, error) {
			_, err := res.Create(ctx, u, metav1.CreateOptions{})
			return err == nil, nil // the CRD may not be served yet
		})
	}
	seen := map[string]bool{}
	for _, name := range names {
		waitFor(t, name+" ready", func(ctx context.Context) (bool, error) {
			u, err := res.Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
			return len(conds) > 0 && conds[0].(map[string]any)["status"] == "True", nil
		})
		s, err := cs.CoreV1().Secrets("openstack").Get(ctx, name+"-default-user", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		user, password := string(s.Data["username"]), string(s.Data["password"])
		if seen[user] || !strings.HasPrefix(user, "default_user_") || user == "default_user_"+name {
			t.Errorf("%s's user %q: want default_user_<random>, one per cluster", name, user)
		}
		seen[user] = true
		if host := string(s.Data["host"]); host != name+".openstack.svc" || string(s.Data["port"]) != "5672" {
			t.Errorf("%s's Secret names %s:%s, want its Service", name, host, s.Data["port"])
		}
		if got, tags, err := whoami(ctx, r, user, password); err != nil || got != user || !slices.Contains(tags, "administrator") {
			t.Errorf("%s's default user logs in: %s %v %v, want %s tagged administrator", name, got, tags, err, user)
		}
	}
}

// TestRabbitMQStateDir: the mechanism by which the test processes of a
// shared environment (and `testenv up`) share one server: a second start
// from the same state directory reuses the first's server, ReuseRabbitMQAt
// finds it, the environment's variables name it to rabbitMQFromEnv (a
// wrong password there is refused), and once StopRabbitMQAt stopped it no
// process of it is left and nothing is reused.
func TestRabbitMQStateDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rabbitmq")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	t.Cleanup(func() { _ = StopRabbitMQAt(dir) })
	a, err := StartRabbitMQAt(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	b, err := StartRabbitMQAt(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	if *a != *b {
		t.Errorf("second start: %+v, want the first's server %+v", b, a)
	}
	t.Logf("reused in %s", time.Since(start).Round(time.Millisecond))
	if r, err := ReuseRabbitMQAt(ctx, dir); err != nil || r.ManagementURL != a.ManagementURL {
		t.Errorf("ReuseRabbitMQAt: %v %v, want %s", r, err, a.ManagementURL)
	}
	for _, tc := range []struct {
		name, password string
		ok             bool
	}{
		{"the administrator", a.AdminPassword, true},
		{"a wrong password", "wrong", false},
	} {
		t.Run("from the environment/"+tc.name, func(t *testing.T) {
			t.Setenv(EnvRabbitMQURL, a.ManagementURL+"/")
			t.Setenv(EnvRabbitMQAMQP, a.AMQPAddr)
			t.Setenv(EnvRabbitMQUser, a.AdminUser)
			t.Setenv(EnvRabbitMQPassword, tc.password)
			r, err := rabbitMQFromEnv(ctx)
			if tc.ok != (err == nil) {
				t.Fatalf("rabbitMQFromEnv: %v, want success %v", err, tc.ok)
			}
			if tc.ok && (r.ManagementURL != a.ManagementURL || r.ManagementAddr != a.ManagementAddr || r.AMQPAddr != a.AMQPAddr) {
				t.Errorf("from the environment: %+v, want %+v", r, a)
			}
		})
	}
	if err := StopRabbitMQAt(dir); err != nil {
		t.Fatal(err)
	}
	if pids := groupPIDs(a.PID); len(pids) > 0 {
		t.Errorf("processes %v of the server left after StopRabbitMQAt", pids)
	}
	if _, err := ReuseRabbitMQAt(ctx, dir); err == nil {
		t.Error("ReuseRabbitMQAt found a stopped server")
	}
}
