package deploy

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Kind says what happened to a unit.
type Kind string

// The kinds of events, in the order a unit sees them.
const (
	// Started: the unit was admitted and its work began.
	Started Kind = "started"
	// Waiting: a heartbeat of a unit still at work, with what it waits on
	// in Detail when it knows ("Deployment openstack/nova-api").
	Waiting Kind = "waiting"
	// Succeeded: the unit's work is done and changed something (Detail
	// says what: "install", "upgrade: values").
	Succeeded Kind = "succeeded"
	// Unchanged: the unit's work is done and found nothing to change.
	Unchanged Kind = "unchanged"
	// Failed: the unit's work returned an error (Error).
	Failed Kind = "failed"
	// Skipped: the unit never started because a unit it needs failed
	// (Error names it).
	Skipped Kind = "skipped"
	// Cancelled: the unit never started because the run was stopped.
	Cancelled Kind = "cancelled"
)

// Done reports whether the kind ends a unit.
func (k Kind) Done() bool { return k != Started && k != Waiting }

// Event is one thing that happened to one unit of a deploy. As JSON it is
// one object per line: {"time", "unit", "component", "phase", "event",
// "duration" (seconds), "detail", "error"}.
type Event struct {
	Time      time.Time
	Unit      string
	Component string
	Phase     string
	Kind      Kind
	// Duration is how long the unit has run (Waiting) or ran (Succeeded,
	// Unchanged, Failed).
	Duration time.Duration
	Detail   string
	Error    string
}

type eventJSON struct {
	Time      time.Time `json:"time"`
	Unit      string    `json:"unit"`
	Component string    `json:"component"`
	Phase     string    `json:"phase,omitempty"`
	Event     Kind      `json:"event"`
	Duration  *float64  `json:"duration,omitempty"`
	Detail    string    `json:"detail,omitempty"`
	Error     string    `json:"error,omitempty"`
}

// MarshalJSON writes the event as one flat object, the duration in seconds.
func (e Event) MarshalJSON() ([]byte, error) {
	j := eventJSON{Time: e.Time.UTC(), Unit: e.Unit, Component: e.Component, Phase: e.Phase, Event: e.Kind, Detail: e.Detail, Error: e.Error}
	if e.Kind != Started && e.Kind != Skipped && e.Kind != Cancelled {
		s := e.Duration.Round(time.Millisecond).Seconds()
		j.Duration = &s
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Event) UnmarshalJSON(b []byte) error {
	var j eventJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*e = Event{Time: j.Time, Unit: j.Unit, Component: j.Component, Phase: j.Phase, Kind: j.Event, Detail: j.Detail, Error: j.Error}
	if j.Duration != nil {
		e.Duration = time.Duration(*j.Duration * float64(time.Second))
	}
	return nil
}

// ReadEvents reads a stream of events as `--output json` writes them, one
// JSON object a line; a line that is not an event is an error naming it.
func ReadEvents(r io.Reader) ([]Event, error) {
	var out []Event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, fmt.Errorf("line %d: not an event: %w", n, err)
		}
		if e.Unit == "" || e.Kind == "" || e.Time.IsZero() {
			return out, fmt.Errorf("line %d: an event without unit, kind or time", n)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// Observer receives the events of a deploy. Observe is called from one
// goroutine at a time, in the order things happen; it must not block long.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Observe calls f.
func (f ObserverFunc) Observe(e Event) { f(e) }

// Observers sends each event to every one of its observers, in order.
type Observers []Observer

// Observe sends e to each observer.
func (o Observers) Observe(e Event) {
	for _, x := range o {
		if x != nil {
			x.Observe(e)
		}
	}
}
