// Package testenv starts the real parts the tests talk to: a Kubernetes
// control plane on loopback whose nodes are simulated by kwok, a keystone
// server, and the Debian ansible. Each starter reuses a running instance when
// the environment points at one, so that `make test` starts them once for
// every package.
package testenv

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// FreePorts returns n distinct loopback ports that were free a moment ago.
// They are taken below the kernel's ephemeral range, where no socket bound
// to port 0 (an httptest server, another test's listener) is ever put: a
// test server stopped and started again on its port (keystone's outage,
// the API server's restart) finds it free.
func FreePorts(n int) ([]int, error) {
	low, high := fixedPortRange()
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for tries := 0; len(ports) < n; tries++ {
		addr := "127.0.0.1:0"
		if high > low && tries < 1000 {
			addr = fmt.Sprintf("127.0.0.1:%d", low+rand.IntN(high-low))
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			if addr != "127.0.0.1:0" {
				continue // taken: try another
			}
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// fixedPortRange is where FreePorts picks: from 10000 up to the start of
// the kernel's ephemeral range (empty when that starts at 10000 or below).
func fixedPortRange() (low, high int) {
	low, high = 10000, 32768
	if raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(raw)); len(f) == 2 {
			if start, err := strconv.Atoi(f[0]); err == nil {
				high = start
			}
		}
	}
	return low, high
}

// ListeningPorts returns the TCP ports the given processes listen on, each
// with the address it is bound to, read from /proc.
func ListeningPorts(pids []int) (map[int]net.IP, error) {
	inodes := map[string]bool{}
	for _, pid := range pids {
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		for _, fd := range fds {
			target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
			if inode, ok := strings.CutPrefix(target, "socket:["); err == nil && ok {
				inodes[strings.TrimSuffix(inode, "]")] = true
			}
		}
	}
	ports := map[int]net.IP{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] { // 0A: LISTEN
				continue
			}
			hexIP, hexPort, _ := strings.Cut(fields[1], ":")
			p, err := strconv.ParseInt(hexPort, 16, 32)
			if err != nil {
				continue
			}
			ports[int(p)] = procIP(hexIP)
		}
		f.Close()
	}
	return ports, nil
}

// procIP decodes an address of /proc/net/tcp{,6}: 32-bit words in host
// (little-endian) order.
func procIP(h string) net.IP {
	raw, err := hex.DecodeString(h)
	if err != nil {
		return nil
	}
	for i := 0; i+4 <= len(raw); i += 4 {
		raw[i], raw[i+1], raw[i+2], raw[i+3] = raw[i+3], raw[i+2], raw[i+1], raw[i]
	}
	return net.IP(raw)
}
