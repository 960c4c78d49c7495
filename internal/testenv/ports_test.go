package testenv

import (
	"fmt"
	"net"
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
