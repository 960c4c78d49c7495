// Command certmanagerchart assembles the cert-manager chart the tests
// install, from cert-manager's Go module (the same sources its release
// tooling packages): the chart templates, its values, and the CRDs of
// deploy/crds gathered into templates/crds.yaml. One change is ours: the
// two admission webhook configurations are left out when
// webhook.admission is false (they are rendered by default), so a test cluster, whose pods
// never run, can turn them off.
//
//	go run ./hack/certmanagerchart -out testdata/charts/cert-manager
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

const version = "v1.15.5"

func main() {
	out := flag.String("out", "testdata/charts/cert-manager", "where to write the chart")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "certmanagerchart:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	cmd := exec.Command("go", "mod", "download", "-json", "github.com/cert-manager/cert-manager@"+version)
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	raw, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("go mod download: %w", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(raw, &mod); err != nil {
		return err
	}
	src := filepath.Join(mod.Dir, "deploy", "charts", "cert-manager")
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, "templates"), 0o755); err != nil {
		return err
	}
	chartYAML, err := os.ReadFile(filepath.Join(src, "Chart.template.yaml"))
	if err != nil {
		return err
	}
	chartYAML = bytes.ReplaceAll(chartYAML, []byte("v0.0.0"), []byte(version))
	chartYAML = bytes.ReplaceAll(chartYAML, []byte(`"{{IS_PRERELEASE}}"`), []byte(`"false"`))
	if err := os.WriteFile(filepath.Join(out, "Chart.yaml"), chartYAML, 0o644); err != nil {
		return err
	}
	valuesYAML, err := os.ReadFile(filepath.Join(src, "values.yaml"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "values.yaml"), valuesYAML, 0o644); err != nil {
		return err
	}
	templates, err := os.ReadDir(filepath.Join(src, "templates"))
	if err != nil {
		return err
	}
	for _, t := range templates {
		data, err := os.ReadFile(filepath.Join(src, "templates", t.Name()))
		if err != nil {
			return err
		}
		if strings.HasSuffix(t.Name(), "-webhook.yaml") && strings.HasPrefix(t.Name(), "webhook-") {
			data = append(append([]byte("{{- /* atmosphere tests: webhook.admission=false leaves this out */}}\n{{- if ne (toString .Values.webhook.admission) \"false\" }}\n"), data...), []byte("\n{{- end }}\n")...)
		}
		if err := os.WriteFile(filepath.Join(out, "templates", t.Name()), data, 0o644); err != nil {
			return err
		}
	}
	crds, err := filepath.Glob(filepath.Join(mod.Dir, "deploy", "crds", "crd-*.yaml"))
	if err != nil {
		return err
	}
	slices.Sort(crds)
	var all bytes.Buffer
	for _, path := range crds {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		all.WriteString("---\n# Source: " + filepath.Base(path) + "\n")
		all.Write(data)
		all.WriteString("\n")
	}
	if err := os.WriteFile(filepath.Join(out, "templates", "crds.yaml"), all.Bytes(), 0o644); err != nil {
		return err
	}
	readme := "cert-manager " + version + " assembled by hack/certmanagerchart from cert-manager's Go module\n" +
		"(Apache-2.0). Regenerate with: go run ./hack/certmanagerchart\n"
	return os.WriteFile(filepath.Join(out, "README.md"), []byte(readme), 0o644)
}
