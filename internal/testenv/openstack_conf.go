package testenv

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vexxhost/atmosphere-go/internal/mysqlconn"
	"github.com/vexxhost/atmosphere-go/internal/pyenv"
)

// osConfig is what one API's configuration is made of.
type osConfig struct {
	dir       string // its state directory: configuration, log, data
	port      int
	conn      func(database string) string // SQLAlchemy URL of a database
	keystone  string                       // identity URL, .../v3
	user      string                       // its keystone user, in the default domain
	password  string
	endpoints map[string]string // public URL by service type
}

// ini renders sections in order; each section is "[name]" then key = value lines.
func ini(sections ...[]string) string {
	var b strings.Builder
	for _, s := range sections {
		b.WriteString(strings.Join(s, "\n"))
		b.WriteString("\n\n")
	}
	return b.String()
}

// authtoken is keystonemiddleware's section: the API checks tokens as its
// service user, caching them in process.
func (c osConfig) authtoken() []string {
	lines := append([]string{"[keystone_authtoken]", "www_authenticate_uri = " + c.keystone}, c.credentials()...)
	return append(lines, "service_token_roles_required = true")
}

// serviceAuth is a [section] of the credentials one API uses to call another.
func (c osConfig) serviceAuth(section string) []string {
	lines := append([]string{"[" + section + "]"}, c.credentials()...)
	return append(lines, "region_name = "+OpenStackRegion)
}

// credentials are the options of the API's service user, as keystoneauth's
// password plugin reads them.
func (c osConfig) credentials() []string {
	return []string{
		"auth_url = " + c.keystone,
		"auth_type = password",
		"username = " + c.user,
		"password = " + c.password,
		"project_name = admin",
		"user_domain_name = Default",
		"project_domain_name = Default",
	}
}

func (c osConfig) common(logName string) []string {
	return []string{"[DEFAULT]",
		"log_file = " + filepath.Join(c.dir, logName+".log"),
		"state_path = " + c.dir,
		// oslo.messaging's in-process driver: the APIs load without a broker.
		"transport_url = fake:/",
		"auth_strategy = keystone",
	}
}

// osCommands are how one API's schema is made and how it is served.
type osCommands struct {
	name  string
	syncs [][]string // each run in turn; they make the schema
	serve []string
	env   []string
}

