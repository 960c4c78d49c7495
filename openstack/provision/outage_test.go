package provision

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
	"github.com/vexxhost/atmosphere-go/openstack"
)

// TestKeystoneOutage stops a real keystone for 10 s while identity steps
// run: the steps wait, retry and complete.
func TestKeystoneOutage(t *testing.T) {
	k := testenv.PrivateKeystone(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cloud, err := openstack.FromClouds(ctx, testenv.CloudName, k.Clouds)
	if err != nil {
		t.Fatal(err)
	}
	client, err := cloud.Identity()
	if err != nil {
		t.Fatal(err)
	}
	id := NewIdentity(client)
	d, _, err := id.EnsureDomain(ctx, "outage")
	if err != nil {
		t.Fatal(err)
	}
	outage := make(chan error, 1)
	outageStart := time.Now()
	go func() { outage <- k.Outage(ctx, 10*time.Second) }()
	var last time.Time
	for i := range 12 {
		s, _, err := id.EnsureService(ctx, fmt.Sprintf("outage-%d", i), "svc", "")
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if _, err := id.EnsureEndpoints(ctx, s.ID, "RegionOne", map[gophercloud.Availability]string{
			gophercloud.AvailabilityPublic: fmt.Sprintf("https://svc%d.example/", i),
		}); err != nil {
			t.Fatalf("step %d endpoints: %v", i, err)
		}
		if _, _, err := id.EnsureUser(ctx, UserSpec{Name: fmt.Sprintf("user-%d", i), DomainID: d.ID, Password: "pw-" + fmt.Sprint(i)}); err != nil {
			t.Fatalf("step %d user: %v", i, err)
		}
		last = time.Now()
		time.Sleep(500 * time.Millisecond)
	}
	if err := <-outage; err != nil {
		t.Fatal(err)
	}
	if last.Sub(outageStart) < 10*time.Second {
		t.Errorf("the steps ended %s after the outage began: they did not run across it", last.Sub(outageStart))
	}
}
