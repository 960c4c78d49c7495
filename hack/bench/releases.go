package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/dag"
)

// release is a Helm release of the deployment, as every tool deploys it.
type release struct {
	// Component is the registry's name; Unit its Helm unit.
	Component, Unit string
	Name, Namespace string
	// ChartDir is the unpacked chart, pinned version.
	ChartDir string
	// Needs are the releases it needs ("namespace/name"), through any
	// non-Helm unit between them.
	Needs []string
}

// id is helmfile's name of a release.
func (r release) id() string { return r.Namespace + "/" + r.Name }

// workload is the Helm releases of a graph, in an order that respects
// their needs, and the units atmosphere's run leaves out: those that are
// not work on the cluster (OpenStack set-up, Ansible, keycloak realms).
// Its manifest units (a cluster issuer, the Percona XtraDB cluster…) stay:
// leaving one out would let what needs it start too soon, so atmosphere
// does that bit more work than the other tools.
type workload struct {
	releases []release
	skip     []string
}

// helmWorkload finds the Helm units of g and, for each, the Helm units it
// needs directly or through units of other kinds (set-up, manifests,
// Ansible), which the comparison leaves out.
func helmWorkload(reg *components.Registry, g *dag.Graph[string], chartDirs []string) (*workload, error) {
	order, err := g.TopologicalOrder()
	if err != nil {
		return nil, err
	}
	isHelm := map[string]bool{}
	var w workload
	for _, key := range order {
		name, phase := components.SplitUnit(key)
		c, _ := reg.Get(name)
		p, _ := c.Phase(phase)
		isHelm[key] = p.Kind == components.Helm
		if p.Kind != components.Helm && p.Kind != components.Manifest {
			w.skip = append(w.skip, key)
		}
	}
	byUnit := map[string]release{}
	for _, key := range order {
		if !isHelm[key] {
			continue
		}
		name, _ := components.SplitUnit(key)
		c, _ := reg.Get(name)
		dir, err := chartDir(chartDirs, c.Chart.Name, c.Chart.Version)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		r := release{Component: name, Unit: key, Name: c.Release, Namespace: c.Namespace, ChartDir: dir}
		seen := map[string]bool{}
		var walk func(string)
		walk = func(k string) {
			n, _ := g.Node(k)
			for _, need := range n.Needs {
				if seen[need] {
					continue
				}
				seen[need] = true
				if isHelm[need] {
					r.Needs = append(r.Needs, byUnit[need].id())
					continue
				}
				walk(need)
			}
		}
		walk(key)
		slices.Sort(r.Needs)
		r.Needs = slices.Compact(r.Needs)
		byUnit[key] = r
		w.releases = append(w.releases, r)
	}
	return &w, nil
}

// chartDir finds the unpacked chart of that name and version in dirs.
func chartDir(dirs []string, name, version string) (string, error) {
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if _, err := os.Stat(filepath.Join(p, "Chart.yaml")); err != nil {
			continue
		}
		c, err := loader.LoadDir(p)
		if err != nil {
			return "", err
		}
		if c.Metadata.Version == version {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("chart %s %s is in none of %v", name, version, dirs)
}
