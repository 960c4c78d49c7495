package view

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/deploy"
)

// screen replays what a Terminal wrote, interpreting the three controls it
// uses (cursor up, carriage return, clear to the end of the screen), and
// returns the lines left on the screen.
func screen(t *testing.T, out string) []string {
	t.Helper()
	var lines []string
	row := 0
	controls := regexp.MustCompile(`^\x1b\[(\d*)([AJ])`)
	for len(out) > 0 {
		switch {
		case out[0] == '\r':
			out = out[1:]
		case out[0] == '\n':
			row++
			out = out[1:]
		case out[0] == '\x1b':
			m := controls.FindStringSubmatch(out)
			if m == nil {
				t.Fatalf("unexpected control in %q", out)
			}
			if m[2] == "A" {
				n, _ := strconv.Atoi(m[1])
				row -= n
			} else {
				lines = lines[:min(row, len(lines))]
			}
			out = out[len(m[0]):]
		default:
			end := strings.IndexAny(out, "\r\n\x1b")
			if end < 0 {
				end = len(out)
			}
			for len(lines) <= row {
				lines = append(lines, "")
			}
			lines[row] += out[:end]
			out = out[end:]
		}
	}
	return lines
}

func TestTerminal(t *testing.T) {
	var out bytes.Buffer
	term := NewTerminal(&out, 100)
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	term.now = func() time.Time { return t0.Add(3*time.Minute + 10*time.Second) }
	term.Observe(deploy.Event{Time: t0, Unit: "memcached:install", Kind: deploy.Started})
	term.Observe(deploy.Event{Time: t0, Unit: "nova:install", Kind: deploy.Started})
	term.Observe(deploy.Event{Time: t0, Unit: "nova:install", Kind: deploy.Waiting, Detail: "Deployment/openstack/nova-api-osapi"})
	term.mu.Lock()
	term.redraw(nil)
	term.mu.Unlock()
	live := screen(t, out.String())
	if len(live) != 2 || !strings.Contains(live[1], "nova:install") || !strings.Contains(live[1], "3m10s  waiting on Deployment/openstack/nova-api-osapi") {
		t.Fatalf("live block %q", live)
	}
	term.Observe(deploy.Event{Time: t0, Unit: "memcached:install", Kind: deploy.Succeeded, Duration: 7100 * time.Millisecond, Detail: "install: new release (revision 1)"})
	if _, err := term.Write([]byte("time=… level=WARN msg=\"chart not pinned\"\n")); err != nil {
		t.Fatal(err)
	}
	term.Observe(deploy.Event{Time: t0, Unit: "nova:install", Kind: deploy.Failed, Duration: time.Minute, Error: "pod nova-db-sync-x: ImagePullBackOff"})
	term.Observe(deploy.Event{Time: t0, Unit: "nova:setup", Kind: deploy.Skipped, Error: "needs nova:install, which failed"})
	term.Observe(deploy.Event{Time: t0, Unit: "kubernetes:install", Kind: deploy.Unchanged, Detail: "provided by the environment"})
	term.Stop()
	got := screen(t, out.String())
	want := []string{
		"✓ memcached:install" + strings.Repeat(" ", 23) + "     7.1s  install: new release (revision 1)",
		`time=… level=WARN msg="chart not pinned"`,
		"✗ nova:install" + strings.Repeat(" ", 28) + "       1m0s  pod nova-db-sync-x: ImagePullBackOff",
		"↷ nova:setup" + strings.Repeat(" ", 30) + "  skipped  needs nova:install, which failed",
		"· kubernetes:install" + strings.Repeat(" ", 22) + "       0s  unchanged: provided by the environment",
	}
	if len(got) != len(want) {
		t.Fatalf("screen\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for i := range want {
		if strings.Join(strings.Fields(got[i]), " ") != strings.Join(strings.Fields(want[i]), " ") {
			t.Errorf("line %d: %q, want %q", i, got[i], want[i])
		}
	}
}

func TestLinesAndJSON(t *testing.T) {
	t0 := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	evs := []deploy.Event{
		{Time: t0, Unit: "nova:install", Component: "nova", Phase: "install", Kind: deploy.Started},
		{Time: t0.Add(190 * time.Second), Unit: "nova:install", Component: "nova", Phase: "install", Kind: deploy.Waiting, Duration: 190 * time.Second, Detail: "Deployment/openstack/nova-api-osapi"},
		{Time: t0.Add(200 * time.Second), Unit: "nova:install", Component: "nova", Phase: "install", Kind: deploy.Succeeded, Duration: 200 * time.Second, Detail: "install"},
	}
	var lines, js bytes.Buffer
	l, j := NewLines(&lines), NewJSON(&js)
	for _, e := range evs {
		l.Observe(e)
		j.Observe(e)
	}
	wantLines := "2026-11-25T09:00:00Z nova:install started\n" +
		"2026-11-25T09:03:10Z nova:install still waiting on Deployment/openstack/nova-api-osapi, 3m10s\n" +
		"2026-11-25T09:03:20Z nova:install done in 3m20s: install\n"
	if lines.String() != wantLines {
		t.Errorf("lines\n%s\nwant\n%s", lines.String(), wantLines)
	}
	var back []deploy.Event
	dec := json.NewDecoder(&js)
	for dec.More() {
		var e deploy.Event
		if err := dec.Decode(&e); err != nil {
			t.Fatal(err)
		}
		back = append(back, e)
	}
	if len(back) != len(evs) {
		t.Fatalf("%d events back, want %d", len(back), len(evs))
	}
	for i := range evs {
		if !back[i].Time.Equal(evs[i].Time) || back[i].Kind != evs[i].Kind || back[i].Duration != evs[i].Duration || back[i].Detail != evs[i].Detail || back[i].Component != "nova" {
			t.Errorf("event %d: %+v back as %+v", i, evs[i], back[i])
		}
	}
}
