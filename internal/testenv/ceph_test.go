package testenv

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestCeph starts the test bed's Ceph and reads back what atmosphere's
// roles read from a monitor: its fsid and its address in `ceph mon dump`,
// through the cephadm stand-in as they call it; and makes an RBD pool.
func TestCeph(t *testing.T) {
	c := StartCeph(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dump, err := c.Ceph(ctx, "mon", "dump", "-f", "json")
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		FSID string `json:"fsid"`
		Mons []struct {
			Addr string `json:"addr"`
		} `json:"mons"`
	}
	if err := json.Unmarshal(dump, &m); err != nil {
		t.Fatal(err)
	}
	if m.FSID != c.FSID || len(m.Mons) != 1 || !strings.HasPrefix(m.Mons[0].Addr, c.IP+":6789/") {
		t.Errorf("mon dump: fsid %s, mons %+v; want fsid %s, one monitor at %s:6789", m.FSID, m.Mons, c.FSID, c.IP)
	}
	if _, err := c.Ceph(ctx, "osd", "pool", "create", "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ceph(ctx, "osd", "pool", "application", "enable", "test", "rbd"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	init := exec.CommandContext(ctx, "rbd", "pool", "init", "test")
	init.Env = append(os.Environ(), c.Env()...)
	if out, err := init.CombinedOutput(); err != nil {
		t.Fatalf("rbd pool init: %v\n%s", err, out)
	}
	t.Logf("rbd pool init in %s", time.Since(start).Round(10*time.Millisecond))
}
