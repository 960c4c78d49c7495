package helmrelease

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// TestDiff: the diff of a deployed release with one value changed shows
// that change alone, in the objects and in the values; a Secret's changed
// key is named, and neither its value nor its base64 is shown.
func TestDiff(t *testing.T) {
	d, cfg := newDeployer(t)
	ns := testenv.Namespace(t, cfg)
	ctx := context.Background()
	values := func(message, password string) map[string]any {
		return map[string]any{"message": message, "hook": false, "secret": map[string]any{"password": password}}
	}
	r := Release{Name: "probe", Namespace: ns, Chart: probeChart(t), Values: values("one", "s3cr3t-one"), Timeout: 2 * time.Minute}
	if _, err := d.Deploy(ctx, r); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                  string
		values                map[string]any
		manifest, valuesLines []string
	}{
		{name: "unchanged", values: values("one", "s3cr3t-one")},
		{name: "one value", values: values("two", "s3cr3t-one"),
			// The chart's checksum of its ConfigMap changes with it.
			manifest:    []string{"-  message: one", "+  message: two", "-        checksum/config: …", "+        checksum/config: …"},
			valuesLines: []string{"-message: one", "+message: two"}},
		{name: "a secret", values: values("one", "s3cr3t-two"),
			manifest:    []string{"-  password: (hidden)", "+  password: (hidden, changed)"},
			valuesLines: []string{"-  password: (hidden)", "+  password: (hidden, changed)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := r
			want.Values = tt.values
			diff, err := d.Diff(ctx, want)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				what, diff string
				want       []string
			}{{"manifest", diff.Manifest, tt.manifest}, {"values", diff.Values, tt.valuesLines}} {
				if got := changedLines(c.diff); strings.Join(got, "\n") != strings.Join(c.want, "\n") {
					t.Errorf("%s diff changes\n%s\nwant\n%s\nthe diff:\n%s", c.what, strings.Join(got, "\n"), strings.Join(c.want, "\n"), c.diff)
				}
				for _, s := range []string{"s3cr3t-one", "s3cr3t-two"} {
					if b := base64.StdEncoding.EncodeToString([]byte(s)); strings.Contains(c.diff, s) || strings.Contains(c.diff, b) {
						t.Errorf("%s diff shows the secret %q (or %q):\n%s", c.what, s, b, c.diff)
					}
				}
			}
		})
	}
	if last := lastRelease(t, d, ns, "probe"); last.Version != 1 {
		t.Errorf("the diffs left revision %d, want 1: they change nothing", last.Version)
	}
}

// changedLines are the lines of a unified diff that add or remove,
// without its file headers, a checksum's value shown as "…".
func changedLines(diff string) []string {
	var out []string
	for _, l := range strings.Split(diff, "\n") {
		if strings.HasPrefix(l, "---") || strings.HasPrefix(l, "+++") {
			continue
		}
		if strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+") {
			if i := strings.Index(l, "checksum/config: "); i >= 0 {
				l = l[:i] + "checksum/config: …"
			}
			out = append(out, l)
		}
	}
	return out
}
