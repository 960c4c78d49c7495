package charts

import (
	"crypto/sha256"
	"encoding/hex"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
)

// saveArchive packages c as dir/<name>-<version>.tgz and returns the path.
func saveArchive(c *chart.Chart, dir string) (string, error) {
	return chartutil.Save(c, dir)
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
