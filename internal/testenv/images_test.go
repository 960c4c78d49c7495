package testenv

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestImageServer fetches each image the server serves and checks with
// qemu-img that it is a disk image of the format its URL names.
func TestImageServer(t *testing.T) {
	s := &ImageServer{Dir: t.TempDir()}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for format, url := range map[string]string{"raw": s.RawURL, "qcow2": s.QCOW2URL} {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || len(body) == 0 {
			t.Fatalf("GET %s: %d, %d bytes, %v", url, resp.StatusCode, len(body), err)
		}
		path := filepath.Join(t.TempDir(), "fetched")
		if err := os.WriteFile(path, body, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("/usr/bin/qemu-img", "info", "--output", "json", path).Output()
		if err != nil {
			t.Fatalf("qemu-img info of %s: %v", url, err)
		}
		var info struct {
			Format      string `json:"format"`
			VirtualSize int64  `json:"virtual-size"`
		}
		if err := json.Unmarshal(out, &info); err != nil || info.Format != format || info.VirtualSize != 1<<20 {
			t.Errorf("%s: qemu-img says %s of %d bytes (%v), want %s of 1 MiB", url, info.Format, info.VirtualSize, err, format)
		}
	}
	want := map[string]bool{EnvDemoImageRaw + "=" + s.RawURL: true, EnvDemoImageQCOW2 + "=" + s.QCOW2URL: true}
	for _, e := range s.Env() {
		if !want[e] {
			t.Errorf("env %s, want one of %v", e, want)
		}
	}
}
