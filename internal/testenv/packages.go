package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
)

var aptUpdate sync.Once

// EnsurePackages installs Debian packages with apt-get when probe, a file
// one of them provides, is missing. apt-get update runs first, once per
// process. Installs from concurrent test processes are serialised by a
// lock file. Without root, the error says what to install.
func EnsurePackages(ctx context.Context, probe string, packages ...string) error {
	if _, err := os.Stat(probe); err == nil {
		return nil
	}
	hint := "apt-get update && apt-get install -y --no-install-recommends " + strings.Join(packages, " ")
	if os.Geteuid() != 0 {
		return fmt.Errorf("%s is missing and installing it needs root: run `%s`", probe, hint)
	}
	unlock, err := lockFile("/tmp/atmosphere-apt.lock")
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(probe); err == nil {
		return nil // another process installed it while we waited
	}
	apt := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("apt-get %s: %w\n%s\n(to do it by hand: %s)", args[0], err, LastLines(string(out), 10), hint)
		}
		return nil
	}
	var updateErr error
	aptUpdate.Do(func() { updateErr = apt("update", "-qq") })
	if updateErr != nil {
		return updateErr
	}
	if err := apt(append([]string{"install", "-y", "-qq", "--no-install-recommends"}, packages...)...); err != nil {
		return err
	}
	if _, err := os.Stat(probe); err != nil {
		return fmt.Errorf("installed %s but %s is still missing", strings.Join(packages, " "), probe)
	}
	return nil
}

func reusing(env string) bool { return os.Getenv(env) != "" }

// privateDir makes a fresh directory for state this process owns.
func privateDir(name string) (string, error) {
	return os.MkdirTemp("", "atmosphere-"+name+"-")
}
