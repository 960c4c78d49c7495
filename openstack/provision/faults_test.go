package provision

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/internal/openstackfake"
)

// TestStepsRetryAndStop: a step of each fake service rides out a 500 and
// stops at once when its context ends while the service keeps failing.
func TestStepsRetryAndStop(t *testing.T) {
	nova, neutron, glance, cinder := &openstackfake.Nova{}, &openstackfake.Neutron{}, &openstackfake.Glance{}, &openstackfake.Cinder{}
	compute, network, images, volume := newCompute(t, nova), newNetwork(t, neutron), newImages(t, glance), NewVolume(openstackfake.Client(t, cinder, ""))
	imageFile := filepath.Join(t.TempDir(), "cirros.img")
	if err := os.WriteFile(imageFile, []byte("cirros"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		faults *openstackfake.Faults
		step   func(ctx context.Context) error
	}{
		{"compute keypair", &nova.Faults, func(ctx context.Context) error {
			_, _, err := compute.EnsureKeypair(ctx, Keypair{Name: "k", PublicKey: "ssh-ed25519 AAAA"})
			return err
		}},
		{"volume quota", &cinder.Faults, func(ctx context.Context) error {
			_, err := volume.EnsureQuota(ctx, "p", Quota{"volumes": -1})
			return err
		}},
		{"network", &neutron.Faults, func(ctx context.Context) error {
			_, _, err := network.EnsureNetwork(ctx, NetworkSpec{Name: "lb-mgmt-net"})
			return err
		}},
		{"port", &neutron.Faults, func(ctx context.Context) error {
			_, _, err := network.EnsurePort(ctx, Port{Name: "hm", NetworkID: "n", HostID: "ctl1"})
			return err
		}},
		{"image", &glance.Faults, func(ctx context.Context) error {
			_, _, err := images.EnsureImage(ctx, Image{Name: "cirros", Source: imageFile, DiskFormat: "raw"})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/500 then success", func(t *testing.T) {
			tt.faults.FailFirst.Store(1)
			if err := tt.step(context.Background()); err != nil {
				t.Errorf("after one 500: %v", err)
			}
		})
		t.Run(tt.name+"/cancelled", func(t *testing.T) {
			tt.faults.FailFirst.Store(1 << 20)
			defer tt.faults.FailFirst.Store(0)
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tt.step(ctx)
			if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
				t.Errorf("err %v after %s, want the context's error at once", err, time.Since(start))
			}
		})
	}
}
