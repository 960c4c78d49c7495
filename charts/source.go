package charts

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// ErrNotInSource is returned by a Source that does not hold a chart.
var ErrNotInSource = errors.New("not in this source")

// maxArchiveSize bounds a downloaded chart archive.
const maxArchiveSize = 64 << 20

// Source gives charts by name and version.
type Source interface {
	// Fetch returns the chart, or an error wrapping ErrNotInSource when the
	// source does not hold it.
	Fetch(ctx context.Context, e Entry) (*chart.Chart, error)
	// String says where the source is, for errors.
	String() string
}

// DirSource is a directory of unpacked charts, one per subdirectory named
// after the chart (an atmosphere checkout's charts/).
type DirSource struct{ Dir string }

// Fetch loads Dir/<name>, when its Chart.yaml has the entry's version.
func (s DirSource) Fetch(_ context.Context, e Entry) (*chart.Chart, error) {
	path := filepath.Join(s.Dir, e.Name)
	if _, err := os.Stat(filepath.Join(path, "Chart.yaml")); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrNotInSource)
	}
	c, err := loader.LoadDir(path)
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", path, err)
	}
	if c.Metadata.Version != e.Version {
		return nil, fmt.Errorf("%s holds version %s: %w", path, c.Metadata.Version, ErrNotInSource)
	}
	return c, nil
}

func (s DirSource) String() string { return "directory " + s.Dir }

// ArchiveSource is a directory of packaged charts named <name>-<version>.tgz
// (what `helm package` and `helm pull` write).
type ArchiveSource struct{ Dir string }

// Fetch loads Dir/<name>-<version>.tgz.
func (s ArchiveSource) Fetch(_ context.Context, e Entry) (*chart.Chart, error) {
	path := filepath.Join(s.Dir, e.Name+"-"+e.Version+".tgz")
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrNotInSource)
	}
	if err != nil {
		return nil, err
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", path, err)
	}
	return c, nil
}

func (s ArchiveSource) String() string { return "archives in " + s.Dir }

// RepoSource fetches charts from the HTTP Helm repository (index.yaml) or
// OCI registry their catalogue entry names.
type RepoSource struct {
	// HTTP is the client for HTTP repositories; http.DefaultClient when nil.
	HTTP *http.Client
	// PlainHTTP talks to OCI registries without TLS (local registries).
	PlainHTTP bool
}

// Fetch downloads the chart from its entry's repository.
func (s RepoSource) Fetch(ctx context.Context, e Entry) (*chart.Chart, error) {
	if e.Repository == "" {
		return nil, fmt.Errorf("%s names no repository: %w", e.Ref(), ErrNotInSource)
	}
	var data []byte
	var err error
	if e.IsOCI() {
		data, err = s.pullOCI(ctx, e)
	} else {
		data, err = s.downloadHTTP(ctx, e)
	}
	if err != nil {
		return nil, err
	}
	c, err := loader.LoadArchive(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("load chart %s from %s: %w", e.Ref(), e.Repository, err)
	}
	return c, nil
}

func (s RepoSource) String() string { return "the chart's repository" }

func (s RepoSource) client() *http.Client {
	if s.HTTP != nil {
		return s.HTTP
	}
	return http.DefaultClient
}

func (s RepoSource) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.client().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxArchiveSize+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if len(data) > maxArchiveSize {
		return nil, fmt.Errorf("GET %s: larger than %d MiB", u, maxArchiveSize>>20)
	}
	return data, nil
}

func (s RepoSource) downloadHTTP(ctx context.Context, e Entry) ([]byte, error) {
	base := strings.TrimSuffix(e.Repository, "/") + "/"
	raw, err := s.get(ctx, base+"index.yaml")
	if err != nil {
		return nil, fmt.Errorf("read index of %s: %w", e.Repository, err)
	}
	var index repo.IndexFile
	if err := yaml.Unmarshal(raw, &index); err != nil {
		return nil, fmt.Errorf("read index of %s: %w", e.Repository, err)
	}
	index.SortEntries()
	cv, err := index.Get(e.Name, e.Version)
	if err != nil || cv.Version != e.Version {
		return nil, fmt.Errorf("%s has no %s: %w", e.Repository, e.Ref(), ErrNotInSource)
	}
	if len(cv.URLs) == 0 {
		return nil, fmt.Errorf("%s lists %s without a URL", e.Repository, e.Ref())
	}
	baseURL, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("repository %s: %w", e.Repository, err)
	}
	ref, err := url.Parse(cv.URLs[0])
	if err != nil {
		return nil, fmt.Errorf("%s: URL of %s: %w", e.Repository, e.Ref(), err)
	}
	u := baseURL.ResolveReference(ref).String()
	data, err := s.get(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("download %s: %w", e.Ref(), err)
	}
	if cv.Digest != "" {
		if got := sha256Hex(data); got != cv.Digest {
			return nil, fmt.Errorf("download %s from %s: archive sha256 %s, the repository's index says %s", e.Ref(), u, got, cv.Digest)
		}
	}
	return data, nil
}

