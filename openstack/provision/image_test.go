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
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/internal/openstackfake"
)

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

// TestImageFromURLStreams uploads a 256 MiB image from an HTTP source: the
// heap never grows by more than a fraction of it, and a second run skips it.
func TestImageFromURLStreams(t *testing.T) {
	const size = 256 << 20
	source := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, &pattern{left: size})
	}))
	defer source.Close()
	glance := &openstackfake.Glance{}
	m := newImages(t, glance)

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
	img, changed, err := m.EnsureImage(context.Background(), Image{Name: "amphora-x64-haproxy", Source: source.URL + "/amphora.qcow2",
		DiskFormat: "qcow2", Tags: []string{"amphora"}})
	close(stop)
	<-sampled
	if err != nil || !changed || img.Status != "active" || img.SizeBytes != size {
		t.Fatalf("upload: %+v changed %v err %v", img, changed, err)
	}
	if grew := int64(peak.Load()) - int64(before.HeapInuse); grew > 64<<20 {
		t.Errorf("the heap grew by %d MiB while uploading %d MiB: the image is not streamed", grew>>20, size>>20)
	}
	if _, changed, err := m.EnsureImage(context.Background(), Image{Name: "amphora-x64-haproxy", Source: source.URL + "/amphora.qcow2", DiskFormat: "qcow2"}); err != nil || changed {
		t.Errorf("second run: changed %v err %v", changed, err)
	}
}

func TestImageFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cirros.img")
	if err := os.WriteFile(path, []byte(strings.Repeat("cirros", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	glance := &openstackfake.Glance{}
	// A half-made image left by an interrupted run.
	glance.Add("images", map[string]any{"id": "stale", "name": "cirros", "status": "queued"})
	m := newImages(t, glance)
	img, changed, err := m.EnsureImage(context.Background(), Image{Name: "cirros", Source: path, DiskFormat: "raw"})
	if err != nil || !changed {
		t.Fatalf("changed %v err %v", changed, err)
	}
	if imgs := glance.Objects("images"); len(imgs) != 1 || imgs[0]["id"] == "stale" {
		t.Errorf("images %v: the half-made one must be replaced", imgs)
	}
	if _, changed, err := m.EnsureImage(context.Background(), Image{Name: "cirros", Source: path, DiskFormat: "raw"}); err != nil || changed {
		t.Errorf("second run: changed %v err %v", changed, err)
	}
	sum := md5.Sum([]byte(strings.Repeat("cirros", 1000)))
	if img.Checksum != hex.EncodeToString(sum[:]) {
		t.Errorf("checksum %s", img.Checksum)
	}
	// A wrong expected checksum: the upload is refused and removed.
	_, _, err = m.EnsureImage(context.Background(), Image{Name: "other", Source: path, DiskFormat: "raw", MD5: strings.Repeat("0", 32)})
	if err == nil || !strings.Contains(err.Error(), "md5") {
		t.Errorf("wrong checksum: %v", err)
	}
	for _, i := range glance.Objects("images") {
		if i["name"] == "other" {
			t.Errorf("an image with the wrong checksum was kept")
		}
	}
}
