// Package images is atmosphere's image table: every container image the
// components run, by the key atmosphere's roles use (atmosphere_images),
// pinned as atmosphere pins it, with the operator's overrides, the
// registry prefix and a registry-mirror rewrite.
package images

//go:generate go run gen.go

import (
	"fmt"
	"regexp"
	"strings"
)

// Table is an image table: a reference by key.
type Table map[string]string

// Default returns atmosphere's pinned table.
func Default() Table {
	t, err := New(Options{})
	if err != nil {
		panic(err) // the pinned table parses: tested
	}
	return t
}

// Options change a table the way an operator's inventory does.
type Options struct {
	// Overrides replace images by key (atmosphere_image_overrides); a key
	// the table does not know is an error, naming it.
	Overrides map[string]string
	// Prefix is put before every pinned reference (atmosphere_image_prefix),
	// overrides excepted.
	Prefix string
	// KubernetesVersion is the version of the Kubernetes images
	// (atmosphere_kubernetes_version); DefaultKubernetesVersion when empty.
	KubernetesVersion string
	// Mirror, when set, is a registry every image is pulled from instead:
	// "mirror.example.com/atmosphere" turns quay.io/ceph/ceph:v18 into
	// mirror.example.com/atmosphere/ceph:v18.
	Mirror string
}

// New builds the table of the options over the pinned one.
func New(o Options) (Table, error) {
	t := Table{}
	version := o.KubernetesVersion
	if version == "" {
		version = DefaultKubernetesVersion
	}
	for k, ref := range pinned {
		t[k] = o.Prefix + strings.ReplaceAll(ref, "{kubernetes_version}", version)
	}
	for k, ref := range o.Overrides {
		if _, ok := pinned[k]; !ok {
			return nil, fmt.Errorf("atmosphere_image_overrides: unknown image %q", k)
		}
		if _, err := Parse(ref); err != nil {
			return nil, fmt.Errorf("atmosphere_image_overrides.%s: %w", k, err)
		}
		t[k] = ref
	}
	if o.Mirror != "" {
		for k, ref := range t {
			r, err := Parse(ref)
			if err != nil {
				return nil, fmt.Errorf("image %s: %w", k, err)
			}
			t[k] = r.In(o.Mirror).String()
		}
	}
	return t, nil
}

// Get returns the image of key; it panics on a key the table lacks, which
// is a bug in a component's values.
func (t Table) Get(key string) string {
	ref, ok := t[key]
	if !ok {
		panic(fmt.Sprintf("images: no image %q", key))
	}
	return ref
}

// Ref returns the parsed image of key.
func (t Table) Ref(key string) Ref {
	r, err := Parse(t.Get(key))
	if err != nil {
		panic(fmt.Sprintf("images: %s: %v", key, err))
	}
	return r
}

// Tags returns the images an openstack-helm chart declares (the keys of its
// images.tags), each from the table; a key the table has no image for keeps
// the chart's default, and image_repo_sync is left out, as atmosphere's
// openstack_helm_image_tags does.
func (t Table) Tags(chartTags map[string]any) map[string]any {
	out := map[string]any{}
	for k := range chartTags {
		if ref, ok := t[k]; ok && k != "image_repo_sync" {
			out[k] = ref
		}
	}
	return out
}

// Ref is a parsed image reference: [domain/]path[:tag][@digest].
type Ref struct {
	Domain, Path, Tag, Digest string
}

var reference = regexp.MustCompile(`^([^@]+?)(?::([\w][\w.-]{0,127}))?(?:@([a-z0-9]+:[a-f0-9]+))?$`)

// Parse parses an image reference.
func Parse(s string) (Ref, error) {
	m := reference.FindStringSubmatch(s)
	if m == nil || strings.ContainsAny(m[1], " \t") {
		return Ref{}, fmt.Errorf("not an image reference: %q", s)
	}
	r := Ref{Path: m[1], Tag: m[2], Digest: m[3]}
	if first, rest, ok := strings.Cut(m[1], "/"); ok && (strings.ContainsAny(first, ".:") || first == "localhost") {
		r.Domain, r.Path = first, rest
	}
	return r, nil
}

// Name is the reference without tag or digest (the Helm charts'
// image.repository).
func (r Ref) Name() string {
	if r.Domain == "" {
		return r.Path
	}
	return r.Domain + "/" + r.Path
}

// String is the whole reference.
func (r Ref) String() string {
	s := r.Name()
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// In returns the reference as pulled from a mirror registry: the mirror,
// then the last element of the path.
func (r Ref) In(mirror string) Ref {
	last := r.Path[strings.LastIndexByte(r.Path, '/')+1:]
	m := strings.TrimSuffix(mirror, "/")
	domain, path, ok := strings.Cut(m, "/")
	if !ok {
		return Ref{Domain: domain, Path: last, Tag: r.Tag, Digest: r.Digest}
	}
	return Ref{Domain: domain, Path: path + "/" + last, Tag: r.Tag, Digest: r.Digest}
}
