package charts

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"helm.sh/helm/v3/pkg/chart"
	"sigs.k8s.io/yaml"
)

// Entry is one pinned chart.
type Entry struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	// Repository is where the chart is published: an HTTP Helm repository
	// (https://...) or an OCI repository (oci://host/path, the chart being
	// oci://host/path/name:version).
	Repository string `json:"repository,omitempty"`
	// Digest is "sha256:<hex>" of the chart's content (see ContentDigest).
	// Empty means the chart could not be pinned; it is then loaded and its
	// digest reported, but not checked.
	Digest string `json:"digest,omitempty"`
}

// Ref returns the entry's name and version.
func (e Entry) Ref() Ref { return Ref{Name: e.Name, Version: e.Version} }

// IsOCI reports whether the entry comes from an OCI registry.
func (e Entry) IsOCI() bool { return strings.HasPrefix(e.Repository, "oci://") }

// Catalog is the set of pinned charts, one per name and version.
type Catalog struct {
	entries []Entry
}

//go:embed catalog.yaml
var defaultCatalog []byte

// Default returns the catalogue atmosphere is built with. It is parsed
// once; a Catalog is never changed (With returns a new one), so every
// caller shares it.
func Default() *Catalog { return defaultParsed() }

var defaultParsed = sync.OnceValue(func() *Catalog {
	c, err := ParseCatalog("charts/catalog.yaml", defaultCatalog)
	if err != nil {
		panic(err) // checked by tests
	}
	return c
})

