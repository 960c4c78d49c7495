// Package deploytest reads what `atmosphere deploy --output json` printed,
// for tests that run the command: the events by unit, each unit's last,
// counts by kind.
package deploytest

import (
	"strings"
	"testing"

	"github.com/vexxhost/atmosphere-go/deploy"
)

// Units are the events of a run by unit, in the order they came.
type Units map[string][]deploy.Event

// Events parses the JSON events a deploy printed, failing the test on any
// line that is not one.
func Events(t testing.TB, stdout string) Units {
	t.Helper()
	evs, err := deploy.ReadEvents(strings.NewReader(stdout))
	if err != nil {
		t.Fatalf("stdout: %v\n%s", err, stdout)
	}
	out := Units{}
	for _, e := range evs {
		out[e.Unit] = append(out[e.Unit], e)
	}
	return out
}

// Last is the last event of a unit (the zero Event when it has none).
func (u Units) Last(unit string) deploy.Event {
	evs := u[unit]
	if len(evs) == 0 {
		return deploy.Event{}
	}
	return evs[len(evs)-1]
}

// Count counts the events of a kind, over every unit.
func (u Units) Count(kind deploy.Kind) int {
	n := 0
	for _, evs := range u {
		for _, e := range evs {
			if e.Kind == kind {
				n++
			}
		}
	}
	return n
}
