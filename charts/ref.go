package charts

import "fmt"

// Ref names a chart at a pinned version.
type Ref struct {
	// Name is the chart's name as its Chart.yaml gives it.
	Name string
	// Version is the chart's version as its Chart.yaml gives it.
	Version string
	// OCI, when set, is the OCI repository the chart comes from instead of
	// the chart directory (cert-manager).
	OCI string
}

// String returns name@version.
func (r Ref) String() string { return fmt.Sprintf("%s@%s", r.Name, r.Version) }
