package components

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// A knob is an inventory variable a component reads — a role's operator
// knob (roles/<role>/defaults/main.yml) or a fact the operator may give
// instead of letting a role read it — with the role's default. Knobs are
// declared at the top of the file of the component that reads them
// (knobsOf), or in the shared rendering's file for those every component's
// rendering may read (sharedKnobs), so that the knobs of a component are
// known without rendering it: Registry.CheckKnobs checks their types
// before anything starts.
//
// get reads a knob on a Render: the inventory's value when it sets one of
// the knob's type, else the default; a value of another type is a problem
// naming the file and the key, kept for OwnValues or the objects to return
// (as Render.fail), and the default stands in.
type knob[T any] struct {
	name string
	def  T
	// want says what the knob takes ("a string").
	want string
	// conv types an inventory value; false when it is of another type
	// (or, for a choice, not one of its values).
	conv func(any) (T, bool)
	// when, if not nil, says whether the knob is read at all for the
	// inventory's variables; its value is checked only then.
	when func(vars map[string]any) bool
}

// knobDecl is what a knob declares, whatever its type.
type knobDecl interface {
	// key is the inventory variable.
	key() string
	// problem is what is wrong with the inventory's value v, "" when
	// nothing is.
	problem(v any) string
	// read says whether the knob is read for the inventory's variables.
	read(vars map[string]any) bool
}

func (k knob[T]) key() string { return k.name }

func (k knob[T]) read(vars map[string]any) bool { return k.when == nil || k.when(vars) }

func (k knob[T]) problem(v any) string {
	if v == nil {
		return ""
	}
	if _, ok := k.conv(v); ok {
		return ""
	}
	return "want " + k.want + ", got " + describe(k.name, v)
}

// get is the knob's value on r: the inventory's, else the default. A
// value of the wrong type is kept as r's error and gives the default.
func (k knob[T]) get(r *Render) T {
	v, _ := k.lookup(r)
	return v
}

// lookup is get that also says whether the inventory sets the knob (to a
// value of its type): for a default that is not a constant.
func (k knob[T]) lookup(r *Render) (T, bool) {
	if r.knobRead != nil {
		r.knobRead(k.name)
	}
	v, ok := r.Vars[k.name]
	if !ok || v == nil {
		return k.def, false
	}
	t, ok := k.conv(v)
	if !ok {
		r.fail(r.knobError(k.name, k.problem(v)))
		return k.def, false
	}
	return t, true
}

// orDefault is a string knob's value, else def: for a knob whose default
// is not a constant (atmosphere's ingress class, a host of the cloud's
// domain).
func orDefault(r *Render, k knob[string], def string) string {
	if v, ok := k.lookup(r); ok {
		return v
	}
	return def
}

// knobError is a knob's problem, named by its file (when known) and key.
func (r *Render) knobError(key, msg string) error {
	if file := r.Sources[key]; file != "" {
		return fmt.Errorf("%s: %s: %s", file, key, msg)
	}
	return fmt.Errorf("%s: %s", key, msg)
}

// knobSet is the knobs of one component (or, with no component, those of
// the shared rendering).
type knobSet struct {
	component string
	knobs     []knobDecl
	// checks are the set's checks of knobs taken together (what one
	// requires when another has some value), run by CheckKnobs.
	checks []func(vars map[string]any) []KnobProblem
}

// declaredKnobs are the knob sets, by component ("" for the shared ones).
var declaredKnobs = map[string]*knobSet{}

// knobsOf starts the knob set of a component; its methods declare the
// knobs.
func knobsOf(component string) *knobSet {
	if _, ok := declaredKnobs[component]; ok {
		panic("knobs of " + component + " declared twice")
	}
	s := &knobSet{component: component}
	declaredKnobs[component] = s
	return s
}

// sharedKnobs are the knobs the shared rendering (endpoints, Ingresses,
// Ceph facts, keystone's domains) reads for any component.
var sharedKnobs = knobsOf("")

func add[T any](s *knobSet, k knob[T]) knob[T] {
	s.knobs = append(s.knobs, k)
	return k
}

// str declares a knob that takes a string.
func (s *knobSet) str(name, def string) knob[string] {
	return add(s, knob[string]{name: name, def: def, want: "a string", conv: func(v any) (string, bool) {
		x, ok := v.(string)
		return x, ok
	}})
}