// ParseCatalog reads a catalogue: YAML with a list "charts" of entries.
// Every problem is reported, with the entry it is in.
func ParseCatalog(name string, data []byte) (*Catalog, error) {
	var doc struct {
		Charts []Entry `json:"charts"`
	}
	if err := yaml.UnmarshalStrict(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var problems []string
	seen := map[Ref]bool{}
	for i, e := range doc.Charts {
		where := fmt.Sprintf("%s: charts[%d] (%s)", name, i, e.Name)
		switch {
		case e.Name == "":
			problems = append(problems, where+": no name")
		case e.Version == "":
			problems = append(problems, where+": no version")
		case seen[e.Ref()]:
			problems = append(problems, where+": "+e.Ref().String()+" listed twice")
		}
		seen[e.Ref()] = true
		if e.Repository != "" && !strings.HasPrefix(e.Repository, "oci://") &&
			!strings.HasPrefix(e.Repository, "https://") && !strings.HasPrefix(e.Repository, "http://") {
			problems = append(problems, fmt.Sprintf("%s: repository %q is neither http(s):// nor oci://", where, e.Repository))
		}
		if e.Digest != "" {
			if err := checkDigestSyntax(e.Digest); err != nil {
				problems = append(problems, where+": "+err.Error())
			}
		}
	}
	if len(problems) > 0 {
		return nil, errors.New(strings.Join(problems, "\n"))
	}
	return &Catalog{entries: doc.Charts}, nil
}

func checkDigestSyntax(d string) error {
	hexPart, ok := strings.CutPrefix(d, "sha256:")
	if !ok || len(hexPart) != 64 {
		return fmt.Errorf("digest %q is not sha256:<64 hex digits>", d)
	}
	if _, err := hex.DecodeString(hexPart); err != nil {
		return fmt.Errorf("digest %q is not sha256:<64 hex digits>", d)
	}
	return nil
}

// Lookup returns the entry of a chart version.
func (c *Catalog) Lookup(ref Ref) (Entry, bool) {
	for _, e := range c.entries {
		if e.Name == ref.Name && e.Version == ref.Version {
			return e, true
		}
	}
	return Entry{}, false
}

// Pinned returns the version of the named chart the catalogue pins: its one
// entry of that name. It reports false when the catalogue has no entry of
// that name, or more than one.
func (c *Catalog) Pinned(name string) (Ref, bool) {
	var found []Entry
	for _, e := range c.entries {
		if e.Name == name {
			found = append(found, e)
		}
	}
	if len(found) != 1 {
		return Ref{Name: name}, false
	}
	return found[0].Ref(), true
}

// Entries returns every entry, sorted by name and version.
func (c *Catalog) Entries() []Entry {
	out := slices.Clone(c.entries)
	slices.SortFunc(out, func(a, b Entry) int {
		return strings.Compare(a.Name+"@"+a.Version, b.Name+"@"+b.Version)
	})
	return out
}

// Marshal writes the catalogue as YAML, sorted.
func (c *Catalog) Marshal() ([]byte, error) {
	return yaml.Marshal(struct {
		Charts []Entry `json:"charts"`
	}{c.Entries()})
}

// With returns a copy of the catalogue with e added, or replacing the entry
// of the same name and version.
func (c *Catalog) With(e Entry) *Catalog {
	out := &Catalog{entries: slices.DeleteFunc(slices.Clone(c.entries), func(x Entry) bool { return x.Ref() == e.Ref() })}
	out.entries = append(out.entries, e)
	return out
}

// ContentDigest is "sha256:<hex>" of what a chart is made of: its
// metadata (as parsed from Chart.yaml), values.yaml as written, schema,
// templates, other files, and the digests of its subcharts. It leaves out
// the formatting of Chart.yaml and the lock files, which `helm package`
// rewrites or drops, so an unpacked directory and the .tgz packaged from it
// give the same digest and one pin serves every source.
func ContentDigest(c *chart.Chart) string {
	sorted := sortedFiles
	content := struct {
		Metadata     *chart.Metadata
		Values       []byte
		ParsedValues map[string]any `json:",omitempty"`
		Schema       []byte
		Templates    []file
		Files        []file
		Dependencies []string
	}{Metadata: c.Metadata, Schema: c.Schema, Templates: sorted(c.Templates), Files: sorted(c.Files)}
	for _, f := range c.Raw {
		if f.Name == "values.yaml" {
			content.Values = f.Data
		}
	}
	if content.Values == nil {
		content.ParsedValues = c.Values // a chart built in memory
	}
	for _, d := range c.Dependencies() {
		content.Dependencies = append(content.Dependencies, ContentDigest(d))
	}
	slices.Sort(content.Dependencies)
	raw, err := json.Marshal(content)
	if err != nil {
		// Values decoded from YAML always marshal; anything else is a bug.
		panic(fmt.Sprintf("digest of chart %s: %v", c.Name(), err))
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// file is a chart's file as its digests take it.
type file struct {
	Name string
	Data []byte
}

// sortedFiles are in, sorted by name.
func sortedFiles(in []*chart.File) []file {
	out := make([]file, 0, len(in))
	for _, f := range in {
		out = append(out, file{f.Name, f.Data})
	}
	slices.SortFunc(out, func(a, b file) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// StoredDigest is "sha256:<hex>" of what a Helm release record keeps of a
// chart: its name and version, templates, files, schema, values (as JSON:
// a record's values went through JSON) and the dependencies its metadata
// lists (name, version, alias). A record keeps no subchart, nor the raw
// values.yaml: a subchart is known by the name and version its parent
// pins. The rest of the metadata is left out: Helm's processing of the
// dependencies writes into it. So a chart Helm installed, read back from
// its record, and the same chart processed as Helm's install processes it
// (chartutil.ProcessDependenciesWithMerge) have the same StoredDigest.
func StoredDigest(c *chart.Chart) string {
	content := struct {
		Name, Version string
		Templates     []file
		Files         []file
		Schema        []byte
		Values        map[string]any
		Dependencies  []string
	}{Templates: sortedFiles(c.Templates), Files: sortedFiles(c.Files), Schema: c.Schema, Values: c.Values}
	if c.Metadata != nil {
		content.Name, content.Version = c.Metadata.Name, c.Metadata.Version
		for _, d := range c.Metadata.Dependencies {
			content.Dependencies = append(content.Dependencies, d.Name+"@"+d.Version+" as "+d.Alias)
		}
	}
	slices.Sort(content.Dependencies)
	raw, err := json.Marshal(content)
	if err != nil {
		// Values decoded from YAML or JSON always marshal; anything else
		// is a bug.
		panic(fmt.Sprintf("stored digest of chart %s: %v", c.Name(), err))
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// DigestMismatchError is a chart whose content is not what the catalogue
// pins.
type DigestMismatchError struct {
	Chart  Ref
	Source string
	Want   string
	Got    string
}

func (e *DigestMismatchError) Error() string {
	return fmt.Sprintf("chart %s from %s: digest %s, the catalogue pins %s", e.Chart, e.Source, e.Got, e.Want)
}

// verify checks a loaded chart, whose content digest is digest, against its
// entry.
func verify(e Entry, source string, c *chart.Chart, digest string) error {
	if c.Metadata == nil || c.Metadata.Name != e.Name || c.Metadata.Version != e.Version {
		got := "no Chart.yaml"
		if c.Metadata != nil {
			got = c.Metadata.Name + "@" + c.Metadata.Version
		}
		return fmt.Errorf("chart %s from %s: Chart.yaml says %s", e.Ref(), source, got)
	}
	if e.Digest == "" {
		return nil
	}
	if digest != e.Digest {
		return &DigestMismatchError{Chart: e.Ref(), Source: source, Want: e.Digest, Got: digest}
	}
	return nil
}