func (s RepoSource) pullOCI(ctx context.Context, e Entry) ([]byte, error) {
	opts := []registry.ClientOption{registry.ClientOptWriter(io.Discard)}
	if s.PlainHTTP {
		opts = append(opts, registry.ClientOptPlainHTTP())
	}
	client, err := registry.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("OCI client: %w", err)
	}
	ref := strings.TrimPrefix(strings.TrimSuffix(e.Repository, "/"), "oci://") + "/" + e.Name + ":" + e.Version
	type pulled struct {
		data []byte
		err  error
	}
	done := make(chan pulled, 1)
	go func() { // the registry client takes no context
		res, err := client.Pull(ref, registry.PullOptWithChart(true))
		if err != nil {
			done <- pulled{err: fmt.Errorf("pull %s: %w", ref, err)}
			return
		}
		done <- pulled{data: res.Chart.Data}
	}()
	select {
	case p := <-done:
		return p.data, p.err
	case <-ctx.Done():
		return nil, fmt.Errorf("pull %s: %w", ref, ctx.Err())
	}
}

// Loader loads pinned charts from its sources in order, checks each against
// the catalogue, and keeps what it downloaded in a cache directory.
//
// A Loader also remembers every chart it has loaded and checked, for its
// whole life: a chart is read and its digest computed once, however many
// times a run asks for it, and each caller gets a copy of its own (Helm's
// install and upgrade change the chart they are given: see copyChart).
// Make a Loader per run when the charts' sources may change between runs.
// A Loader must not be copied after first use.
type Loader struct {
	Catalog *Catalog
	// Sources are tried in order; the cache comes first, RepoSource usually
	// last.
	Sources []Source
	// CacheDir, when set, keeps downloaded charts as <name>-<version>.tgz.
	CacheDir string
	Log      *slog.Logger

	mu     sync.Mutex
	loaded map[Ref]*loading
}

// loading is one chart's load, shared by every caller that asks for it
// while or after it is made: done is closed when chart, digest and err
// are set. A failed load is forgotten, so that the next caller tries
// again (a cancelled download is not a broken chart).
type loading struct {
	done   chan struct{}
	chart  *chart.Chart
	digest string
	err    error
}

// Load returns the chart pinned for ref.
func (l *Loader) Load(ctx context.Context, ref Ref) (*chart.Chart, error) {
	c, _, err := l.LoadWithDigest(ctx, ref)
	return c, err
}

// LoadWithDigest returns the chart pinned for ref and its content digest
// (ContentDigest), computed once while checking it.
func (l *Loader) LoadWithDigest(ctx context.Context, ref Ref) (*chart.Chart, string, error) {
	e, ok := l.Catalog.Lookup(ref)
	if !ok {
		return nil, "", fmt.Errorf("chart %s is not in the catalogue", ref)
	}
	key := e.Ref()
	l.mu.Lock()
	ld, ok := l.loaded[key]
	if !ok {
		if l.loaded == nil {
			l.loaded = map[Ref]*loading{}
		}
		ld = &loading{done: make(chan struct{})}
		l.loaded[key] = ld
		l.mu.Unlock()
		ld.chart, ld.digest, ld.err = l.load(ctx, e, ref)
		if ld.err != nil {
			l.mu.Lock()
			delete(l.loaded, key)
			l.mu.Unlock()
		}
		close(ld.done)
	} else {
		l.mu.Unlock()
		select {
		case <-ld.done:
		case <-ctx.Done():
			return nil, "", fmt.Errorf("chart %s: %w", ref, ctx.Err())
		}
	}
	if ld.err != nil {
		return nil, "", ld.err
	}
	return copyChart(ld.chart), ld.digest, nil
}

// load fetches the chart of e from the first source that holds it and
// checks it against the catalogue.
func (l *Loader) load(ctx context.Context, e Entry, ref Ref) (*chart.Chart, string, error) {
	sources := l.Sources
	if l.CacheDir != "" {
		sources = append([]Source{ArchiveSource{Dir: l.CacheDir}}, sources...)
	}
	var misses []string
	for _, src := range sources {
		c, err := src.Fetch(ctx, e)
		if errors.Is(err, ErrNotInSource) {
			misses = append(misses, err.Error())
			continue
		}
		if err != nil {
			return nil, "", fmt.Errorf("chart %s: %w", ref, err)
		}
		digest := ContentDigest(c)
		if err := verify(e, src.String(), c, digest); err != nil {
			return nil, "", err
		}
		if e.Digest == "" && l.Log != nil {
			l.Log.Warn("chart not pinned by digest", "chart", ref.String(), "digest", digest, "source", src.String())
		}
		if _, remote := src.(RepoSource); remote && l.CacheDir != "" {
			if err := l.store(c); err != nil && l.Log != nil {
				l.Log.Warn("cannot cache chart", "chart", ref.String(), "err", err)
			}
		}
		return c, digest, nil
	}
	return nil, "", fmt.Errorf("chart %s found nowhere: %s", ref, strings.Join(misses, "; "))
}

// store packages c into the cache, atomically.
func (l *Loader) store(c *chart.Chart) error {
	if err := os.MkdirAll(l.CacheDir, 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(l.CacheDir, ".store-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	path, err := saveArchive(c, tmp)
	if err != nil {
		return err
	}
	return os.Rename(path, filepath.Join(l.CacheDir, filepath.Base(path)))
}
