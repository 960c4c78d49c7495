package charts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	dockerregistry "github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/registry"
	"helm.sh/helm/v3/pkg/repo"
	"sigs.k8s.io/yaml"
)

// sharedCharts is the atmosphere checkout's charts, beside this checkout.
var sharedCharts = filepath.Join("..", "..", "shared", "atmosphere", "charts")

func TestMain(m *testing.M) {
	log.SetOutput(io.Discard) // the chart loader warns about apiVersion v1 charts
	os.Exit(m.Run())
}

// probe is a small chart of our own, with a pin made for it.
func probe(t testing.TB) (*chart.Chart, Entry) {
	t.Helper()
	c, err := loader.LoadDir(filepath.Join("..", "testdata", "charts", "probe"))
	if err != nil {
		t.Fatal(err)
	}
	return c, Entry{Name: c.Name(), Version: c.Metadata.Version, Digest: ContentDigest(c)}
}

func TestDefaultCatalogPinsEverySharedChart(t *testing.T) {
	dirs, err := os.ReadDir(sharedCharts)
	if err != nil {
		t.Fatalf("shared charts: %v", err)
	}
	l := &Loader{Catalog: Default(), Sources: []Source{DirSource{Dir: sharedCharts}}}
	n := 0
	for _, d := range dirs {
		raw, err := os.ReadFile(filepath.Join(sharedCharts, d.Name(), "Chart.yaml"))
		if err != nil {
			continue
		}
		var meta struct{ Name, Version string }
		if err := yaml.Unmarshal(raw, &meta); err != nil {
			t.Fatal(err)
		}
		n++
		if _, err := l.Load(context.Background(), Ref{meta.Name, meta.Version}); err != nil {
			t.Errorf("%s: %v", d.Name(), err)
		}
	}
	if n < 40 {
		t.Errorf("only %d shared charts found", n)
	}
	for _, e := range Default().Entries() {
		if e.Digest == "" && e.Name != "cert-manager" {
			t.Errorf("%s is not pinned by digest", e.Ref())
		}
	}
}

// A chart packaged by Helm has the digest of its directory, for every
// shared chart: one pin serves both sources.
func TestPackagedChartHasTheDigestOfItsDirectory(t *testing.T) {
	tmp := t.TempDir()
	for _, e := range Default().Entries() {
		dir, err := DirSource{Dir: sharedCharts}.Fetch(context.Background(), e)
		if errors.Is(err, ErrNotInSource) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := saveArchive(dir, tmp); err != nil {
			t.Fatal(err)
		}
		packaged, err := ArchiveSource{Dir: tmp}.Fetch(context.Background(), e)
		if err != nil {
			t.Fatal(err)
		}
		if err := verify(e, "archive", packaged, ContentDigest(packaged)); err != nil {
			t.Errorf("%v", err)
		}
	}
}

func TestDigestMismatchNamesTheChart(t *testing.T) {
	c, e := probe(t)
	c.Templates[0].Data = append(c.Templates[0].Data, []byte("\n# changed\n")...)
	tmp := t.TempDir()
	if _, err := saveArchive(c, tmp); err != nil {
		t.Fatal(err)
	}
	l := &Loader{Catalog: Default().With(e), Sources: []Source{ArchiveSource{Dir: tmp}}}
	_, err := l.Load(context.Background(), e.Ref())
	var mismatch *DigestMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("err = %v, want a DigestMismatchError", err)
	}
	if mismatch.Chart != e.Ref() || mismatch.Want != e.Digest || !strings.Contains(err.Error(), "probe@") {
		t.Errorf("mismatch %+v: %v", mismatch, err)
	}
}

