package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// RestartAPIServer stops the kube-apiserver of a cluster this process
// started, keeps it down for down, and starts it again with the same
// command line (same port, certificates and etcd), as an operator's
// control-plane restart does. It returns once the server answers again.
func (c *Cluster) RestartAPIServer(ctx context.Context, down time.Duration) error {
	if !c.started {
		return fmt.Errorf("restart kube-apiserver of %s: this process did not start the cluster", c.Name)
	}
	pid, ok := c.componentPIDs()["kube-apiserver"]
	if !ok {
		return fmt.Errorf("restart kube-apiserver of %s: no pid recorded in %s", c.Name, c.pidDir())
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return fmt.Errorf("restart kube-apiserver of %s: its command line: %w", c.Name, err)
	}
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	dir, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		return fmt.Errorf("restart kube-apiserver of %s: its working directory: %w", c.Name, err)
	}
	// Stopped as a kubelet stops a static pod whose grace ran out: SIGTERM,
	// and SIGKILL when it still runs a moment later (its graceful
	// shutdown waits on long requests).
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("restart kube-apiserver of %s: stop pid %d: %w", c.Name, pid, err)
	}
	if !gone(pid, 3*time.Second) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		if !gone(pid, 10*time.Second) {
			return fmt.Errorf("restart kube-apiserver of %s: pid %d still runs after SIGKILL", c.Name, pid)
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(down):
	}
	log, err := os.OpenFile(filepath.Join(c.WorkDir, "clusters", c.Name, "logs", "kube-apiserver.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("restart kube-apiserver of %s: %w", c.Name, err)
	}
	defer log.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = dir, log, log
	// Its own session, as kwokctl starts it: the cluster's delete stops it
	// through the pid file.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("restart kube-apiserver of %s: %w", c.Name, err)
	}
	go func() { _ = cmd.Wait() }() // reaped when it is stopped
	if err := os.WriteFile(filepath.Join(c.pidDir(), "kube-apiserver.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		return fmt.Errorf("restart kube-apiserver of %s: %w", c.Name, err)
	}
	if err := waitReady(ctx, c.config, 2*time.Minute); err != nil {
		var tail bytes.Buffer
		if raw, rerr := os.ReadFile(log.Name()); rerr == nil {
			tail.WriteString(LastLines(string(raw), 10))
		}
		return fmt.Errorf("restart kube-apiserver of %s: %w\n%s", c.Name, err, tail.String())
	}
	return nil
}

// gone waits up to limit for a process to end, and reports whether it did.
func gone(pid int, limit time.Duration) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !Alive(pid) {
			return true
		}
	}
	return !Alive(pid)
}
