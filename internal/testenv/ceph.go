package testenv

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/google/uuid"
)

// Debian's Ceph daemons (16.2, pacific).
const (
	cephMonBin = "/usr/bin/ceph-mon"
	cephOSDBin = "/usr/bin/ceph-osd"
	cephMgrBin = "/usr/bin/ceph-mgr"
)

var (
	//go:embed ceph.conf.tmpl
	cephConfTemplate string
	cephConf         = template.Must(template.New("ceph.conf").Option("missingkey=error").Parse(cephConfTemplate))

	// cephadmStandIn runs `cephadm shell -- CMD` as CMD (the file's
	// comment says why).
	//go:embed cephadm
	cephadmStandIn []byte
)

// Ceph is a one-monitor Ceph cluster of the test's own on a loopback
// address: Debian's ceph-mon, a ceph-mgr (it answers `osd pool stats`,
// which the vexxhost.ceph pool module asks) with no modules, and one
// ceph-osd on memstore (no disk; `rbd pool init` writes to the pool), cephx
// on, every file under a fresh state directory. The monitor listens on
// Ceph's own ports (3300 msgr2, 6789 v1) of an address of 127.0.0.0/8 that
// no other listener has, as a monitor host would: the address is what
// atmosphere's roles read from `ceph mon dump` (they drop the port).
type Ceph struct {
	// FSID is the cluster's fsid, fresh for each cluster.
	FSID string
	// IP is the monitor's address.
	IP string
	// Conf is the cluster's ceph.conf, which holds client.admin's key.
	Conf string
	// BinDir holds the cephadm stand-in; Env puts it first on PATH.
	BinDir string

	dir   string
	procs []*exec.Cmd
	done  []chan struct{}
}

// Env is the environment that points the ceph CLI (and the vexxhost.ceph
// modules, which run it) at the cluster: CEPH_CONF, and PATH with the
// cephadm stand-in first.
func (c *Ceph) Env() []string {
	return []string{"CEPH_CONF=" + c.Conf, "PATH=" + c.BinDir + string(os.PathListSeparator) + os.Getenv("PATH")}
}

// Ceph runs the ceph CLI as client.admin and returns its standard output.
func (c *Ceph) Ceph(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "ceph", append([]string{"--connect-timeout", "20"}, args...)...)
	cmd.Env = append(os.Environ(), c.Env()...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("ceph %s: %w: %s", strings.Join(args, " "), err, LastLines(stderr.String(), 5))
	}
	return out, nil
}

// StartCeph installs ceph-mon and ceph-osd when missing, starts a cluster
// for the test and stops it (removing its state) when the test ends.
func StartCeph(t testing.TB) *Ceph {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	c, err := startCeph(ctx)
	if err != nil {
		t.Fatalf("the test Ceph: %v", err)
	}
	t.Logf("the test Ceph (fsid %s, monitor %s) started in %s", c.FSID, c.IP, time.Since(start).Round(10*time.Millisecond))
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Error(err)
		}
	})
	return c
}

func startCeph(ctx context.Context) (*Ceph, error) {
	if err := EnsurePackages(ctx, cephMonBin, "ceph-mon", "ceph-common"); err != nil {
		return nil, err
	}
	if err := EnsurePackages(ctx, cephOSDBin, "ceph-osd"); err != nil {
		return nil, err
	}
	if err := EnsurePackages(ctx, cephMgrBin, "ceph-mgr"); err != nil {
		return nil, err
	}
	// Short: the admin sockets' paths must fit in 108 bytes.
	dir, err := os.MkdirTemp("", "ceph")
	if err != nil {
		return nil, err
	}
	c := &Ceph{FSID: uuid.NewString(), Conf: filepath.Join(dir, "ceph.conf"), BinDir: filepath.Join(dir, "bin"), dir: dir}
	if err := c.start(ctx); err != nil {
		return nil, errors.Join(err, c.Stop())
	}
	return c, nil
}

