package bootstrap

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeGlance serves the image API as glance does for what gophercloud
// uses; uploads are read as a stream and only their md5 is kept.
type fakeGlance struct {
	mu     sync.Mutex
	images map[string]map[string]any
	next   int
}

func (g *fakeGlance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	path := strings.TrimPrefix(r.URL.Path, "/v2/images")
	switch {
	case r.Method == http.MethodGet && path == "":
		g.mu.Lock()
		list := []map[string]any{}
		for _, img := range g.images {
			if name := r.URL.Query().Get("name"); name == "" || img["name"] == name {
				list = append(list, img)
			}
		}
		g.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{"images": list})
	case r.Method == http.MethodPost && path == "":
		var img map[string]any
		json.NewDecoder(r.Body).Decode(&img)
		g.mu.Lock()
		g.next++
		img["id"] = fmt.Sprintf("img-%d", g.next)
		img["status"] = "queued"
		g.images[img["id"].(string)] = img
		g.mu.Unlock()
		w.WriteHeader(201)
		json.NewEncoder(w).Encode(img)
	case r.Method == http.MethodPut && strings.HasSuffix(path, "/file"):
		id := strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/file")
		h := md5.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		g.mu.Lock()
		g.images[id]["checksum"] = hex.EncodeToString(h.Sum(nil))
		g.images[id]["size"] = n
		g.images[id]["status"] = "active"
		g.mu.Unlock()
		w.WriteHeader(204)
	case r.Method == http.MethodGet:
		g.mu.Lock()
		img, ok := g.images[strings.TrimPrefix(path, "/")]
		g.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(img)
	case r.Method == http.MethodDelete:
		g.mu.Lock()
		delete(g.images, strings.TrimPrefix(path, "/"))
		g.mu.Unlock()
		w.WriteHeader(204)
	default:
		http.NotFound(w, r)
	}
}

func newImages(t *testing.T, glance http.Handler) *Images {
	t.Helper()
	return NewImages(fakeClient(t, glance, "v2/"), nil)
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
	glance := &fakeGlance{images: map[string]map[string]any{}}
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
	glance := &fakeGlance{images: map[string]map[string]any{
		// A half-made image left by an interrupted run.
		"stale": {"id": "stale", "name": "cirros", "status": "queued"},
	}}
	m := newImages(t, glance)
	img, changed, err := m.EnsureImage(context.Background(), Image{Name: "cirros", Source: path, DiskFormat: "raw"})
	if err != nil || !changed {
		t.Fatalf("changed %v err %v", changed, err)
	}
	if _, ok := glance.images["stale"]; ok || len(glance.images) != 1 {
		t.Errorf("images %v: the half-made one must be replaced", glance.images)
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
	for _, i := range glance.images {
		if i["name"] == "other" {
			t.Errorf("an image with the wrong checksum was kept")
		}
	}
}
