// Package manifestdiff shows what a change of a release's rendered
// manifests, or of its values, would do, as unified diffs an operator
// reads before applying (deploy --dry-run --diff, issue 24 part 2). A
// Secret's data is never shown, in plain or in base64: only which keys are
// added, removed or changed. The package touches no cluster: its callers
// give it the deployed manifest (a Helm release's, or the live objects of
// a manifest unit) and the one that would be applied.
package manifestdiff

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"sigs.k8s.io/yaml"
)

// The placeholders of a hidden value: the same on both sides when the value
// did not change, Changed on the wanted side when it did.
const (
	Hidden  = "(hidden)"
	Changed = "(hidden, changed)"
)

// context is the lines of context around each change (diff's default).
const context = 3

// Manifests returns the unified diff, object by object, of two rendered
// manifests (YAML documents, as a Helm release's Manifest): objects are
// matched by kind, namespace and name, whatever their order, and compared
// with their fields in a canonical order; each diff is headed "---
// deployed KIND NAMESPACE/NAME", "+++ wanted …", and objects come in the
// order of those names. An object only on one side is all removed or all
// added, the other side's header saying "(absent)". Every value of a Secret's data and stringData is replaced by
// Hidden, or on the wanted side by Changed when it differs from the
// deployed one, so that a changed key is named and no value is shown. The
// diff is empty when no object differs; a document that does not parse is
// an error naming it.
func Manifests(deployed, wanted string) (string, error) {
	from, err := objects(deployed)
	if err != nil {
		return "", fmt.Errorf("the deployed manifest: %w", err)
	}
	to, err := objects(wanted)
	if err != nil {
		return "", fmt.Errorf("the wanted manifest: %w", err)
	}
	names := slices.Sorted(maps.Keys(from))
	for n := range to {
		if _, ok := from[n]; !ok {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var b strings.Builder
	for _, n := range names {
		a, z := from[n], to[n]
		if isSecret(a) || isSecret(z) {
			a, z = hideSecret(a, z)
		}
		fromName, toName := "deployed "+n, "wanted "+n
		if a == nil {
			fromName += " (absent)"
		}
		if z == nil {
			toName += " (absent)"
		}
		d, err := unified(a, z, fromName, toName)
		if err != nil {
			return "", fmt.Errorf("diff %s: %w", n, err)
		}
		b.WriteString(d)
	}
	return b.String(), nil
}

// Values returns the unified diff of two values trees, as YAML with the
// keys sorted, headed "--- deployed values", "+++ wanted values". A string
// whose key names a secret (password, secret, token, key, ending a key
// name, any case: "password", "admin_password", "secretKey") is shown as
// Hidden or Changed, as a Secret's data is. Empty when they are equal.
func Values(deployed, wanted map[string]any) (string, error) {
	a, z := hideSecretValues(deployed, wanted)
	return unified(mapOrNil(a), mapOrNil(z), "deployed values", "wanted values")
}

func mapOrNil(v any) map[string]any {
	m, _ := v.(map[string]any)
	if len(m) == 0 {
		return nil
	}
	return m
}

// objects parses a manifest's documents into objects by their name.
func objects(manifest string) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	for i, doc := range splitDocs(manifest) {
		var obj map[string]any
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if len(obj) == 0 {
			continue
		}
		meta, _ := obj["metadata"].(map[string]any)
		name, _ := meta["name"].(string)
		ns, _ := meta["namespace"].(string)
		kind, _ := obj["kind"].(string)
		if kind == "" || name == "" {
			return nil, fmt.Errorf("document %d: no kind or no metadata.name", i+1)
		}
		key := kind + " " + name
		if ns != "" {
			key = kind + " " + ns + "/" + name
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("document %d: %s given twice", i+1, key)
		}
		out[key] = obj
	}
	return out, nil
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

func splitDocs(manifest string) []string {
	return docSeparator.Split(manifest, -1)
}

func isSecret(obj map[string]any) bool {
	return obj != nil && obj["kind"] == "Secret" && (obj["apiVersion"] == "v1" || obj["apiVersion"] == nil)
}

// hideSecret returns copies of a Secret on each side (either may be nil)
// with the values of data and stringData hidden.
func hideSecret(a, z map[string]any) (map[string]any, map[string]any) {
	a, z = clone(a), clone(z)
	for _, field := range []string{"data", "stringData"} {
		var from, to map[string]any
		if a != nil {
			from, _ = a[field].(map[string]any)
		}
		if z != nil {
			to, _ = z[field].(map[string]any)
		}
		hideLeaves(from, to)
	}
	return a, z
}

// hideLeaves replaces, in place, every value of from with Hidden, and every
// value of to with Hidden, or Changed when from's differs.
func hideLeaves(from, to map[string]any) {
	for k, v := range to {
		if old, ok := from[k]; ok && fmt.Sprint(old) != fmt.Sprint(v) {
			to[k] = Changed
		} else {
			to[k] = Hidden
		}
	}
	for k := range from {
		from[k] = Hidden
	}
}

var secretKey = regexp.MustCompile(`(?i)(password|passwd|secret|token|key)$`)

// hideSecretValues returns copies of two values trees with the strings
// under a secret-naming key hidden (Values), in maps and in lists of maps
// (element by element).
func hideSecretValues(a, z map[string]any) (map[string]any, map[string]any) {
	outA, outZ := map[string]any{}, map[string]any{}
	keys := slices.Sorted(maps.Keys(a))
	for k := range z {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		va, inA := a[k]
		vz, inZ := z[k]
		ha, hz := hide(secretKey.MatchString(k), va, vz, inA, inZ)
		if inA {
			outA[k] = ha
		}
		if inZ {
			outZ[k] = hz
		}
	}
	return outA, outZ
}

// hide is hideSecretValues for one value on each side (inA, inZ: whether
// each side has it); secret says its key names a secret.
func hide(secret bool, a, z any, inA, inZ bool) (any, any) {
	_, as := a.(string)
	_, zs := z.(string)
	if secret && (as || zs) {
		hz := any(Hidden)
		if inA && fmt.Sprint(a) != fmt.Sprint(z) {
			hz = Changed
		}
		return Hidden, hz
	}
	ma, aMap := a.(map[string]any)
	mz, zMap := z.(map[string]any)
	if aMap || zMap {
		ha, hz := hideSecretValues(ma, mz)
		if !aMap {
			return a, hz
		}
		if !zMap {
			return ha, z
		}
		return ha, hz
	}
	la, aList := a.([]any)
	lz, zList := z.([]any)
	if aList || zList {
		outA, outZ := slices.Clone(la), slices.Clone(lz)
		for i := range max(len(la), len(lz)) {
			var ea, ez any
			if i < len(la) {
				ea = la[i]
			}
			if i < len(lz) {
				ez = lz[i]
			}
			ha, hz := hide(false, ea, ez, i < len(la), i < len(lz))
			if i < len(la) {
				outA[i] = ha
			}
			if i < len(lz) {
				outZ[i] = hz
			}
		}
		if !aList {
			return a, outZ
		}
		if !zList {
			return outA, z
		}
		return outA, outZ
	}
	return a, z
}

func clone(obj map[string]any) map[string]any {
	if obj == nil {
		return nil
	}
	raw, _ := yaml.Marshal(obj)
	var out map[string]any
	_ = yaml.Unmarshal(raw, &out)
	return out
}

// unified is the unified diff of two objects as YAML (nil: absent).
func unified(a, z map[string]any, fromName, toName string) (string, error) {
	text := func(obj map[string]any) (string, error) {
		if obj == nil {
			return "", nil
		}
		raw, err := yaml.Marshal(obj)
		return string(raw), err
	}
	at, err := text(a)
	if err != nil {
		return "", err
	}
	zt, err := text(z)
	if err != nil {
		return "", err
	}
	if at == zt {
		return "", nil
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(at), B: lines(zt),
		FromFile: fromName, ToFile: toName, Context: context,
	})
}

// lines splits text into lines, each ending in a newline; none for "".
func lines(text string) []string {
	if text == "" {
		return nil
	}
	return difflib.SplitLines(strings.TrimSuffix(text, "\n"))
}

// Colour colours a unified diff for a terminal: removed lines red, added
// green, hunk headers cyan, file headers bold. The caller decides whether
// its output is a terminal.
func Colour(diff string) string {
	const (
		red, green, cyan, bold, reset = "\x1b[31m", "\x1b[32m", "\x1b[36m", "\x1b[1m", "\x1b[0m"
	)
	lines := strings.SplitAfter(diff, "\n")
	var b strings.Builder
	for _, l := range lines {
		body, nl := strings.CutSuffix(l, "\n")
		colour := ""
		switch {
		case strings.HasPrefix(body, "---"), strings.HasPrefix(body, "+++"):
			colour = bold
		case strings.HasPrefix(body, "@@"):
			colour = cyan
		case strings.HasPrefix(body, "-"):
			colour = red
		case strings.HasPrefix(body, "+"):
			colour = green
		}
		if colour == "" || body == "" {
			b.WriteString(l)
			continue
		}
		b.WriteString(colour + body + reset)
		if nl {
			b.WriteString("\n")
		}
	}
	return b.String()
}
