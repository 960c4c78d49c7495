package cmd

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/golden"
)

func TestHelpGolden(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"deploy", "--help"}, {"upgrade", "--help"}, {"rollback", "--help"}, {"status", "--help"}, {"plan", "--help"},
		{"graph", "--help"}, {"simulate", "--help"},
	} {
		name := "help-" + strings.TrimPrefix(args[0], "--") + ".txt"
		t.Run(name, func(t *testing.T) {
			out, _, err := run(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, name, out)
		})
	}
}

// TestPlanGolden: the plan of the molecule inventory, from the registry's
// estimates (no cluster).
func TestPlanGolden(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	for name, args := range map[string][]string{
		"plan-molecule.txt":        {"plan", "--inventory", "../testdata/inventories/molecule"},
		"plan-molecule-glance.txt": {"plan", "--inventory", "../testdata/inventories/molecule", "--tags", "glance", "--concurrency", "4"},
	} {
		t.Run(name, func(t *testing.T) {
			out, _, err := run(t, args...)
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, name, out)
		})
	}
}

// normalEvents keeps the events that do not depend on timing (no
// heartbeats), with times and durations zeroed, as JSON lines.
func normalEvents(t *testing.T, stdout string) string {
	t.Helper()
	var b bytes.Buffer
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		var e deploy.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if e.Kind == deploy.Waiting {
			continue
		}
		e.Time = time.Time{}
		if e.Duration > 0 {
			e.Duration = time.Second
		}
		raw, _ := json.Marshal(e)
		b.Write(raw)
		b.WriteByte('\n')
	}
	return b.String()
}

var rfc3339 = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z`)

var lastDuration = regexp.MustCompile(`"last_duration":[0-9.]+`)

// normalStatus replaces the times and durations of status output.
func normalStatus(s string) string {
	return lastDuration.ReplaceAllString(rfc3339.ReplaceAllString(s, "2026-01-01T00:00:00Z"), `"last_duration":1`)
}
