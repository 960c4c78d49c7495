package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vexxhost/atmosphere-go/internal/pyenv"
	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// extraRequirements are what the roles need beside the collection's
// requirements.txt:
//   - pydantic 2: the storage filters (plugins/filter/storage.py) are
//     pydantic models, and requirements.txt does not list it;
//   - ansible-core before 2.19: from 2.19 on, variables reach filters as
//     lazily templated containers, which the storage filters' pydantic
//     models refuse (a discriminator tag `_LazyValue('rbd')`);
//   - the ansible package of that ansible-core: the collections galaxy.yml
//     depends on (community.general's json_query in openstack_helm_endpoints,
//     ansible.utils, …), which ship with it.
var extraRequirements = []string{"pydantic>=2,<3", "ansible-core>=2.15.9,<2.19", "ansible>=11,<12"}

// venvStamp is written into a virtualenv once every requirement is in
// place; a directory without it is a broken attempt and is made again.
const venvStamp = ".atmosphere-complete"

// ensureVenv returns the bin directory of a Python virtualenv holding
// ansible-core and the Python requirements of atmosphere's collection
// (requirements, its requirements.txt, plus extraRequirements), installed
// from PyPI. The virtualenv is kept outside the clone, under
// $XDG_CACHE_HOME/atmosphere/fidelity (~/.cache when unset), in a
// directory named by the SHA-256 of the requirements and the Python
// version, so that a change of either makes a new one and an unchanged
// one is reused as it is.
func ensureVenv(ctx context.Context, requirements string) (string, error) {
	reqs, err := os.ReadFile(requirements)
	if err != nil {
		return "", fmt.Errorf("reading the collection's Python requirements: %w", err)
	}
	// Debian's python3 makes virtualenvs only with python3-venv.
	if exec.CommandContext(ctx, "python3", "-c", "import ensurepip, venv").Run() != nil {
		if err := testenv.EnsurePackages(ctx, "/usr/share/doc/python3-venv", "python3-venv"); err != nil {
			return "", err
		}
	}
	version, err := exec.CommandContext(ctx, "python3", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("python3 --version: %w", err)
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "%s\n%s\n%s\n", strings.TrimSpace(string(version)), reqs, strings.Join(extraRequirements, "\n"))
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("the cache directory for the fidelity virtualenv: %w", err)
	}
	dir := filepath.Join(cache, "atmosphere", "fidelity", "venv-"+hex.EncodeToString(sum.Sum(nil))[:16])
	bin := filepath.Join(dir, "bin")
	if _, err := os.Stat(filepath.Join(dir, venvStamp)); err == nil {
		return bin, nil
	}
	fmt.Fprintf(os.Stderr, "fidelity: creating the virtualenv %s (ansible-core and %s from PyPI)\n", dir, requirements)
	// Virtualenvs of other requirements (and an incomplete one of these) go.
	old, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "venv-*"))
	for _, o := range old {
		if err := os.RemoveAll(o); err != nil {
			return "", fmt.Errorf("removing the virtualenv %s: %w", o, err)
		}
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return "", err
	}
	steps := [][]string{
		{"python3", "-m", "venv", dir},
		append([]string{filepath.Join(bin, "python"), "-m", "pip", "install", "--disable-pip-version-check", "--quiet", "-r", requirements}, extraRequirements...),
	}
	for _, args := range steps {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = pyenv.Clean()
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("creating the fidelity virtualenv: %s: %w\n%s", strings.Join(args, " "), err, testenv.LastLines(string(out), 15))
		}
	}
	if _, err := os.Stat(filepath.Join(bin, "ansible-playbook")); err != nil {
		return "", errors.New("the fidelity virtualenv has no ansible-playbook: " + requirements + " must name ansible-core")
	}
	if err := os.WriteFile(filepath.Join(dir, venvStamp), []byte(strings.Join(append([]string{string(reqs)}, extraRequirements...), "\n")), 0o644); err != nil {
		return "", err
	}
	return bin, nil
}