// prepare writes s's configuration and returns its commands.
func (c osConfig) prepare(s osService) (*osCommands, error) {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, err
	}
	conf := filepath.Join(c.dir, s.name+".conf")
	lock := []string{"[oslo_concurrency]", "lock_path = " + filepath.Join(c.dir, "lock")}
	var content string
	var syncs [][]string
	var serve []string
	var env []string
	listen := strconv.Itoa(c.port)
	switch s.name {
	case "nova":
		common := append(c.common("nova"),
			"enabled_apis = osapi_compute",
			"osapi_compute_listen = 127.0.0.1",
			"osapi_compute_listen_port = "+listen,
			"osapi_compute_workers = 1",
			"use_rootwrap_daemon = false")
		content = ini(common,
			[]string{"[api_database]", "connection = " + c.conn("nova_api")},
			[]string{"[database]", "connection = " + c.conn("nova_cell0")},
			[]string{"[wsgi]", "api_paste_config = /etc/nova/api-paste.ini"},
			c.authtoken(), c.serviceAuth("placement"), c.serviceAuth("neutron"),
			[]string{"[glance]", "api_servers = " + c.endpoints["image"]},
			lock)
		m := "/usr/bin/nova-manage"
		syncs = [][]string{{m, "--config-file", conf, "api_db", "sync"},
			{m, "--config-file", conf, "cell_v2", "map_cell0", "--database_connection", c.conn("nova_cell0")},
			{m, "--config-file", conf, "db", "sync"}}
		serve = []string{"/usr/bin/nova-api", "--config-file", conf}
	case "placement":
		content = ini(c.common("placement"),
			[]string{"[api]", "auth_strategy = keystone"},
			[]string{"[placement_database]", "connection = " + c.conn("placement")},
			c.authtoken(), lock)
		syncs = [][]string{{"/usr/bin/placement-manage", "--config-file", conf, "db", "sync"}}
		// placement is only a WSGI application: uwsgi serves it, as keystone.
		serve = []string{"/usr/bin/uwsgi", "--plugin", "python3",
			"--http11-socket", "127.0.0.1:" + listen,
			"--wsgi-file", "/usr/bin/placement-api",
			"--processes", "1", "--threads", "4", "--master", "--die-on-term", "--lazy-apps",
			"--buffer-size", "65535"}
		env = []string{"OS_PLACEMENT_CONFIG_DIR=" + c.dir}
		conf = filepath.Join(c.dir, "placement.conf")
	case "neutron":
		common := append(c.common("neutron"),
			"bind_host = 127.0.0.1",
			"bind_port = "+listen,
			"core_plugin = ml2",
			"service_plugins = ",
			"api_workers = 0",
			"rpc_workers = 0",
			"rpc_state_report_workers = 0",
			"allow_overlapping_ips = true",
			"notify_nova_on_port_status_changes = false",
			"notify_nova_on_port_data_changes = false",
			"api_paste_config = /etc/neutron/api-paste.ini")
		content = ini(common,
			[]string{"[database]", "connection = " + c.conn("neutron")},
			// ML2 with no agents: networks, subnets, security groups and
			// ports are rows; a port bound to a host keeps binding:host_id
			// (its vif_type stays binding_failed, as no agent binds it).
			[]string{"[ml2]", "type_drivers = flat,vlan,vxlan", "tenant_network_types = vxlan",
				"mechanism_drivers = openvswitch", "extension_drivers = port_security"},
			[]string{"[ml2_type_flat]", "flat_networks = *"},
			[]string{"[ml2_type_vlan]", "network_vlan_ranges = physnet1:100:200"},
			[]string{"[ml2_type_vxlan]", "vni_ranges = 1:10000"},
			[]string{"[securitygroup]", "enable_security_group = true"},
			c.authtoken(), c.serviceAuth("nova"), lock)
		syncs = [][]string{{"/usr/bin/neutron-db-manage", "--config-file", conf, "upgrade", "heads"}}
		serve = []string{"/usr/bin/neutron-server", "--config-file", conf}
	case "glance":
		images := filepath.Join(c.dir, "images")
		content = ini([]string{"[DEFAULT]",
			"log_file = " + filepath.Join(c.dir, "glance.log"),
			"bind_host = 127.0.0.1",
			"bind_port = " + listen,
			"workers = 1",
			"enabled_backends = file:file",
			"transport_url = fake:/"},
			[]string{"[glance_store]", "default_backend = file"},
			[]string{"[file]", "filesystem_store_datadir = " + images},
			[]string{"[os_glance_staging_store]", "filesystem_store_datadir = " + filepath.Join(c.dir, "staging")},
			[]string{"[os_glance_tasks_store]", "filesystem_store_datadir = " + filepath.Join(c.dir, "tasks")},
			[]string{"[database]", "connection = " + c.conn("glance")},
			[]string{"[paste_deploy]", "flavor = keystone", "config_file = /etc/glance/glance-api-paste.ini"},
			c.authtoken(), lock)
		syncs = [][]string{{"/usr/bin/glance-manage", "--config-file", conf, "db_sync"}}
		serve = []string{"/usr/bin/glance-api", "--config-file", conf}
	case "cinder":
		common := append(c.common("cinder"),
			"osapi_volume_listen = 127.0.0.1",
			"osapi_volume_listen_port = "+listen,
			"osapi_volume_workers = 1",
			"api_paste_config = /etc/cinder/api-paste.ini")
		content = ini(common,
			[]string{"[database]", "connection = " + c.conn("cinder")},
			c.authtoken(), lock)
		syncs = [][]string{{"/usr/bin/cinder-manage", "--config-file", conf, "db", "sync"}}
		serve = []string{"/usr/bin/cinder-api", "--config-file", conf}
	default:
		return nil, fmt.Errorf("no configuration for %s", s.name)
	}
	if err := os.WriteFile(conf, []byte(content), 0o600); err != nil {
		return nil, err
	}
	return &osCommands{name: s.name, syncs: syncs, serve: serve, env: env}, nil
}

