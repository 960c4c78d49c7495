package ansible

import (
	"strings"
	"syscall"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

func sleepers() []testenv.Process {
	var out []testenv.Process
	for _, p := range testenv.Processes() {
		if strings.HasPrefix(p.Cmd, "sleep 600") {
			out = append(out, p)
		}
	}
	return out
}

func processesInGroup(pgid int) []testenv.Process {
	var out []testenv.Process
	for _, p := range testenv.Processes() {
		if p.PGID == pgid {
			out = append(out, p)
		}
	}
	return out
}

func syscallKill(pid int) error { return syscall.Kill(pid, syscall.SIGKILL) }