func (c *Ceph) start(ctx context.Context) error {
	for _, d := range []string{"run", "log", "mon", "mgr", "osd", "bin"} {
		if err := os.MkdirAll(filepath.Join(c.dir, d), 0o700); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(c.BinDir, "cephadm"), cephadmStandIn, 0o755); err != nil {
		return err
	}
	ip, err := freeCephAddress()
	if err != nil {
		return err
	}
	c.IP = ip
	run := func(name string, args ...string) error {
		cmd := exec.CommandContext(ctx, name, args...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("%s: %w\n%s", name, err, LastLines(string(out), 10))
		}
		return nil
	}
	monKeyring, adminKeyring := filepath.Join(c.dir, "mon.keyring"), filepath.Join(c.dir, "admin.keyring")
	if err := run("ceph-authtool", "--create-keyring", adminKeyring, "--gen-key", "-n", "client.admin",
		"--cap", "mon", "allow *", "--cap", "osd", "allow *", "--cap", "mgr", "allow *", "--cap", "mds", "allow *"); err != nil {
		return err
	}
	if err := run("ceph-authtool", "--create-keyring", monKeyring, "--gen-key", "-n", "mon.", "--cap", "mon", "allow *"); err != nil {
		return err
	}
	if err := run("ceph-authtool", monKeyring, "--import-keyring", adminKeyring); err != nil {
		return err
	}
	adminKey, err := exec.CommandContext(ctx, "ceph-authtool", "-p", "-n", "client.admin", adminKeyring).Output()
	if err != nil {
		return fmt.Errorf("client.admin's key: %w", err)
	}
	var conf bytes.Buffer
	if err := cephConf.Execute(&conf, map[string]string{"FSID": c.FSID, "IP": c.IP, "Dir": c.dir,
		"AdminKey": strings.TrimSpace(string(adminKey))}); err != nil {
		return err
	}
	if err := os.WriteFile(c.Conf, conf.Bytes(), 0o600); err != nil {
		return err
	}
	monmap := filepath.Join(c.dir, "monmap")
	if err := run("monmaptool", "--create", "--fsid", c.FSID, "--addv", "a",
		fmt.Sprintf("[v2:%s:3300,v1:%s:6789]", c.IP, c.IP), monmap); err != nil {
		return err
	}
	if err := run(cephMonBin, "-c", c.Conf, "--mkfs", "-i", "a", "--monmap", monmap, "--keyring", monKeyring); err != nil {
		return err
	}
	if err := c.daemon(cephMonBin, "-c", c.Conf, "-f", "-i", "a"); err != nil {
		return err
	}
	if err := c.waitFor(ctx, "the monitor's quorum", func() (bool, error) {
		_, err := c.Ceph(ctx, "mon", "dump", "-f", "json")
		return err == nil, nil
	}); err != nil {
		return err
	}
	// A manager: the pool module asks `ceph osd pool stats`, which the
	// manager answers.
	if _, err := c.Ceph(ctx, "auth", "get-or-create", "mgr.x", "mon", "allow profile mgr", "osd", "allow *", "mds", "allow *",
		"-o", filepath.Join(c.dir, "mgr", "keyring")); err != nil {
		return err
	}
	if err := c.daemon(cephMgrBin, "-c", c.Conf, "-f", "-i", "x"); err != nil {
		return err
	}
	// One OSD, so that `rbd pool init` (the pool module's, for an RBD
	// pool) finds its placement groups active.
	osdUUID := uuid.NewString()
	osdKeyring := filepath.Join(c.dir, "osd", "keyring")
	if err := run("ceph-authtool", "--create-keyring", osdKeyring, "--gen-key", "-n", "osd.0"); err != nil {
		return err
	}
	if _, err := c.Ceph(ctx, "osd", "new", osdUUID); err != nil {
		return err
	}
	if _, err := c.Ceph(ctx, "auth", "add", "osd.0", "osd", "allow *", "mon", "allow profile osd", "mgr", "allow profile osd", "-i", osdKeyring); err != nil {
		return err
	}
	if err := run(cephOSDBin, "-c", c.Conf, "-i", "0", "--mkfs", "--osd-uuid", osdUUID); err != nil {
		return err
	}
	if err := c.daemon(cephOSDBin, "-c", c.Conf, "-f", "-i", "0"); err != nil {
		return err
	}
	if err := c.waitFor(ctx, "the manager", func() (bool, error) {
		out, err := c.Ceph(ctx, "mgr", "stat", "-f", "json")
		if err != nil {
			return false, nil
		}
		var st struct {
			Available bool `json:"available"`
		}
		if err := json.Unmarshal(out, &st); err != nil {
			return false, fmt.Errorf("ceph mgr stat: %w", err)
		}
		return st.Available, nil
	}); err != nil {
		return err
	}
	return c.waitFor(ctx, "the OSD", func() (bool, error) {
		out, err := c.Ceph(ctx, "osd", "stat", "-f", "json")
		if err != nil {
			return false, nil
		}
		var st struct {
			Up int `json:"num_up_osds"`
		}
		if err := json.Unmarshal(out, &st); err != nil {
			return false, fmt.Errorf("ceph osd stat: %w", err)
		}
		return st.Up == 1, nil
	})
}

// daemon starts a Ceph daemon in the foreground, in a process group of its
// own.
func (c *Ceph) daemon(bin string, args ...string) error {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", bin, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	c.procs, c.done = append(c.procs, cmd), append(c.done, done)
	return nil
}

// waitFor polls ready until it says so, a daemon exits, or ctx ends.
func (c *Ceph) waitFor(ctx context.Context, what string, ready func() (bool, error)) error {
	for {
		ok, err := ready()
		if err != nil || ok {
			return err
		}
		for _, d := range c.done {
			select {
			case <-d:
				logs, _ := filepath.Glob(filepath.Join(c.dir, "log", "*.log"))
				var tail []string
				for _, l := range logs {
					raw, _ := os.ReadFile(l)
					tail = append(tail, filepath.Base(l)+": "+LastLines(string(raw), 5))
				}
				return fmt.Errorf("waiting for %s: a Ceph daemon exited:\n%s", what, strings.Join(tail, "\n"))
			default:
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// Stop stops the daemons (the OSD first) and removes the state directory.
func (c *Ceph) Stop() error {
	for i := len(c.procs) - 1; i >= 0; i-- {
		_ = syscall.Kill(-c.procs[i].Process.Pid, syscall.SIGTERM)
		select {
		case <-c.done[i]:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-c.procs[i].Process.Pid, syscall.SIGKILL)
			<-c.done[i]
		}
	}
	c.procs, c.done = nil, nil
	return os.RemoveAll(c.dir)
}

// freeCephAddress picks an address of 127.0.0.0/8 whose Ceph ports (3300,
// 6789) are free: a monitor of its own, whatever else runs here.
func freeCephAddress() (string, error) {
	for range 100 {
		ip := fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(254), rand.IntN(256), 1+rand.IntN(254))
		var held []net.Listener
		free := true
		for _, port := range []string{"3300", "6789"} {
			l, err := net.Listen("tcp", net.JoinHostPort(ip, port))
			if err != nil {
				free = false
				break
			}
			held = append(held, l)
		}
		for _, l := range held {
			l.Close()
		}
		if free {
			return ip, nil
		}
	}
	return "", errors.New("no address of 127.0.0.0/8 has Ceph's ports free")
}