// integer declares a knob that takes a whole number.
func (s *knobSet) integer(name string, def int) knob[int] {
	return add(s, knob[int]{name: name, def: def, want: "a whole number", conv: func(v any) (int, bool) {
		n, ok := wholeNumber(v)
		if f, isFloat := v.(float64); isFloat && f != float64(n) {
			return 0, false
		}
		return n, ok
	}})
}

// boolean declares a knob that takes true or false.
func (s *knobSet) boolean(name string, def bool) knob[bool] {
	return add(s, knob[bool]{name: name, def: def, want: "true or false", conv: func(v any) (bool, bool) {
		x, ok := v.(bool)
		return x, ok
	}})
}

// choice declares a knob that takes one of supported (def by default).
// unimplemented are the values the role takes that atmosphere-go does not
// implement: any value but supported is a problem naming the value and
// what is supported, so that an inventory asking for what is not
// implemented is refused before the run, never deployed as something else.
// when, if not nil, says whether the knob is read for the inventory's
// variables (a solver only for its issuer type): otherwise its value is
// not checked.
func (s *knobSet) choice(name, def string, supported, unimplemented []string, when func(vars map[string]any) bool) knob[string] {
	want := "one of " + quoted(supported)
	if len(unimplemented) > 0 {
		want += " (atmosphere's role also takes " + quoted(unimplemented) + ", which atmosphere-go does not implement)"
	}
	return add(s, knob[string]{name: name, def: def, want: want, when: when, conv: func(v any) (string, bool) {
		x, ok := v.(string)
		return x, ok && slices.Contains(supported, x)
	}})
}

// quoted is the strings, quoted and separated by commas.
func quoted(list []string) string {
	var b strings.Builder
	for i, x := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", x)
	}
	return b.String()
}

// check adds a check of the set's knobs taken together.
func (s *knobSet) check(f func(vars map[string]any) []KnobProblem) {
	s.checks = append(s.checks, f)
}

// in is the knob's value among the inventory's variables vars: the value
// when it is of the knob's type, else the default (for checks, which
// leave a value of the wrong type to the knob's own problem).
func (k knob[T]) in(vars map[string]any) T {
	if v, ok := vars[k.name]; ok && v != nil {
		if t, ok := k.conv(v); ok {
			return t
		}
	}
	return k.def
}

// list declares a knob that takes a list (nil by default).
func (s *knobSet) list(name string) knob[[]any] {
	return add(s, knob[[]any]{name: name, want: "a list", conv: func(v any) ([]any, bool) {
		x, ok := v.([]any)
		return x, ok
	}})
}

// stringList declares a knob that takes a list of strings (def by
// default); a list with an item of another type is a problem.
func (s *knobSet) stringList(name string, def []string) knob[[]string] {
	return add(s, knob[[]string]{name: name, def: def, want: "a list of strings", conv: func(v any) ([]string, bool) {
		x, ok := v.([]any)
		if !ok {
			return nil, false
		}
		out := make([]string, 0, len(x))
		for _, item := range x {
			str, ok := item.(string)
			if !ok {
				return nil, false
			}
			out = append(out, str)
		}
		return out, true
	}})
}

// mapping declares a knob that takes a mapping (def by default).
func (s *knobSet) mapping(name string, def map[string]any) knob[map[string]any] {
	return add(s, mappingKnob(name, def))
}

func mappingKnob(name string, def map[string]any) knob[map[string]any] {
	return knob[map[string]any]{name: name, def: def, want: "a mapping", conv: func(v any) (map[string]any, bool) {
		x, ok := v.(map[string]any)
		return x, ok
	}}
}

// Knobs returns the inventory variables the component reads, sorted:
// those declared in its file, its role's release name, namespace and
// timeout (releaseKnobs, timeoutKnob), the annotations and class of its
// public Ingresses, and the spec of its RabbitMQ cluster with
// rabbitmq_skip_spec_diff. The shared rendering's are SharedKnobs.
func (c *Component) Knobs() []string {
	keys := map[string]bool{}
	for _, k := range c.knobDecls() {
		keys[k.key()] = true
	}
	return slices.Sorted(maps.Keys(keys))
}

