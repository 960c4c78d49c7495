package kubephase

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vexxhost/atmosphere-go/components"
	"github.com/vexxhost/atmosphere-go/internal/secrets"
)

// SecretPlace is where a component's release keeps the secret of an
// inventory variable: a string of its values that holds the secret, whole
// or inside a longer text (a connection URL, a line of a configuration
// file). Extract reads the secret back from values a release holds.
type SecretPlace struct {
	// Var is the inventory variable (openstack_helm_endpoints_glance_mariadb_password).
	Var string
	// Path are the keys (and list indexes, in decimal) from the values'
	// root to the string.
	Path []string
	// Before and After are the text around the secret in the string, up
	// to the line break before it (included) and after it (included), or
	// another secret; FromStart and ToEnd say they reach the string's
	// start and end.
	Before, After    string
	FromStart, ToEnd bool
}

// PathString is Path joined with "." (endpoints.oslo_db.auth.glance.password).
func (p SecretPlace) PathString() string { return strings.Join(p.Path, ".") }

// pattern matches the string of the place holding a secret, which it
// captures: the whole string when the place is the whole string, else
// what stands between Before and After on their line.
func (p SecretPlace) pattern() (*regexp.Regexp, error) {
	var b strings.Builder
	if p.FromStart {
		b.WriteString(`\A`)
	}
	b.WriteString(regexp.QuoteMeta(p.Before))
	if p.FromStart && p.ToEnd {
		b.WriteString(`([\s\S]+)`)
	} else {
		b.WriteString(`([^\n]+?)`)
	}
	b.WriteString(regexp.QuoteMeta(p.After))
	if p.ToEnd {
		b.WriteString(`\z`)
	}
	return regexp.Compile(b.String())
}

// Extract reads the secret of the place from v (a release's values):
// found is false when v has no string at Path, or one not shaped as the
// place says (another text around it).
func (p SecretPlace) Extract(v map[string]any) (secret string, found bool) {
	s, ok := stringAt(v, p.Path)
	if !ok {
		return "", false
	}
	re, err := p.pattern()
	if err != nil {
		return "", false
	}
	m := re.FindStringSubmatch(s)
	if m == nil || m[1] == "" {
		return "", false
	}
	return m[1], true
}

// stringAt is the string at path in v.
func stringAt(v any, path []string) (string, bool) {
	for _, k := range path {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i < 0 || i >= len(x) {
				return "", false
			}
			v = x[i]
		default:
			return "", false
		}
	}
	s, ok := v.(string)
	return s, ok
}

// SecretPlaces finds where the release of a Helm component keeps each
// secret of an inventory variable: its values are rendered (as a deploy
// renders them, cluster Secrets not there yet reading empty) with
// settings whose Secret and PeekSecret hand out a marker unique to each
// variable, and every string of them holding a marker is a place. It
// reads no secret and writes nothing; places are in path order.
func (s *Stack) SecretPlaces(ctx context.Context, c *components.Component) ([]SecretPlace, error) {
	if c.Chart == nil {
		return nil, nil
	}
	ch, _, err := s.Charts.LoadWithDigest(ctx, *c.Chart)
	if err != nil {
		return nil, err
	}
	cfg, _ := s.lenient(true)
	m := &markers{byMarker: map[string]string{}, byVar: map[string]string{}}
	if m.nonce, err = nonce(); err != nil {
		return nil, err
	}
	cfg.Secret, cfg.PeekSecret = m.of, m.of
	v, err := s.valuesWith(c, ch.Values, cfg)
	if err != nil {
		return nil, fmt.Errorf("where %s keeps its secrets: %w", c.Name, err)
	}
	if len(m.byMarker) == 0 {
		return nil, nil
	}
	var places []SecretPlace
	walkStrings(v, nil, func(path []string, text string) {
		places = append(places, m.placesIn(path, text)...)
	})
	slices.SortStableFunc(places, func(a, b SecretPlace) int {
		return slices.Compare(a.Path, b.Path)
	})
	return places, nil
}

// markers hand out a marker per variable in place of its secret.
type markers struct {
	nonce string
	// byMarker are the variables by marker; byVar the markers by variable.
	byMarker, byVar map[string]string
	re              *regexp.Regexp
}

// of is the marker of the variable name: letters and digits only, so that
// it stands unchanged in a URL or a configuration file; an SSH private key
// (secrets.SSHKeySuffix) is a real key, which a component can derive a
// public key from.
func (m *markers) of(name string) (string, error) {
	if mk, ok := m.byVar[name]; ok {
		return mk, nil
	}
	mk := "atmosphere" + m.nonce + "secret" + strconv.Itoa(len(m.byVar)) + "marker"
	if strings.HasSuffix(name, secrets.SSHKeySuffix) {
		key, err := secrets.GenerateSSHKey()
		if err != nil {
			return "", err
		}
		mk = key
	}
	m.byVar[name], m.byMarker[mk] = mk, name
	m.re = nil
	return mk, nil
}

