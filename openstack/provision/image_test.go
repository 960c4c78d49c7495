package provision

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/vexxhost/atmosphere-go/internal/openstackfake"
)

// newImages is the image steps over a fake glance, for the fault tests
// (faults_test.go): a real glance answers no 500 on demand.
func newImages(t *testing.T, glance http.Handler) *Images {
	t.Helper()
	return NewImages(openstackfake.Client(t, glance, "v2/"), nil)
}

// pattern is an endless, cheap stream of bytes.
type pattern struct{ left int64 }

func (p *pattern) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(b))
	if n > p.left {
		n = p.left
	}
	for i := range b[:n] {
		b[i] = byte(i * 7)
	}
	p.left -= n
	return int(n), nil
}

// TestImageFromURLStreams uploads a 256 MiB image from an HTTP source to
// the test bed's glance: the heap never grows by more than a fraction of
// it, glance stores every byte, and a second run skips it.
func TestImageFromURLStreams(t *testing.T) {
	const size = 256 << 20
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, &pattern{left: size})
	}))
	defer source.Close()
	r := newReal(t)
	m := r.images
	name := runName(t, "amphora-x64-haproxy")
	t.Cleanup(func() { deleteImages(r.clients["image"], name) })

	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			var s runtime.MemStats
			runtime.ReadMemStats(&s)
			if s.HeapInuse > peak.Load() {
				peak.Store(s.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	img, changed, err := m.EnsureImage(context.Background(), Image{Name: name, Source: source.URL + "/amphora.qcow2",
		DiskFormat: "qcow2", Tags: []string{"amphora"}})
	close(stop)
	<-sampled
	if err != nil || !changed || img.Status != "active" || img.SizeBytes != size {
		t.Fatalf("upload: %+v changed %v err %v", img, changed, err)
	}
	if grew := int64(peak.Load()) - int64(before.HeapInuse); grew > 64<<20 {
		t.Errorf("the heap grew by %d MiB while uploading %d MiB: the image is not streamed", grew>>20, size>>20)
	}
	if _, changed, err := m.EnsureImage(context.Background(), Image{Name: name, Source: source.URL + "/amphora.qcow2", DiskFormat: "qcow2"}); err != nil || changed {
		t.Errorf("second run: changed %v err %v", changed, err)
	}
	if got := imagesNamed(t, r.clients["image"], name); len(got) != 1 || got[0].SizeBytes != size || !slices.Contains(got[0].Tags, "amphora") {
		t.Errorf("images %+v, want one of %d bytes tagged amphora", got, size)
	}
}

// imagesNamed lists the images of a name.
func imagesNamed(t *testing.T, client *gophercloud.ServiceClient, name string) []images.Image {
	t.Helper()
	got, err := all(context.Background(), images.List(client, images.ListOpts{Name: name}), images.ExtractImages)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// deleteImages removes a test's images from the shared glance.
func deleteImages(client *gophercloud.ServiceClient, names ...string) {
	ctx := context.Background()
	for _, name := range names {
		got, _ := all(ctx, images.List(client, images.ListOpts{Name: name}), images.ExtractImages)
		for _, img := range got {
			_ = images.Delete(ctx, client, img.ID).ExtractErr()
		}
	}
}

// TestImageFromFile uploads a file to the test bed's glance, replacing a
// half-made (queued) image of the name an interrupted run left; a second
// run keeps it; an upload whose md5 is not the one expected is refused and
// removed.
func TestImageFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cirros.img")
	if err := os.WriteFile(path, []byte(strings.Repeat("cirros", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	r := newReal(t)
	client := r.clients["image"]
	ctx := context.Background()
	name, other := runName(t, "cirros"), runName(t, "other")
	t.Cleanup(func() { deleteImages(client, name, other) })
	// A half-made image left by an interrupted run.
	stale, err := images.Create(ctx, client, images.CreateOpts{Name: name, DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	if err != nil || stale.Status != images.ImageStatusQueued {
		t.Fatalf("the half-made image: %+v %v", stale, err)
	}
	m := r.images
	img, changed, err := m.EnsureImage(ctx, Image{Name: name, Source: path, DiskFormat: "raw"})
	if err != nil || !changed {
		t.Fatalf("changed %v err %v", changed, err)
	}
	if imgs := imagesNamed(t, client, name); len(imgs) != 1 || imgs[0].ID == stale.ID || imgs[0].Status != images.ImageStatusActive {
		t.Errorf("images %+v: the half-made one must be replaced by an active one", imgs)
	}
	if _, changed, err := m.EnsureImage(ctx, Image{Name: name, Source: path, DiskFormat: "raw"}); err != nil || changed {
		t.Errorf("second run: changed %v err %v", changed, err)
	}
	sum := md5.Sum([]byte(strings.Repeat("cirros", 1000)))
	if img.Checksum != hex.EncodeToString(sum[:]) {
		t.Errorf("checksum %s", img.Checksum)
	}
	// A wrong expected checksum: the upload is refused and removed.
	_, _, err = m.EnsureImage(ctx, Image{Name: other, Source: path, DiskFormat: "raw", MD5: strings.Repeat("0", 32)})
	if err == nil || !strings.Contains(err.Error(), "md5") {
		t.Errorf("wrong checksum: %v", err)
	}
	if got := imagesNamed(t, client, other); len(got) != 0 {
		t.Errorf("an image with the wrong checksum was kept: %+v", got)
	}
}
