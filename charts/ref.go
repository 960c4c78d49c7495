// Package charts knows where atmosphere's Helm charts come from: a pinned
// catalogue (name, version, repository, sha256 digest of the chart's
// content) and the sources a chart is loaded from (a directory of unpacked
// charts, packaged .tgz files, an HTTP Helm repository, an OCI registry).
// Whatever the source, a chart whose digest differs from the pin is refused.
package charts

import "fmt"

// Ref names a chart at a pinned version.
type Ref struct {
	// Name is the chart's name as its Chart.yaml gives it.
	Name string
	// Version is the chart's version as its Chart.yaml gives it.
	Version string
}

// String returns name@version.
func (r Ref) String() string { return fmt.Sprintf("%s@%s", r.Name, r.Version) }