// placesIn are the places of the markers in text, the string at path.
// A marker right next to another (no text between them to tell where one
// ends) is no place.
func (m *markers) placesIn(path []string, text string) []SecretPlace {
	if m.re == nil {
		var alts []string
		// Longest first: no marker is cut short by another it starts with.
		keys := slices.SortedFunc(maps.Keys(m.byMarker), func(a, b string) int { return len(b) - len(a) })
		for _, mk := range keys {
			alts = append(alts, regexp.QuoteMeta(mk))
		}
		m.re = regexp.MustCompile(strings.Join(alts, "|"))
	}
	found := m.re.FindAllStringIndex(text, -1)
	var out []SecretPlace
	for i, loc := range found {
		prev, next := 0, len(text)
		if i > 0 {
			prev = found[i-1][1]
		}
		if i+1 < len(found) {
			next = found[i+1][0]
		}
		p := SecretPlace{Var: m.byMarker[text[loc[0]:loc[1]]], Path: slices.Clone(path)}
		p.Before, p.After = text[prev:loc[0]], text[loc[1]:next]
		if j := strings.LastIndexByte(p.Before, '\n'); j >= 0 {
			p.Before = p.Before[j:]
		} else {
			p.FromStart = i == 0
		}
		if j := strings.IndexByte(p.After, '\n'); j >= 0 {
			p.After = p.After[:j+1]
		} else {
			p.ToEnd = i+1 == len(found)
		}
		if (p.Before == "" && !p.FromStart) || (p.After == "" && !p.ToEnd) {
			continue
		}
		out = append(out, p)
	}
	return out
}

// walkStrings calls f with every string of v and its path.
func walkStrings(v any, path []string, f func(path []string, s string)) {
	switch x := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(x)) {
			walkStrings(x[k], append(path, k), f)
		}
	case []any:
		for i, e := range x {
			walkStrings(e, append(path, strconv.Itoa(i)), f)
		}
	case []map[string]any:
		for i, e := range x {
			walkStrings(e, append(path, strconv.Itoa(i)), f)
		}
	case []string:
		for i, e := range x {
			walkStrings(e, append(path, strconv.Itoa(i)), f)
		}
	case string:
		f(path, x)
	}
}

// nonce is a random word that makes a rendering's markers its own.
func nonce() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("make secret markers: %w", err)
	}
	const letters = "abcdefghijklmnopqrstuvwxyz"
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return string(b), nil
}

// ObjectSecretPlace is where one of a component's own objects keeps the
// secret of an inventory variable: Path is within the object; a Secret's
// stringData key is read from its data, decoded (Base64).
type ObjectSecretPlace struct {
	SecretPlace
	APIVersion, Kind, Namespace, Name string
	// Base64 says the string at Path is base64 of the text (a Secret's
	// data).
	Base64 bool
}

// Object is "Kind/namespace/name" (Kind/name when cluster-scoped).
func (p ObjectSecretPlace) Object() string {
	if p.Namespace == "" {
		return p.Kind + "/" + p.Name
	}
	return p.Kind + "/" + p.Namespace + "/" + p.Name
}

// Extract reads the secret of the place from the live object obj.
func (p ObjectSecretPlace) Extract(obj map[string]any) (string, bool) {
	if !p.Base64 {
		return p.SecretPlace.Extract(obj)
	}
	s, ok := stringAt(obj, p.Path)
	if !ok {
		return "", false
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return "", false
	}
	// The decoded text as the place's only string.
	return SecretPlace{Path: []string{"v"}, Before: p.Before, After: p.After, FromStart: p.FromStart, ToEnd: p.ToEnd}.
		Extract(map[string]any{"v": string(raw)})
}

// ObjectSecretPlaces are SecretPlaces of the component's own objects
// (those it applies itself, beside or instead of a chart), rendered with
// markers as SecretPlaces renders its values. An object without a
// namespace is in the component's (a cluster-scoped one's is ignored when
// read). It reads no secret and writes nothing.
func (s *Stack) ObjectSecretPlaces(c *components.Component) ([]ObjectSecretPlace, error) {
	cfg, _ := s.lenient(true)
	m := &markers{byMarker: map[string]string{}, byVar: map[string]string{}}
	var err error
	if m.nonce, err = nonce(); err != nil {
		return nil, err
	}
	cfg.Secret, cfg.PeekSecret = m.of, m.of
	objs, err := objects(c, cfg)
	if err != nil {
		return nil, fmt.Errorf("where the objects of %s keep their secrets: %w", c.Name, err)
	}
	if len(m.byMarker) == 0 {
		return nil, nil
	}
	var out []ObjectSecretPlace
	for _, o := range objs {
		if o.Unstructured == nil {
			continue
		}
		ns := o.GetNamespace()
		if ns == "" {
			ns = c.Namespace
		}
		isSecret := o.GetKind() == "Secret" && o.GetAPIVersion() == "v1"
		walkStrings(o.Object, nil, func(path []string, text string) {
			for _, p := range m.placesIn(path, text) {
				op := ObjectSecretPlace{SecretPlace: p, APIVersion: o.GetAPIVersion(), Kind: o.GetKind(), Namespace: ns, Name: o.GetName()}
				if isSecret && len(p.Path) == 2 && p.Path[0] == "stringData" {
					// The API server keeps a Secret's stringData in its data.
					op.Path, op.Base64 = []string{"data", p.Path[1]}, true
				}
				out = append(out, op)
			}
		})
	}
	return out, nil
}
