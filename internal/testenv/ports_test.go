package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TestFreePortsAreBelowTheEphemeralRange: the ports are distinct, free,
// and out of the range the kernel gives sockets bound to port 0.
func TestFreePortsAreBelowTheEphemeralRange(t *testing.T) {
	low, high := fixedPortRange()
	ports, err := FreePorts(8)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	for _, p := range ports {
		if seen[p] || (high > low && (p < low || p >= high)) {
			t.Errorf("port %d: repeated, or outside %d-%d", p, low, high-1)
		}
		seen[p] = true
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			t.Errorf("port %d is not free: %v", p, err)
			continue
		}
		l.Close()
	}
}

// TestClaimPort: a port is handed to one live process only. A claim of a
// live process (pid 1, or this one) is refused; a dead process's is taken
// over; and FreePorts passes over every port another live process claimed.
func TestClaimPort(t *testing.T) {
	saved := claimDir
	claimDir = t.TempDir()
	t.Cleanup(func() { claimDir = saved })

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	write := func(port, pid int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(claimDir, strconv.Itoa(port)), []byte(strconv.Itoa(pid)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(20001, 1)
	write(20002, dead.Process.Pid)
	tests := []struct {
		name string
		port int
		want bool
	}{
		{"unclaimed", 20000, true},
		{"claimed by this process just now", 20000, false},
		{"claimed by a live process", 20001, false},
		{"claimed by a dead process", 20002, true},
	}
	for _, tt := range tests {
		if got := claimPort(tt.port); got != tt.want {
			t.Errorf("%s: claimPort(%d) = %v, want %v", tt.name, tt.port, got, tt.want)
		}
	}
	if raw, _ := os.ReadFile(filepath.Join(claimDir, "20002")); string(raw) != strconv.Itoa(os.Getpid()) {
		t.Errorf("the dead process's claim was not taken over: it holds %q", raw)
	}

	// Every port of the range but a few claimed by a live process:
	// FreePorts hands out only the unclaimed ones.
	low, high := fixedPortRange()
	if high-low < 100 {
		t.Skipf("no fixed port range here (%d-%d)", low, high)
	}
	free := map[int]bool{}
	for len(free) < 10 {
		free[low+len(free)*97] = true
	}
	for p := low; p < high; p++ {
		if !free[p] {
			write(p, 1)
		}
	}
	ports, err := FreePorts(3)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		if !free[p] && p >= low && p < high {
			t.Errorf("FreePorts gave %d, claimed by pid 1", p)
		}
	}
}
