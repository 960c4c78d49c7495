package view

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vexxhost/atmosphere-go/deploy"
)

// nameWidth fits the longest unit key of the registry
// (percona-xtradb-cluster-operator:install).
const nameWidth = 40

var spinner = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// Terminal draws a deploy on a TTY: units that ended scroll up as one line
// each (✓ changed, · unchanged, ✗ failed, ↷ skipped), and below them one
// live line per unit in flight, with a spinner, its elapsed time and what
// it waits on, redrawn in place.
type Terminal struct {
	w     io.Writer
	width int
	now   func() time.Time

	mu      sync.Mutex
	partial []byte // a written line not yet ended
	running map[string]*inFlight
	live    int // lines of the live block on screen
	frame   int
	stop    chan struct{}
	done    chan struct{}
}

type inFlight struct {
	start   time.Time
	waiting string
}

// NewTerminal returns a Terminal writing to w, whose lines are cut to width
// columns (so that none wraps and the live block redraws in place).
func NewTerminal(w io.Writer, width int) *Terminal {
	if width < 40 {
		width = 80
	}
	return &Terminal{w: w, width: width, now: time.Now, running: map[string]*inFlight{}}
}

// Start redraws the live block every interval until Stop.
func (t *Terminal) Start(interval time.Duration) {
	t.stop, t.done = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(t.done)
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-t.stop:
				return
			case <-tick.C:
				t.mu.Lock()
				t.frame++
				t.redraw(nil)
				t.mu.Unlock()
			}
		}
	}()
}

// Stop ends the redraws and clears the live block.
func (t *Terminal) Stop() {
	if t.stop != nil {
		close(t.stop)
		<-t.done
		t.stop = nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running = map[string]*inFlight{}
	t.redraw(nil)
}

// Observe implements deploy.Observer.
func (t *Terminal) Observe(e deploy.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch e.Kind {
	case deploy.Started:
		t.running[e.Unit] = &inFlight{start: e.Time}
		t.redraw(nil)
	case deploy.Waiting:
		if u, ok := t.running[e.Unit]; ok && e.Detail != "" {
			u.waiting = e.Detail
		}
	default:
		delete(t.running, e.Unit)
		t.redraw([]string{t.ended(e)})
	}
}

// Write prints whole lines above the live block, so that logs written while
// the view runs do not tear it.
func (t *Terminal) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, p...)
	var lines []string
	for {
		i := slices.Index(t.partial, '\n')
		if i < 0 {
			break
		}
		lines = append(lines, string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
	if len(lines) > 0 {
		t.redraw(lines)
	}
	return len(p), nil
}

// ended is the line a unit leaves when it ends.
func (t *Terminal) ended(e deploy.Event) string {
	switch e.Kind {
	case deploy.Succeeded:
		return fmt.Sprintf("✓ %-*s %8s  %s", nameWidth, e.Unit, Elapsed(e.Duration), e.Detail)
	case deploy.Unchanged:
		return fmt.Sprintf("· %-*s %8s  unchanged%s", nameWidth, e.Unit, Elapsed(e.Duration), suffix(e.Detail))
	case deploy.Failed:
		return fmt.Sprintf("✗ %-*s %8s  %s", nameWidth, e.Unit, Elapsed(e.Duration), e.Error)
	}
	return fmt.Sprintf("↷ %-*s %8s  %s", nameWidth, e.Unit, e.Kind, e.Error)
}

// redraw clears the live block, prints the lines that ended, and draws the
// live block again. t.mu is held.
func (t *Terminal) redraw(ended []string) {
	var b strings.Builder
	if t.live > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", t.live)
	}
	b.WriteString("\r\x1b[J")
	for _, l := range ended {
		b.WriteString(t.cut(l))
		b.WriteByte('\n')
	}
	now := t.now()
	keys := slices.Sorted(maps.Keys(t.running))
	slices.SortStableFunc(keys, func(a, b string) int { return t.running[a].start.Compare(t.running[b].start) })
	spin := spinner[t.frame%len(spinner)]
	for _, k := range keys {
		u := t.running[k]
		line := fmt.Sprintf("%s %-*s %8s", spin, nameWidth, k, Elapsed(now.Sub(u.start).Truncate(time.Second)))
		if u.waiting != "" {
			line += "  waiting on " + u.waiting
		}
		b.WriteString(t.cut(line))
		b.WriteByte('\n')
	}
	t.live = len(keys)
	_, _ = io.WriteString(t.w, b.String())
}

// cut shortens a line to the terminal's width.
func (t *Terminal) cut(s string) string {
	if utf8.RuneCountInString(s) <= t.width-1 {
		return s
	}
	r := []rune(s)
	return string(r[:t.width-2]) + "…"
}