func TestLoadErrors(t *testing.T) {
	_, e := probe(t)
	tests := []struct {
		name    string
		catalog *Catalog
		sources []Source
		ref     Ref
		want    string
	}{
		{"not in the catalogue", Default(), nil, Ref{"nova", "9.9.9"}, "chart nova@9.9.9 is not in the catalogue"},
		{"found nowhere", Default().With(e), []Source{DirSource{Dir: t.TempDir()}}, e.Ref(), "found nowhere"},
		{"wrong version in the directory", Default().With(Entry{Name: "probe", Version: "9.9.9"}),
			[]Source{DirSource{Dir: filepath.Join("..", "testdata", "charts")}}, Ref{"probe", "9.9.9"}, "holds version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Loader{Catalog: tt.catalog, Sources: tt.sources}
			if _, err := l.Load(context.Background(), tt.ref); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestParseCatalogReportsEveryProblem(t *testing.T) {
	doc := `charts:
- {name: a, version: "1", repository: ftp://x}
- {name: "", version: "1"}
- {name: b}
- {name: c, version: "1", digest: md5:abc}
- {name: c, version: "1"}
`
	_, err := ParseCatalog("cat.yaml", []byte(doc))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`charts[0] (a): repository "ftp://x"`, "charts[1] (): no name", "charts[2] (b): no version",
		`charts[3] (c): digest "md5:abc"`, "charts[4] (c): c@1 listed twice",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if _, err := ParseCatalog("cat.yaml", []byte("charts: [{name: a, version: 1, extra: x}]")); err == nil || !strings.Contains(err.Error(), "extra") {
		t.Errorf("unknown field: %v", err)
	}
}

// An HTTP Helm repository served by the test: index.yaml and the archive.
func TestHTTPRepositoryAndCache(t *testing.T) {
	c, e := probe(t)
	pkgDir := t.TempDir()
	archive, err := saveArchive(c, pkgDir)
	if err != nil {
		t.Fatal(err)
	}
	index, err := repo.IndexDirectory(pkgDir, "charts/")
	if err != nil {
		t.Fatal(err)
	}
	indexYAML, err := yaml.Marshal(index)
	if err != nil {
		t.Fatal(err)
	}
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/repo/index.yaml":
			w.Write(indexYAML)
		case "/repo/charts/" + filepath.Base(archive):
			http.ServeFile(w, r, archive)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	e.Repository = srv.URL + "/repo"
	cache := t.TempDir()
	l := &Loader{Catalog: Default().With(e), Sources: []Source{RepoSource{}}, CacheDir: cache}
	got, err := l.Load(context.Background(), e.Ref())
	if err != nil {
		t.Fatal(err)
	}
	if ContentDigest(got) != e.Digest || hits.Load() != 2 {
		t.Errorf("digest %s, %d requests", ContentDigest(got), hits.Load())
	}
	if _, err := l.Load(context.Background(), e.Ref()); err != nil || hits.Load() != 2 {
		t.Errorf("second load: %v after %d requests, want it from the cache", err, hits.Load())
	}

	// A pin the repository's chart does not match is refused, and nothing
	// is cached.
	bad := e
	bad.Digest = "sha256:" + strings.Repeat("0", 64)
	cache2 := t.TempDir()
	l = &Loader{Catalog: Default().With(bad), Sources: []Source{RepoSource{}}, CacheDir: cache2}
	var mismatch *DigestMismatchError
	if _, err := l.Load(context.Background(), e.Ref()); !errors.As(err, &mismatch) {
		t.Errorf("err = %v, want a DigestMismatchError", err)
	}
	if entries, _ := os.ReadDir(cache2); len(entries) != 0 {
		t.Errorf("a refused chart was cached: %v", entries)
	}
}

func TestOCIRegistry(t *testing.T) {
	c, e := probe(t)
	host := startRegistry(t)
	client, err := registry.NewClient(registry.ClientOptPlainHTTP(), registry.ClientOptWriter(io.Discard))
	if err != nil {
		t.Fatal(err)
	}
	archive, err := saveArchive(c, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := client.Push(data, fmt.Sprintf("%s/charts/%s:%s", host, e.Name, e.Version)); err != nil {
		t.Fatal(err)
	}
	e.Repository = "oci://" + host + "/charts"
	l := &Loader{Catalog: Default().With(e), Sources: []Source{RepoSource{PlainHTTP: true}}}
	got, err := l.Load(context.Background(), e.Ref())
	if err != nil {
		t.Fatal(err)
	}
	if ContentDigest(got) != e.Digest {
		t.Errorf("pulled digest %s, want %s", ContentDigest(got), e.Digest)
	}
	missing := Entry{Name: "absent", Version: "1.0.0", Repository: e.Repository}
	l = &Loader{Catalog: Default().With(missing), Sources: []Source{RepoSource{PlainHTTP: true}}}
	if _, err := l.Load(context.Background(), missing.Ref()); err == nil || !strings.Contains(err.Error(), "absent:1.0.0") {
		t.Errorf("missing chart: %v", err)
	}
}

// startRegistry runs an in-memory OCI registry (distribution, the code
// behind Docker's registry) on a free loopback port.
func startRegistry(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	config := &configuration.Configuration{}
	config.HTTP.Addr = addr
	config.HTTP.DrainTimeout = time.Second
	config.Log.AccessLog.Disabled = true
	config.Log.Level = "error"
	config.Storage = map[string]configuration.Parameters{"inmemory": map[string]any{}}
	ctx, cancel := context.WithCancel(context.Background())
	reg, err := dockerregistry.NewRegistry(ctx, config)
	if err != nil {
		t.Fatal(err)
	}
	go reg.ListenAndServe()
	t.Cleanup(func() {
		cancel()
		reg.Shutdown(context.Background())
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("registry on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
