package procfs

import (
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"
)

// TestListFindsAChildAndWhatItRuns: a child started here is listed with
// this process as its parent and its own process group, its command line
// and environment are read, and once reaped it is gone.
func TestListFindsAChildAndWhatItRuns(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	cmd.Env = append(os.Environ(), "PROCFS_TEST_MARK=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	find := func() (Process, bool) {
		all := List()
		i := slices.IndexFunc(all, func(p Process) bool { return p.PID == pid })
		if i < 0 {
			return Process{}, false
		}
		return all[i], true
	}
	p, ok := find()
	if !ok {
		t.Fatalf("child %d not listed", pid)
	}
	if p.PPID != os.Getpid() || p.PGID != syscall.Getpgrp() || p.Zombie() {
		t.Errorf("child %+v: want parent %d, group %d, not a zombie", p, os.Getpid(), syscall.Getpgrp())
	}
	if got := Cmdline(pid); got != "sleep 30" {
		t.Errorf("Cmdline = %q, want %q", got, "sleep 30")
	}
	if env := Environ(pid); !slices.Contains(env, "PROCFS_TEST_MARK=1") {
		t.Errorf("Environ lacks the mark: %d entries", len(env))
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if p, ok := find(); ok {
		t.Errorf("reaped child still listed: %+v", p)
	}
	if got := Cmdline(pid); got != "" || Environ(pid) != nil {
		t.Errorf("a gone process has a command line %q or an environment", got)
	}
}

// TestParseStat: stat's comm field may hold spaces and parentheses; the
// fields after its last ")" are read; a line cut short is refused.
func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Process
		ok   bool
	}{
		{"42 (sleep) S 1 42 42 0 -1", Process{PID: 42, PPID: 1, PGID: 42, State: "S"}, true},
		{"42 (a (b) c) Z 7 9 9 0", Process{PID: 42, PPID: 7, PGID: 9, State: "Z"}, true},
		{"42 (cut) R", Process{}, false},
	} {
		got, ok := parseStat(42, tc.line)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseStat(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
	if got := (Process{State: "Z"}); !got.Zombie() {
		t.Errorf("%+v is a zombie", got)
	}
}
