// Package view renders the events of a deploy for a person or a program:
// Terminal for a TTY (one live line per unit in flight with a spinner and
// its elapsed time, ✓/✗ as units end), Lines for a log or a pipe (plain
// timestamped lines) and JSON (one event per line).
package view

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/vexxhost/atmosphere-go/deploy"
)

// Lines writes one plain line per event, timestamped, for logs and pipes.
type Lines struct {
	mu sync.Mutex
	w  io.Writer
}

// NewLines returns a Lines writing to w.
func NewLines(w io.Writer) *Lines { return &Lines{w: w} }

// Observe implements deploy.Observer.
func (l *Lines) Observe(e deploy.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, "%s %s\n", e.Time.UTC().Format("2006-01-02T15:04:05Z"), Describe(e))
}

// Describe is the one-line text of an event, without its time.
func Describe(e deploy.Event) string {
	switch e.Kind {
	case deploy.Started:
		return e.Unit + " started"
	case deploy.Waiting:
		if e.Detail != "" {
			return fmt.Sprintf("%s still waiting on %s, %s", e.Unit, e.Detail, Elapsed(e.Duration))
		}
		return fmt.Sprintf("%s still running, %s", e.Unit, Elapsed(e.Duration))
	case deploy.Succeeded:
		return fmt.Sprintf("%s done in %s%s", e.Unit, Elapsed(e.Duration), suffix(e.Detail))
	case deploy.Unchanged:
		return fmt.Sprintf("%s unchanged (%s)%s", e.Unit, Elapsed(e.Duration), suffix(e.Detail))
	case deploy.Failed:
		return fmt.Sprintf("%s FAILED after %s: %s", e.Unit, Elapsed(e.Duration), e.Error)
	case deploy.Skipped, deploy.Cancelled:
		return fmt.Sprintf("%s %s: %s", e.Unit, e.Kind, e.Error)
	}
	return e.Unit + " " + string(e.Kind)
}

func suffix(detail string) string {
	if detail == "" {
		return ""
	}
	return ": " + detail
}

// Elapsed formats a duration as an operator reads it: 850ms, 7.1s, 3m10s.
func Elapsed(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// JSON writes each event as one JSON object per line.
type JSON struct {
	mu  sync.Mutex
	enc *json.Encoder
}

// NewJSON returns a JSON writing to w.
func NewJSON(w io.Writer) *JSON { return &JSON{enc: json.NewEncoder(w)} }

// Observe implements deploy.Observer.
func (j *JSON) Observe(e deploy.Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	_ = j.enc.Encode(e)
}
