// Package procfs reads Linux's /proc: the processes there, their parent
// and process group, and their command line and environment. A process
// that ends while it is read is left out, never an error.
package procfs

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Process is what /proc/<pid>/stat says of a live process.
type Process struct {
	PID, PPID, PGID int
	// State is stat's one-letter state ("R", "S", "Z" …).
	State string
}

// Zombie is true for a process that ended and was not reaped yet (or is
// being): it runs nothing and holds nothing but its entry.
func (p Process) Zombie() bool { return p.State == "Z" || p.State == "X" }

// List returns every process of /proc, zombies included (Zombie says
// which), in /proc's order; none when /proc cannot be read.
func List() []Process {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []Process
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := stat(pid); ok {
			out = append(out, p)
		}
	}
	return out
}

// stat reads /proc/<pid>/stat: "pid (comm) state ppid pgrp …", comm
// possibly holding spaces and parentheses.
func stat(pid int) (Process, bool) {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return Process{}, false
	}
	return parseStat(pid, string(raw))
}

// parseStat reads the state, parent and process group of a stat line.
func parseStat(pid int, s string) (Process, bool) {
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 3 {
		return Process{}, false
	}
	ppid, _ := strconv.Atoi(fields[1])
	pgid, _ := strconv.Atoi(fields[2])
	return Process{PID: pid, PPID: ppid, PGID: pgid, State: fields[0]}, true
}

// Cmdline is the process's command line, its arguments joined by spaces;
// empty when it is gone (or a kernel thread).
func Cmdline(pid int) string {
	raw, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return strings.TrimSpace(strings.ReplaceAll(string(raw), "\x00", " "))
}

// Environ is the process's environment as "KEY=value" entries; none when
// it is gone or not ours to read.
func Environ(pid int) []string {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
	if err != nil {
		return nil
	}
	var out []string
	for _, kv := range bytes.Split(raw, []byte{0}) {
		if len(kv) > 0 {
			out = append(out, string(kv))
		}
	}
	return out
}
