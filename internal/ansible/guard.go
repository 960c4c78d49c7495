package ansible

// The guard: ansible-playbook is never our direct child. Run re-executes
// the running binary (/proc/self/exe) as a small guard process
// (guardEnv=1 in its environment, argv[0] "atmosphere-ansible-guard"),
// and the guard starts ansible-playbook. Its contract:
//
//   - The guard leads a process group of its own (so a Ctrl-C at the
//     terminal reaches atmosphere only), and starts ansible-playbook as the
//     leader of another (the play's group: its forked per-host workers and
//     the modules they run).
//   - It is a child subreaper (PR_SET_CHILD_SUBREAPER): every process the
//     play starts and orphans — a daemon that left the play's group with
//     setsid, an ssh ControlPersist master — becomes the guard's child
//     instead of init's, so the guard can always find and kill it.
//   - File descriptor 3 is the read end of a pipe whose write end only
//     atmosphere holds (close-on-exec). When it reads end of file —
//     atmosphere closed it, or atmosphere died, however (SIGKILL, OOM, a
//     lost bastion: the kernel closes the pipe) — the guard kills the play's
//     group and each of its own children with SIGKILL, again after each one
//     it reaps, until it has no child left, and exits.
//   - SIGTERM and SIGINT sent to the guard are passed on to the play's
//     group (a graceful stop); the guard itself lives on until the play
//     ends or the pipe closes.
//   - When ansible-playbook exits, the guard kills whatever is left of the
//     play (its group and the orphans), reaps it, and exits with
//     ansible-playbook's exit code (128+n when signal n ended it).
//   - ansible-playbook gets Pdeathsig SIGKILL from the guard: if the guard
//     itself is killed, the play's leader at least goes with it.
//
// So nothing the play started outlives the guard, and the guard does not
// outlive atmosphere. The guard is the binary's own init (guardInit): any
// program that links this package can run plays.

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/vexxhost/atmosphere-go/internal/procfs"
)

// guardEnv, set to "1", makes the process a guard (see guardInit).
const guardEnv = "ATMOSPHERE_ANSIBLE_GUARD"

// guardName is the guard's argv[0], as ps shows it.
const guardName = "atmosphere-ansible-guard"

// prSetChildSubreaper is prctl's PR_SET_CHILD_SUBREAPER.
const prSetChildSubreaper = 36

func init() { guardInit() }

// guardInit turns the process into a guard, and never returns, when
// guardEnv is "1": its arguments are the program to run and its
// arguments.
func guardInit() {
	if os.Getenv(guardEnv) != "1" {
		return
	}
	os.Exit(guard(os.Args[1:]))
}

// guardCommand is the command that runs argv (a resolved path first)
// under a guard; ctl is the read end of the control pipe.
func guardCommand(argv []string, env []string, ctl *os.File) *exec.Cmd {
	cmd := exec.Command("/proc/self/exe", argv...)
	cmd.Args[0] = guardName
	cmd.Env = append(env, guardEnv+"=1")
	cmd.ExtraFiles = []*os.File{ctl} // fd 3
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// guard runs argv as described in the file's comment and returns the exit
// code.
func guard(argv []string) int {
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, guardName+": nothing to run")
		return 2
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		fmt.Fprintf(os.Stderr, "%s: become a child subreaper: %v\n", guardName, errno)
		return 126
	}
	syscall.CloseOnExec(3)
	ctl := os.NewFile(3, "control")

	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, guardEnv+"=") {
			env = append(env, kv)
		}
	}
	// Started from init, on the main thread that init holds: Pdeathsig
	// (which follows the forking thread) fires only when the guard ends.
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, 1, 2},
		Sys:   &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: start %s: %v\n", guardName, argv[0], err)
		return 127
	}

	var mu sync.Mutex
	ending := false
	end := func() {
		mu.Lock()
		ending = true
		mu.Unlock()
		killAll(pid)
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		for s := range signals {
			_ = syscall.Kill(-pid, s.(syscall.Signal))
		}
	}()
	go func() {
		_, _ = io.Copy(io.Discard, ctl) // returns at end of file: atmosphere is gone or done
		end()
	}()

	code := -1
	for {
		var ws syscall.WaitStatus
		got, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil { // ECHILD: nothing left
			break
		}
		if got == pid {
			switch {
			case ws.Exited():
				code = ws.ExitStatus()
			case ws.Signaled():
				code = 128 + int(ws.Signal())
			}
			end()
			continue
		}
		mu.Lock()
		e := ending
		mu.Unlock()
		if e {
			killAll(pid) // what the reaped one left is ours now
		}
	}
	if code < 0 {
		code = 128 + int(syscall.SIGKILL)
	}
	return code
}

// killAll sends SIGKILL to the play's group and to every child of the
// guard (the play's leader and the orphans it adopted).
func killAll(pgid int) {
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	for _, pid := range childrenOf(os.Getpid()) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
}

// childrenOf lists the live processes whose parent is ppid.
func childrenOf(ppid int) []int {
	var out []int
	for _, p := range procfs.List() {
		if p.PPID == ppid {
			out = append(out, p.PID)
		}
	}
	return out
}
