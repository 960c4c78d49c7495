package provision

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// Image is a glance image to ensure.
type Image struct {
	Name string
	// Source is an http(s) URL or a file path; it is streamed to glance,
	// never held whole in memory.
	Source          string
	DiskFormat      string // qcow2, raw, ...
	ContainerFormat string // bare when empty
	Visibility      images.ImageVisibility
	Tags            []string
	Properties      map[string]string
	// MD5, when known, is the checksum the image must have; for a file it
	// is computed (streaming) when empty. An image of that name whose
	// checksum matches is left alone.
	MD5 string
}

// Images ensures glance images.
type Images struct {
	client *gophercloud.ServiceClient
	http   *http.Client
	locks  keyedMutex
}

// NewImages returns the image steps over an image v2 client; sources are
// fetched with httpClient (http.DefaultClient when nil).
func NewImages(client *gophercloud.ServiceClient, httpClient *http.Client) *Images {
	if httpClient == nil {
		httpClient = http.DefaultClient
	}
	return &Images{client: client, http: httpClient}
}

// EnsureImage ensures an active image of this name: one whose checksum
// matches (or, when the checksum cannot be known before downloading, any
// active one) is kept; otherwise the image is created and its data
// streamed from the source. A half-made image (queued, saving, killed) of
// the name is deleted first.
func (m *Images) EnsureImage(ctx context.Context, want Image) (*images.Image, bool, error) {
	defer m.locks.lock("image:" + want.Name)()
	isURL := strings.HasPrefix(want.Source, "http://") || strings.HasPrefix(want.Source, "https://")
	if want.MD5 == "" && !isURL {
		sum, err := fileMD5(want.Source)
		if err != nil {
			return nil, false, fmt.Errorf("image %s: %w", want.Name, err)
		}
		want.MD5 = sum
	}
	found, err := all(ctx, images.List(m.client, images.ListOpts{Name: want.Name}), images.ExtractImages)
	if err != nil {
		return nil, false, fmt.Errorf("list image %s: %w", want.Name, err)
	}
	for _, img := range found {
		if img.Status == images.ImageStatusActive && (want.MD5 == "" || img.Checksum == want.MD5) {
			return &img, false, nil
		}
	}
	for _, img := range found {
		if img.Status != images.ImageStatusActive {
			if err := images.Delete(ctx, m.client, img.ID).ExtractErr(); err != nil && !gophercloud.ResponseCodeIs(err, 404) {
				return nil, false, fmt.Errorf("delete half-made image %s (%s): %w", want.Name, img.ID, err)
			}
		}
	}
	src, err := m.open(ctx, want.Source, isURL)
	if err != nil {
		return nil, false, fmt.Errorf("image %s: %w", want.Name, err)
	}
	defer src.Close()
	containerFormat := want.ContainerFormat
	if containerFormat == "" {
		containerFormat = "bare"
	}
	visibility := want.Visibility
	if visibility == "" {
		visibility = images.ImageVisibilityPublic
	}
	img, err := images.Create(ctx, m.client, images.CreateOpts{Name: want.Name, DiskFormat: want.DiskFormat,
		ContainerFormat: containerFormat, Visibility: &visibility, Tags: want.Tags, Properties: want.Properties}).Extract()
	if err != nil {
		return nil, false, fmt.Errorf("create image %s: %w", want.Name, err)
	}
	hash := md5.New()
	if err := imagedata.Upload(ctx, m.client, img.ID, io.TeeReader(src, hash)).ExtractErr(); err != nil {
		_ = images.Delete(context.WithoutCancel(ctx), m.client, img.ID).ExtractErr()
		return nil, false, fmt.Errorf("upload image %s: %w", want.Name, err)
	}
	if got := hex.EncodeToString(hash.Sum(nil)); want.MD5 != "" && got != want.MD5 {
		_ = images.Delete(context.WithoutCancel(ctx), m.client, img.ID).ExtractErr()
		return nil, false, fmt.Errorf("image %s from %s: md5 %s, want %s", want.Name, want.Source, got, want.MD5)
	}
	img, err = images.Get(ctx, m.client, img.ID).Extract()
	if err != nil {
		return nil, false, fmt.Errorf("read image %s: %w", want.Name, err)
	}
	return img, true, nil
}

func (m *Images) open(ctx context.Context, source string, isURL bool) (io.ReadCloser, error) {
	if !isURL {
		return os.Open(source)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, source, nil)
	if err != nil {
		return nil, err
	}
	resp, err := m.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", source, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("download %s: %s", source, resp.Status)
	}
	return resp.Body, nil
}

func fileMD5(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("checksum %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
