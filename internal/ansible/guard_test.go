package ansible

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vexxhost/atmosphere-go/internal/procfs"
)

// The play driver: the test binary re-executed (driverEnv names the
// inventory, driverBinEnv ansible-playbook) runs one play whose two local
// hosts each leave a daemon behind (setsid) and then hang in a task; the
// tests below kill it or interrupt it as a terminal would. Like atmosphere,
// its second SIGINT cancels the run.
const (
	driverEnv    = "ATMOSPHERE_TEST_PLAY_DRIVER"
	driverBinEnv = "ATMOSPHERE_TEST_PLAY_BIN"
	// playMarkEnv is in the environment of the driver and of everything
	// it starts.
	playMarkEnv = "ATMOSPHERE_TEST_PLAY_MARK"
)

func TestMain(m *testing.M) {
	if inv := os.Getenv(driverEnv); inv != "" {
		os.Exit(playDriver(inv, os.Getenv(driverBinEnv)))
	}
	os.Exit(m.Run())
}

// playDriver runs the hanging play; it prints each line of its output and
// "driver: <error>" at the end.
func playDriver(inventory, bin string) int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, os.Interrupt)
	go func() {
		<-sig
		fmt.Println("driver: first interrupt: letting the play finish")
		<-sig
		fmt.Println("driver: second interrupt: cancelling")
		cancel()
	}()
	d := &Deployer{Bin: bin, Inventory: inventory, Grace: 2 * time.Second, Output: func(l string) { fmt.Println(l) }}
	err := d.Run(ctx, Job{Component: "hangs", Play: &Play{Hosts: "all", Tasks: []map[string]any{
		{"name": "Leave a daemon", "ansible.builtin.shell": "setsid sleep 301 </dev/null >/dev/null 2>&1 &"},
		{"name": "Hang", "ansible.builtin.command": "sleep 300"},
	}}})
	fmt.Println("driver:", err)
	return 0
}

// marked lists the live processes with playMarkEnv=mark in their
// environment, as "pid (command line)".
func marked(t *testing.T, mark string) []string {
	t.Helper()
	want := playMarkEnv + "=" + mark
	var out []string
	for _, p := range procfs.List() {
		if p.Zombie() {
			continue // a zombie holds nothing
		}
		if slices.Contains(procfs.Environ(p.PID), want) {
			out = append(out, fmt.Sprintf("%d (%s)", p.PID, procfs.Cmdline(p.PID)))
		}
	}
	return out
}

// countCmd counts the entries of marked whose command line starts with
// prefix.
func countCmd(procs []string, prefix string) int {
	n := 0
	for _, p := range procs {
		if strings.Contains(p, "("+prefix) {
			n++
		}
	}
	return n
}

// TestNothingOutlivesTheDriver: whether the process that runs a play is
// killed (SIGKILL: the bastion lost) or interrupted twice at its terminal
// (SIGINT to its process group, twice: the second cancels), nothing the
// play started is left: not ansible-playbook, not its per-host workers, not
// the task's command, not a daemon that left the play's process group.
func TestNothingOutlivesTheDriver(t *testing.T) {
	a := testAnsible(t)
	inventory := writeInventory(t, "[all]\n"+
		"host1 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"+
		"host2 ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n")
	for _, tc := range []struct {
		name string
		stop func(driver *exec.Cmd) error
	}{
		{"killed", func(driver *exec.Cmd) error { return driver.Process.Kill() }},
		{"interrupted twice", func(driver *exec.Cmd) error {
			if err := syscall.Kill(-driver.Process.Pid, syscall.SIGINT); err != nil {
				return err
			}
			time.Sleep(500 * time.Millisecond)
			return syscall.Kill(-driver.Process.Pid, syscall.SIGINT)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mark := fmt.Sprintf("%d-%d", os.Getpid(), time.Now().UnixNano())
			t.Cleanup(func() { killMarked(mark) })
			driver := exec.Command(os.Args[0], "-test.run=^$")
			driver.Env = append(os.Environ(), driverEnv+"="+inventory, driverBinEnv+"="+a.Playbook(), playMarkEnv+"="+mark)
			// Its own process group, as a shell gives a command.
			driver.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			stdout, err := driver.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			driver.Stderr = driver.Stdout
			if err := driver.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string, 1024)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(stdout)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			var output []string
			exited := make(chan error, 1)
			go func() { exited <- driver.Wait() }()

			// Both hosts hang in their task, each with its daemon.
			deadline := time.Now().Add(2 * time.Minute)
			for {
				procs := marked(t, mark)
				if countCmd(procs, "sleep 300") == 2 && countCmd(procs, "sleep 301") == 2 {
					t.Logf("hanging: %d processes of the play", len(procs))
					break
				}
				if time.Now().After(deadline) {
					_ = driver.Process.Kill()
					t.Fatalf("the play never hung on both hosts; processes %v", procs)
				}
				time.Sleep(200 * time.Millisecond)
			}
			if err := tc.stop(driver); err != nil {
				t.Fatal(err)
			}
			select {
			case <-exited:
			case <-time.After(30 * time.Second):
				_ = driver.Process.Kill()
				t.Fatal("the driver did not end")
			}
			for l := range lines {
				output = append(output, l)
			}
			if tc.name == "interrupted twice" && !slices.ContainsFunc(output, func(l string) bool {
				return strings.HasPrefix(l, "driver: hangs: ansible-playbook stopped: context canceled")
			}) {
				t.Errorf("the run did not end cancelled; output:\n%s", strings.Join(output, "\n"))
			}
			// The driver is gone; give the kernel and the guard a moment.
			var left []string
			for wait := time.Now().Add(15 * time.Second); ; time.Sleep(200 * time.Millisecond) {
				if left = marked(t, mark); len(left) == 0 || time.Now().After(wait) {
					break
				}
			}
			if len(left) > 0 {
				t.Errorf("processes of the play outlived the driver:\n  %s", strings.Join(left, "\n  "))
			}
		})
	}
}

// killMarked kills every process with playMarkEnv=mark.
func killMarked(mark string) {
	entries, _ := os.ReadDir("/proc")
	want := []byte(playMarkEnv + "=" + mark)
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		environ, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if slices.ContainsFunc(bytes.Split(environ, []byte{0}), func(v []byte) bool { return bytes.Equal(v, want) }) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}
