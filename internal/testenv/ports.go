// Package testenv starts the real parts the tests talk to: a Kubernetes
// control plane on loopback whose nodes are simulated by kwok, a keystone
// server, and the Debian ansible. Each starter reuses a running instance when
// the environment points at one, so that `make test` starts them once for
// every package.
package testenv

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FreePorts returns n distinct loopback ports that were free a moment ago
// and that no other live process got from FreePorts. They are taken below
// the kernel's ephemeral range, where no socket bound to port 0 (an
// httptest server, another test's listener) is ever put: a test server
// stopped and started again on its port (keystone's outage, the API
// server's restart) finds it free.
//
// Each port is claimed for the life of the calling process (a file named
// by the port, holding its pid, under claimDir): the test processes of
// one `go test ./...` start clusters and servers at the same time, and a
// port one of them found free and handed to a server still starting, or
// freed for a moment by a restart, must not be handed to another (seen in
// CI: a private cluster's readiness check answered by another cluster's
// API server, "x509: certificate signed by unknown authority").
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
		port := l.Addr().(*net.TCPAddr).Port
		if addr != "127.0.0.1:0" && !claimPort(port) {
			l.Close()
			continue // another process's
		}
		listeners = append(listeners, l)
		ports = append(ports, port)
	}
	return ports, nil
}

// claimDir holds the ports FreePorts handed out, one file per port named
// by it and holding the claiming process's pid.
var claimDir = filepath.Join(os.TempDir(), "atmosphere-test-ports")

// claimPort claims port for this process: false when a live process
// (another, or this one earlier) holds it. A claim whose process died is
// taken over.
func claimPort(port int) bool {
	if err := os.MkdirAll(claimDir, 0o755); err != nil {
		return true // no claims possible: the probe alone decides, as before
	}
	path := filepath.Join(claimDir, strconv.Itoa(port))
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := f.WriteString(strconv.Itoa(os.Getpid()))
			if cerr := f.Close(); werr != nil || cerr != nil {
				os.Remove(path)
				return false
			}
			return true
		}
		if !errors.Is(err, fs.ErrExist) {
			return true
		}
		raw, rerr := os.ReadFile(path)
		pid, perr := strconv.Atoi(strings.TrimSpace(string(raw)))
		if rerr == nil && perr == nil && Alive(pid) {
			return false
		}
		if rerr == nil && perr != nil && len(raw) == 0 {
			return false // being written by its claimer this instant
		}
		// The claimer died: remove its claim and try once more (a
		// process racing for the same stale claim loses the O_EXCL).
		os.Remove(path)
	}
	return false
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