// SharedKnobs returns the inventory variables the rendering shared by the
// components reads (endpoints, with the region of each service of the
// default registry, Ingresses, Ceph facts), sorted.
func SharedKnobs() []string {
	var out []string
	for _, k := range append(slices.Clone(sharedKnobs.knobs), regionKnobs(Default().components)...) {
		out = append(out, k.key())
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// knobDecls are the component's knobs: its file's, its release's (name,
// namespace and timeout: releaseKnobs), its Ingresses' and its RabbitMQ
// cluster's.
func (c *Component) knobDecls() []knobDecl {
	var out []knobDecl
	if s, ok := declaredKnobs[c.Name]; ok {
		out = append(out, s.knobs...)
	}
	if name, namespace, ok := c.releaseKnobs(); ok {
		out = append(out, name, namespace)
	}
	if k, ok := c.timeoutKnob(); ok {
		out = append(out, k)
	}
	for _, in := range c.ingresses {
		out = append(out, ingressAnnotations(in), ingressClass(in))
	}
	if c.rabbitMQCluster != "" {
		out = append(out, rabbitMQSpec(c.rabbitMQCluster), rabbitmqSkipSpecDiff)
	}
	return out
}

// KnobProblem is an inventory variable a component reads whose value has
// the wrong type.
type KnobProblem struct {
	// Key is the variable.
	Key string
	// Message says what was wanted and what was given (a secret's value
	// is not shown).
	Message string
}

// CheckKnobs checks the types of the knobs that the components cfg
// enables read, and of the shared rendering's, in vars (the inventory's
// variables), and runs their knob sets' checks (a knob another one
// requires). It returns a problem for each variable of the wrong type (or
// not among a choice's values) and each the checks find, one per key,
// sorted by key; none for a variable the inventory does not set and no
// check requires.
func (r *Registry) CheckKnobs(cfg Config, vars map[string]any) []KnobProblem {
	decls := append(slices.Clone(sharedKnobs.knobs), regionKnobs(r.components)...)
	var checks []func(map[string]any) []KnobProblem
	for _, c := range r.components {
		if c.IsEnabled(cfg) {
			decls = append(decls, c.knobDecls()...)
			if s, ok := declaredKnobs[c.Name]; ok {
				checks = append(checks, s.checks...)
			}
		}
	}
	seen := map[string]bool{}
	var out []KnobProblem
	for _, k := range decls {
		v, ok := vars[k.key()]
		if !ok || seen[k.key()] || !k.read(vars) {
			continue
		}
		if msg := k.problem(v); msg != "" {
			seen[k.key()] = true
			out = append(out, KnobProblem{Key: k.key(), Message: msg})
		}
	}
	for _, check := range checks {
		for _, p := range check(vars) {
			if !seen[p.Key] {
				seen[p.Key] = true
				out = append(out, p)
			}
		}
	}
	slices.SortFunc(out, func(a, b KnobProblem) int { return strings.Compare(a.Key, b.Key) })
	return out
}

// secretSuffixes end the names of the knobs that hold a secret (or a
// credential: an API token, an access key): a problem with one never
// shows its value.
var secretSuffixes = []string{"password", "_secret", "_secret_key", "keyring", "_private_key", "_token", "_api_key",
	"_secret_access_key",
	"_pure_json"} // portworx_pure_json: the FlashArrays' API tokens

// IsSecretKnob reports whether the knob key holds a secret, whose value no
// message shows.
func IsSecretKnob(key string) bool {
	return slices.ContainsFunc(secretSuffixes, func(s string) bool { return strings.HasSuffix(key, s) })
}

// describe is what kind of value v is, for a problem with the knob key:
// the value itself, except a secret's.
func describe(key string, v any) string {
	secret := false
	for _, suffix := range secretSuffixes {
		secret = secret || strings.HasSuffix(key, suffix)
	}
	switch v := v.(type) {
	case string:
		if secret {
			return "a string"
		}
		return fmt.Sprintf("the string %q", v)
	case bool:
		return fmt.Sprintf("the boolean %v", v)
	case int, float64:
		if secret {
			return "a number"
		}
		return fmt.Sprintf("the number %v", v)
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	return fmt.Sprintf("%T", v)
}

// The knobs whose names a component's declaration makes: the name,
// namespace and timeout of its Helm release, the annotations and class of
// each public Ingress, the spec of its RabbitMQ cluster.

// noRoleVars, as a component's roleVars, says its role declares no
// <prefix>_helm_release_name or _namespace (cert-manager's, staffeln's).
const noRoleVars = "-"

// roleVarPrefix is the prefix of the component's role's release variables:
// its roleVars, else its name with underscores for dashes; "" when its
// role declares none or it has no Helm release.
func (c *Component) roleVarPrefix() string {
	switch {
	case c.Release == "" || c.Chart == nil || c.roleVars == noRoleVars:
		return ""
	case c.roleVars != "":
		return c.roleVars
	}
	return strings.ReplaceAll(c.Name, "-", "_")
}

// releaseKnobs are the role's <prefix>_helm_release_name and
// <prefix>_helm_release_namespace of a Helm component: each takes only the
// component's own Release and Namespace, its role's defaults. Renaming a
// release or moving it to another namespace would have to follow every
// cross-reference (the Services other charts' endpoints name, Secrets read
// across namespaces, the release's history, rollback, drift), which
// atmosphere-go does not do: another value is refused before the run,
// naming the knob, the value and the one supported. ok is false for a
// component whose role declares neither.
func (c *Component) releaseKnobs() (name, namespace knob[string], ok bool) {
	prefix := c.roleVarPrefix()
	if prefix == "" {
		return name, namespace, false
	}
	return fixedKnob(prefix+"_helm_release_name", c.Release, "atmosphere-go does not rename releases"),
		fixedKnob(prefix+"_helm_release_namespace", c.Namespace, "atmosphere-go does not move releases to another namespace"),
		true
}

// fixedKnob declares a knob that takes only value (its default): any other
// is a problem naming the value, the one supported and why.
func fixedKnob(name, value, why string) knob[string] {
	return knob[string]{name: name, def: value, want: fmt.Sprintf("%q (%s)", value, why), conv: func(v any) (string, bool) {
		x, ok := v.(string)
		return x, ok && x == value
	}}
}

// timeoutKnob is the role's <prefix>_helm_timeout of a component whose role
// takes one (roleTimeout): the bound of its Helm task (kubernetes.core.helm's
// timeout, Helm's --timeout), a Go duration with its unit ("10m0s"), as the
// role passes it to Helm; its default is the component's Timeout.
func (c *Component) timeoutKnob() (knob[time.Duration], bool) {
	prefix := c.roleVarPrefix()
	if !c.roleTimeout || prefix == "" {
		return knob[time.Duration]{}, false
	}
	return durationKnob(prefix+"_helm_timeout", c.Timeout), true
}

// durationKnob declares a knob that takes a Go duration greater than zero,
// as a string with its unit ("10m0s", "90s"): a number without a unit is
// refused, as Helm refuses it.
func durationKnob(name string, def time.Duration) knob[time.Duration] {
	return knob[time.Duration]{name: name, def: def,
		want: `a duration greater than zero with its unit, as Helm's --timeout takes it ("10m0s", "600s")`,
		conv: func(v any) (time.Duration, bool) {
			x, ok := v.(string)
			if !ok {
				return 0, false
			}
			d, err := time.ParseDuration(x)
			return d, err == nil && d > 0
		}}
}

// PhaseTimeout is what bounds one attempt at the component's Helm and
// manifest phases for the settings s: the inventory's <role>_helm_timeout
// when the component's role takes one and the inventory sets it, else
// Timeout. A value of the wrong type gives Timeout (CheckKnobs refuses it
// before any run).
func (c *Component) PhaseTimeout(s Settings) time.Duration {
	k, ok := c.timeoutKnob()
	if !ok {
		return c.Timeout
	}
	return k.get(&Render{Settings: s})
}

func ingressAnnotations(in publicIngress) knob[map[string]any] {
	if in.annotationsKnob != "" {
		return mappingKnob(in.annotationsKnob, nil)
	}
	return mappingKnob(in.knob+"_ingress_annotations", nil)
}

func ingressClass(in publicIngress) knob[string] {
	name := in.knob + "_ingress_class_name"
	if in.classKnob != "" {
		name = in.classKnob
	}
	return knob[string]{name: name, want: "a string", conv: func(v any) (string, bool) {
		x, ok := v.(string)
		return x, ok
	}}
}

func rabbitMQSpec(chart string) knob[map[string]any] {
	return mappingKnob(chart+"_rabbitmq_spec", nil)
}
