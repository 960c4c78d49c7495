package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/internal/procfs"
)

// Process is a live process as /proc shows it.
type Process struct {
	PID, PGID int
	// Cmd is its command line, arguments joined by spaces.
	Cmd string
}

// Processes reads /proc: every live process (zombies left out), its
// process group and command line.
func Processes() []Process {
	var out []Process
	for _, p := range procfs.List() {
		if !p.Zombie() {
			out = append(out, Process{PID: p.PID, PGID: p.PGID, Cmd: procfs.Cmdline(p.PID)})
		}
	}
	return out
}

// CopyDir copies a directory (an inventory, a chart) into a temporary
// directory of the test, so that the test can change it.
func CopyDir(t testing.TB, from string) string {
	t.Helper()
	to := t.TempDir()
	CopyTree(t, from, to)
	return to
}

// CopyTree copies the directory from to to, failing the test when it
// cannot (CopyFiles).
func CopyTree(t testing.TB, from, to string) {
	t.Helper()
	if err := CopyFiles(from, to); err != nil {
		t.Fatal(err)
	}
}

// CopyFiles copies the directory from to to: its directories, and each
// file (a symbolic link's target's content: an inventory's linked files
// stay whole in a copy elsewhere) as a regular file of mode 0644.
func CopyFiles(from, to string) error {
	return filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), raw, 0o644)
	})
}

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat's times.
const clockTicks = 100

// CPUTime reads the processor time (user and system) a live process has
// used so far from /proc/<pid>/stat.
func CPUTime(pid int) (time.Duration, error) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, err
	}
	// pid (comm) state ppid ... utime is the 14th field, stime the 15th.
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(fields))
	}
	var ticks int64
	for _, f := range fields[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, nil
}

// stopGroup ends process group pgid: SIGTERM, then SIGKILL every 5 s after
// 10 s, until pid (one of the group, its leader usually) is gone.
func stopGroup(pgid, pid int) {
	if !Alive(pid) {
		return
	}
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for Alive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			deadline = time.Now().Add(5 * time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockFile takes an exclusive lock on path (made when missing), held
// across processes until unlock.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
