// Command pincharts writes charts/catalog.yaml: one entry per chart of an
// atmosphere checkout's charts/ directory, with the repository its
// .charts.yml names and the digest of the chart's content, plus the charts
// atmosphere pulls from elsewhere (cert-manager, unpinned: its OCI registry
// is not reachable from where this runs).
//
//	go run ./hack/pincharts -atmosphere ../shared/atmosphere -out charts/catalog.yaml
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"

	"helm.sh/helm/v3/pkg/chart/loader"
	"sigs.k8s.io/yaml"

	"github.com/vexxhost/atmosphere-go/charts"
)

func main() {
	atmosphere := flag.String("atmosphere", "../shared/atmosphere", "an atmosphere checkout")
	out := flag.String("out", "charts/catalog.yaml", "the catalogue to write")
	flag.Parse()
	if err := run(*atmosphere, *out); err != nil {
		fmt.Fprintln(os.Stderr, "pincharts:", err)
		os.Exit(1)
	}
}

func run(atmosphere, out string) error {
	log.SetOutput(io.Discard) // the chart loader warns about apiVersion v1 charts
	raw, err := os.ReadFile(filepath.Join(atmosphere, ".charts.yml"))
	if err != nil {
		return err
	}
	var manifest struct {
		Charts []struct {
			Name       string
			Repository struct{ URL string }
		}
	}
	if err := yaml.Unmarshal(raw, &manifest); err != nil {
		return fmt.Errorf(".charts.yml: %w", err)
	}
	repos := map[string]string{}
	for _, c := range manifest.Charts {
		repos[c.Name] = c.Repository.URL
	}
	dir := filepath.Join(atmosphere, "charts")
	dirs, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	cat, err := charts.ParseCatalog("empty", []byte("charts: []"))
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(dir, d.Name(), "Chart.yaml")); err != nil {
			continue
		}
		c, err := loader.LoadDir(filepath.Join(dir, d.Name()))
		if err != nil {
			return fmt.Errorf("load %s: %w", d.Name(), err)
		}
		cat = cat.With(charts.Entry{Name: c.Name(), Version: c.Metadata.Version,
			Repository: repos[c.Name()], Digest: charts.ContentDigest(c)})
	}
	cat = cat.With(charts.Entry{Name: "cert-manager", Version: "v1.15.5", Repository: "oci://ghcr.io/vexxhost/charts"})
	data, err := cat.Marshal()
	if err != nil {
		return err
	}
	header := "# The pinned charts. Regenerate with: go run ./hack/pincharts\n"
	return os.WriteFile(out, append([]byte(header), data...), 0o644)
}
