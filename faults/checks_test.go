package faults

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/deploy"
	"github.com/vexxhost/atmosphere-go/internal/deploytest"
)

// The suite's own checks, on made-up input: each must be able to fail.

// TestFindLeaks: the secret scan finds a secret printed literally, in each
// base64 alphabet, URL-escaped, and split by a terminal's control
// sequence; and nothing where it is not.
func TestFindLeaks(t *testing.T) {
	const secret = "p>?w0rd s3cr3t/+x&=~" // its base64 alphabets differ
	cases := []struct {
		name, text string
		want       []string // forms found
	}{
		{"not there", "deploy complete: 49 units, p>?w0rd elsewhere", nil},
		{"literally", `{"error":"auth failed for ` + secret + `"}`, []string{"literally"}},
		{"base64", "data: " + base64.StdEncoding.EncodeToString([]byte(secret)), []string{"base64", "base64 unpadded"}},
		{"base64 URL unpadded", "token=" + base64.RawURLEncoding.EncodeToString([]byte(secret)) + ";", []string{"base64 URL unpadded"}},
		{"query-escaped", "mysql://root:" + url.QueryEscape(secret) + "@db", []string{"URL query-escaped"}},
		{"path-escaped", "amqp://u:" + url.PathEscape(secret) + "@rabbit", []string{"URL path-escaped"}},
		{"split by a control sequence", "\x1b[2K⠋ " + secret[:6] + "\x1b[1m" + secret[6:] + "\x1b[0m\r\n", []string{"literally"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, l := range findLeaks(map[string]string{"the password": secret}, []output{{"out", nil, tc.text}}) {
				got = append(got, l.form)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("found %q, want %q", got, tc.want)
			}
		})
	}
	if got := findLeaks(map[string]string{"short": "abc"}, []output{{"out", nil, "abc"}}); len(got) != 0 {
		t.Errorf("a secret under 8 characters was looked for: %v", got)
	}
	// A line of a multi-line secret, printed in a JSON string (its
	// newlines escaped), is found through withLines; the armour is not
	// looked for.
	key := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACBzZWNyZXQtbGluZQ\n-----END OPENSSH PRIVATE KEY-----\n"
	text := `{"msg":"` + strings.ReplaceAll(key[:60], "\n", `\n`) + `"}`
	var lines []string
	for _, l := range findLeaks(withLines(map[string]string{"octavia_ssh_key": key}), []output{{"out", nil, text}}) {
		lines = append(lines, l.secret)
	}
	if want := []string{"octavia_ssh_key (line 2)"}; !slices.Equal(lines, want) {
		t.Errorf("a printed line of a multi-line secret: found %q, want %q", lines, want)
	}
}

// TestLeftBehind: the process check finds a process that carries a run's
// mark in a process group of its own (as ansible-playbook runs), and one
// of the run's process group without the mark; not a process with
// neither.
func TestLeftBehind(t *testing.T) {
	start := func(mark string, pgid int) *exec.Cmd {
		c := exec.Command("sleep", "300")
		c.Env = os.Environ()
		if mark != "" {
			c.Env = append(c.Env, markEnv+"="+mark)
		}
		c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Process.Kill(); _ = c.Wait() })
		return c
	}
	mark := fmt.Sprintf("check-%d", os.Getpid())
	leader := start("", 0)     // stands for the run: the leader of its group
	ownGroup := start(mark, 0) // a marked child in a group of its own
	inGroup := start("", leader.Process.Pid)
	unrelated := start("", 0)
	left, err := leftBehind(mark, leader.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	has := func(c *exec.Cmd) bool {
		return slices.ContainsFunc(left, func(s string) bool { return strings.HasPrefix(s, fmt.Sprintf("%d ", c.Process.Pid)) })
	}
	for _, c := range []*exec.Cmd{leader, ownGroup, inGroup} {
		if !has(c) {
			t.Errorf("process %d not found: %v", c.Process.Pid, left)
		}
	}
	if has(unrelated) {
		t.Errorf("an unrelated process %d was found: %v", unrelated.Process.Pid, left)
	}
	// What it found, it killed.
	if err := ownGroup.Wait(); err == nil {
		t.Errorf("the marked process ended by itself, not killed")
	}
}

// TestInFlightAt: a unit counts as in flight at an instant when it had
// started and not ended by then.
func TestInFlightAt(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	evs := deploytest.Units{
		"a:install": {{Time: at(0), Kind: deploy.Started}, {Time: at(10), Kind: deploy.Succeeded}},
		"b:install": {{Time: at(5), Kind: deploy.Started}, {Time: at(6), Kind: deploy.Waiting}},
		"c:install": {{Time: at(20), Kind: deploy.Cancelled}},
	}
	cases := []struct {
		at   time.Time
		want []string
	}{
		{time.Time{}, nil},
		{at(-1), nil},
		{at(0), []string{"a:install"}},
		{at(7), []string{"a:install", "b:install"}},
		{at(10), []string{"b:install"}},
		{at(30), []string{"b:install"}},
	}
	for _, tc := range cases {
		if got := inFlightAt(evs, tc.at); !slices.Equal(got, tc.want) {
			t.Errorf("at %s: %v, want %v", tc.at, got, tc.want)
		}
	}
}

// TestOutputKinds: each run's outputs are named by what they show.
func TestOutputKinds(t *testing.T) {
	cases := []struct {
		args           []string
		terminal       bool
		stdout, stderr []string
	}{
		{[]string{"deploy", "--output", "json", "-vv"}, false, []string{kindJSON}, []string{kindStderr, kindVV}},
		{[]string{"deploy", "--output", "text", "-v"}, true, []string{kindTerminal, kindStderr, kindV}, nil},
		{[]string{"deploy"}, false, []string{kindLines}, []string{kindStderr}},
		{[]string{"deploy", "--dry-run", "-v", "-v"}, false, []string{kindDryRun}, []string{kindStderr, kindVV}},
	}
	for _, tc := range cases {
		out, errs := outputKinds(tc.args, tc.terminal)
		if !slices.Equal(out, tc.stdout) || !slices.Equal(errs, tc.stderr) {
			t.Errorf("%v (terminal %v): %v and %v, want %v and %v", tc.args, tc.terminal, out, errs, tc.stdout, tc.stderr)
		}
	}
}

// TestFindTokens: the scan finds a keystone token in an output (also split
// by a terminal's control sequence), and nothing in text that only looks
// like the start of one.
func TestFindTokens(t *testing.T) {
	const token = "gAAAAABpTq3v0b1kXo2yq7QyQ1m5r0c8pK1xY3wJm2ZbN4eH6tV9sL0aR7uF5dG8iC2oE1nW3zT6yB4jK9lM0pQ_vS-hX8gU5fD"
	cases := []struct {
		name, text string
		found      bool
	}{
		{"none", `{"unit":"glance-images:setup","event":"succeeded"}`, false},
		{"a prefix only", "image gAAAAAB is queued", false},
		{"in a JSON error", `{"error":"GET /v2/images: X-Auth-Token: ` + token + `"}`, true},
		{"split by a control sequence", "\x1b[2K" + token[:20] + "\x1b[1m" + token[20:] + "\r\n", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(findTokens([]output{{"out", nil, tc.text}})) == 1; got != tc.found {
				t.Errorf("found %v, want %v", got, tc.found)
			}
		})
	}
}