// sync makes the API's schema.
func (c osConfig) sync(ctx context.Context, cmds *osCommands) error {
	for _, args := range cmds.syncs {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = append(pyenv.Clean(), cmds.env...)
		cmd.Dir = c.dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", strings.Join(args[:min(len(args), 5)], " "), err, LastLines(string(out), 15))
		}
	}
	return nil
}

// serve starts the API detached, in a session of its own, and returns its
// pid.
func (c osConfig) serve(cmds *osCommands) (int, error) {
	out, err := os.OpenFile(filepath.Join(c.dir, cmds.name+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	cmd := exec.Command(cmds.serve[0], cmds.serve[1:]...)
	cmd.Env = append(pyenv.Clean(), cmds.env...)
	cmd.Dir = c.dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", cmds.serve[0], err)
	}
	go func() { _ = cmd.Wait() }() // reaped while this process lives
	return cmd.Process.Pid, nil
}

// startDetachedMariaDB starts a MariaDB server in dir on addr, in a
// session of its own (it outlives this process), and sets root's password.
func startDetachedMariaDB(ctx context.Context, dir, addr, password string) (int, error) {
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, err
	}
	user := []string{}
	if os.Geteuid() == 0 {
		user = []string{"--user=root"}
	}
	if err := initMariaDBData(ctx, data); err != nil {
		return 0, err
	}
	_, port, _ := strings.Cut(addr, ":")
	// The socket stays out of the state directory, whose path may be long.
	sock, err := os.CreateTemp("", "atmosphere-os-mdb-*.sock")
	if err != nil {
		return 0, err
	}
	sock.Close()
	os.Remove(sock.Name())
	errorLog := filepath.Join(dir, "error.log")
	server := exec.Command(mariadbServer, append([]string{"--no-defaults", "--datadir=" + data,
		"--socket=" + sock.Name(), "--pid-file=" + filepath.Join(dir, "pid"),
		"--bind-address=127.0.0.1", "--port=" + port, "--skip-log-bin", "--max-connections=500",
		"--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=0", "--log-error=" + errorLog}, user...)...)
	server.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := server.Start(); err != nil {
		return 0, err
	}
	pid := server.Process.Pid
	exited := make(chan struct{})
	go func() { _ = server.Wait(); close(exited) }()
	m := &MariaDB{Addr: addr}
	db, err := m.waitUp(ctx, exited, errorLog)
	if err != nil {
		return pid, err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "ALTER USER root@localhost IDENTIFIED BY ?", password); err != nil {
		return pid, fmt.Errorf("set MariaDB's root password: %w", err)
	}
	// pymysql connects over TCP as root@127.0.0.1.
	if _, err := db.ExecContext(ctx, "GRANT ALL ON *.* TO root@'127.0.0.1' IDENTIFIED BY ? WITH GRANT OPTION", password); err != nil {
		return pid, fmt.Errorf("grant root@127.0.0.1: %w", err)
	}
	return pid, nil
}

// openMySQL connects as root to the server at addr, waiting a little for
// it to accept the new password.
func openMySQL(ctx context.Context, addr, password string) (*sql.DB, error) {
	var last error
	for range 20 {
		db, err := mysqlconn.Open(ctx, addr, "root", password, "")
		if err == nil {
			return db, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("connect to the test APIs' MariaDB at %s: %w", addr, last)
}
