package dag

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// build makes a graph from "node: need need" lines; a cost may follow the
// node as "node=5s".
func build(t testing.TB, lines ...string) *Graph[string] {
	t.Helper()
	g := New[string]()
	for _, l := range lines {
		head, needs, _ := strings.Cut(l, ":")
		name, cost, _ := strings.Cut(strings.TrimSpace(head), "=")
		var d time.Duration
		if cost != "" {
			var err error
			if d, err = time.ParseDuration(cost); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.AddNode(name, Spec[string]{Cost: d, Needs: strings.Fields(needs)}); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		lines   []string
		unknown []UnknownNeed[string]
		cycles  [][]string
	}{
		{name: "sound", lines: []string{"a:", "b: a", "c: a b"}},
		{
			name:    "unknown needs, all of them",
			lines:   []string{"a: x", "b: a y", "c: x"},
			unknown: []UnknownNeed[string]{{"a", "x"}, {"b", "y"}, {"c", "x"}},
		},
		{
			name:   "three-node cycle as a path",
			lines:  []string{"a: b", "b: c", "c: a", "d: a"},
			cycles: [][]string{{"a", "b", "c", "a"}},
		},
		{
			name:   "self loop",
			lines:  []string{"a: a"},
			cycles: [][]string{{"a", "a"}},
		},
		{
			name:   "two cycles through one node, both reported",
			lines:  []string{"a: b c", "b: a", "c: a"},
			cycles: [][]string{{"a", "b", "a"}, {"a", "c", "a"}},
		},
		{
			name:    "cycles and unknowns together",
			lines:   []string{"a: b", "b: a", "c: d", "d: c z"},
			unknown: []UnknownNeed[string]{{"d", "z"}},
			cycles:  [][]string{{"a", "b", "a"}, {"c", "d", "c"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := build(t, tt.lines...).Validate()
			if tt.unknown == nil && tt.cycles == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var ve *ValidationError[string]
			if !errors.As(err, &ve) {
				t.Fatalf("Validate() = %v, want *ValidationError", err)
			}
			if !reflect.DeepEqual(ve.Unknown, tt.unknown) {
				t.Errorf("Unknown = %v, want %v", ve.Unknown, tt.unknown)
			}
			if !reflect.DeepEqual(ve.Cycles, tt.cycles) {
				t.Errorf("Cycles = %v, want %v", ve.Cycles, tt.cycles)
			}
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	err := build(t, "a: b", "b: c", "c: a", "d: nope").Validate()
	msg := err.Error()
	for _, want := range []string{"cycle: a → b → c → a", "d needs unknown nope", "2 problem(s)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func TestValidateCapsReportedCycles(t *testing.T) {
	// A complete graph on 6 nodes has hundreds of elementary cycles.
	g := New[string]()
	names := []string{"a", "b", "c", "d", "e", "f"}
	for _, n := range names {
		var needs []string
		for _, m := range names {
			if m != n {
				needs = append(needs, m)
			}
		}
		if err := g.AddNode(n, Spec[string]{Needs: needs}); err != nil {
			t.Fatal(err)
		}
	}
	var ve *ValidationError[string]
	if !errors.As(g.Validate(), &ve) {
		t.Fatal("want a validation error")
	}
	if len(ve.Cycles) != MaxReportedCycles || ve.MoreCycles == 0 {
		t.Errorf("got %d cycles and %d more, want %d and some more", len(ve.Cycles), ve.MoreCycles, MaxReportedCycles)
	}
	// 409 elementary cycles in K6 (sum over k=2..6 of C(6,k)(k-1)!).
	if got := len(ve.Cycles) + ve.MoreCycles; got != 409 {
		t.Errorf("counted %d cycles, want 409", got)
	}
}

func TestAddNodeTwice(t *testing.T) {
	g := New[string]()
	if err := g.AddNode("a", Spec[string]{}); err != nil {
		t.Fatal(err)
	}
	if err := g.AddNode("a", Spec[string]{}); err == nil {
		t.Error("second AddNode of a: want an error")
	}
	if err := g.AddEdge("zz", "a"); err == nil {
		t.Error("AddEdge from an unknown node: want an error")
	}
}

func TestTopologicalOrder(t *testing.T) {
	g := build(t, "d: b c", "c: a", "b: a", "a:", "e:")
	got, err := g.TopologicalOrder()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a", "b", "c", "d", "e"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order = %v, want %v", got, want)
	}
	if _, err := build(t, "a: b", "b: a").TopologicalOrder(); err == nil {
		t.Error("order of a cycle: want an error")
	}
}

func TestSubgraph(t *testing.T) {
	g := build(t, "a:", "b: a", "c: b", "d: c", "x:")
	tests := []struct {
		name      string
		keys      []string
		withNeeds bool
		want      map[string][]string // node → needs
	}{
		{"with needs pulls the chain", []string{"c"}, true,
			map[string][]string{"a": nil, "b": {"a"}, "c": {"b"}}},
		{"without needs drops outside edges", []string{"c", "d"}, false,
			map[string][]string{"c": nil, "d": {"c"}}},
		{"several roots", []string{"b", "x"}, true,
			map[string][]string{"a": nil, "b": {"a"}, "x": nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, err := g.Subgraph(tt.keys, tt.withNeeds)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, k := range sub.Keys() {
				n, _ := sub.Node(k)
				got[k] = n.Needs
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("subgraph = %v, want %v", got, tt.want)
			}
			if err := sub.Validate(); err != nil {
				t.Errorf("subgraph invalid: %v", err)
			}
		})
	}
	if _, err := g.Subgraph([]string{"nope"}, true); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown key: err = %v, want one naming nope", err)
	}
}

func TestContract(t *testing.T) {
	// a → b → c → d, x → c, y alone; keep a, d, x, y.
	g := build(t, "a:", "b: a", "c: b x", "d: c", "x:", "y:")
	sub, err := g.Contract([]string{"a", "d", "x", "y"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, k := range sub.Keys() {
		n, _ := sub.Node(k)
		got[k] = n.Needs
	}
	want := map[string][]string{"a": {}, "d": {"a", "x"}, "x": {}, "y": {}}
	for k, w := range want {
		if !slices.Equal(got[k], w) {
			t.Errorf("%s needs %v, want %v (graph %v)", k, got[k], w, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("contracted graph %v, want %v", got, want)
	}
	if _, err := g.Contract([]string{"nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown key: err = %v, want one naming nope", err)
	}
}

func TestCriticalPath(t *testing.T) {
	g := build(t, "a=1s:", "b=5s: a", "c=2s: a", "d=1s: b c", "e=10s:")
	path, length, err := g.CriticalPath()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"e"}; !reflect.DeepEqual(path, want) || length != 10*time.Second {
		t.Errorf("path %v (%v), want %v (10s)", path, length, want)
	}
	g = build(t, "a=1s:", "b=5s: a", "c=2s: a", "d=1s: b c", "e=3s:")
	path, length, _ = g.CriticalPath()
	if want := []string{"a", "b", "d"}; !reflect.DeepEqual(path, want) || length != 7*time.Second {
		t.Errorf("path %v (%v), want %v (7s)", path, length, want)
	}
}
