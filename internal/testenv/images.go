package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
)

// Environment variables ImageServer.Env sets: the URLs of its images,
// which the demo's inventory (testdata/inventories/demo) names with
// lookup('env', …).
const (
	EnvDemoImageRaw   = "ATMOSPHERE_DEMO_IMAGE_RAW"
	EnvDemoImageQCOW2 = "ATMOSPHERE_DEMO_IMAGE_QCOW2"
)

// ImageServer serves, on loopback, two tiny disk images made here by
// qemu-img (qemu-utils, installed when missing): a raw one and a qcow2
// one, both 1 MiB of virtual disk. They are real images of their format,
// which glance stores as it would a cloud image: the stand-ins of the
// images atmosphere's set-up otherwise downloads from the internet
// (cirros, the amphora, manila's service image, magnum's cluster images).
// Fill in Dir, then Start; Close stops it.
type ImageServer struct {
	// Dir holds the images; they are made when missing.
	Dir string

	// URLs of the raw and the qcow2 image, set by Start.
	RawURL, QCOW2URL string

	srv *http.Server
}

// Start makes the images when missing and serves Dir on a free loopback
// port until Close or ctx ends.
func (s *ImageServer) Start(ctx context.Context) error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return err
	}
	if err := EnsurePackages(ctx, "/usr/bin/qemu-img", "qemu-utils"); err != nil {
		return err
	}
	for _, format := range []string{"raw", "qcow2"} {
		path := filepath.Join(s.Dir, "disk."+format)
		if _, err := os.Stat(path); err == nil {
			continue
		}
		tmp := path + ".tmp"
		out, err := exec.CommandContext(ctx, "/usr/bin/qemu-img", "create", "-q", "-f", format, tmp, "1M").CombinedOutput()
		if err != nil {
			return fmt.Errorf("qemu-img create %s: %w: %s", format, err, out)
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + l.Addr().String()
	s.RawURL, s.QCOW2URL = base+"/disk.raw", base+"/disk.qcow2"
	s.srv = &http.Server{Handler: http.FileServer(http.Dir(s.Dir)), BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() {
		if err := s.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "image server: %v\n", err)
		}
	}()
	return nil
}

// Env is the environment that points the demo's inventory at the images.
func (s *ImageServer) Env() []string {
	return []string{EnvDemoImageRaw + "=" + s.RawURL, EnvDemoImageQCOW2 + "=" + s.QCOW2URL}
}

// Close stops serving.
func (s *ImageServer) Close() error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Close()
}
