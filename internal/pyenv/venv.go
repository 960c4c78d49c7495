package pyenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// AnsibleRequirements are what atmosphere's collection needs beside its
// requirements.txt to run its roles and render its values:
//   - pydantic 2: the storage filters (plugins/filter/storage.py) are
//     pydantic models, and requirements.txt does not list it;
//   - ansible-core from 2.15.9 (the collection's meta/runtime.yml and
//     requirements.txt; Debian's is 2.14) and before 2.19: from 2.19 on,
//     variables reach filters as lazily templated containers, which the
//     storage filters' pydantic models refuse (a discriminator tag
//     `_LazyValue('rbd')`);
//   - the ansible package of that ansible-core: the collections galaxy.yml
//     depends on (community.general's modprobe and json_query,
//     ansible.utils, ansible.posix, …), which ship with it.
var AnsibleRequirements = []string{"pydantic>=2,<3", "ansible-core>=2.15.9,<2.19", "ansible>=11,<12"}

// venvStamp is written into a virtualenv once every requirement is in
// place; a directory without it is a broken attempt and is made again.
const venvStamp = ".atmosphere-complete"

// Venv is a Python virtualenv made from PyPI and kept in a cache: the
// directory Root/venv-<key>, the key the SHA-256 of the Python version and
// the requirements, so that a change of either makes a new one and an
// unchanged one is reused as it is.
type Venv struct {
	// Root holds the virtualenvs (one at a time: those of other keys are
	// removed when a new one is made).
	Root string
	// RequirementsFile is a pip requirements file; none when empty.
	RequirementsFile string
	// Requirements are more requirements (pip's syntax).
	Requirements []string
	// Want is a program of bin/ the virtualenv must have
	// ("ansible-playbook").
	Want string
	// Log is told when a virtualenv is made; discarded when nil.
	Log io.Writer
}

// Ensure returns the virtualenv's bin directory, making the virtualenv
// when it is missing or incomplete. python3 with its venv module must be
// there.
func (v Venv) Ensure(ctx context.Context) (string, error) {
	var reqs []byte
	if v.RequirementsFile != "" {
		var err error
		if reqs, err = os.ReadFile(v.RequirementsFile); err != nil {
			return "", fmt.Errorf("virtualenv requirements: %w", err)
		}
	}
	version, err := exec.CommandContext(ctx, "python3", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("python3 --version: %w", err)
	}
	sum := sha256.New()
	fmt.Fprintf(sum, "%s\n%s\n%s\n", strings.TrimSpace(string(version)), reqs, strings.Join(v.Requirements, "\n"))
	dir := filepath.Join(v.Root, "venv-"+hex.EncodeToString(sum.Sum(nil))[:16])
	bin := filepath.Join(dir, "bin")
	if _, err := os.Stat(filepath.Join(dir, venvStamp)); err == nil {
		return bin, nil
	}
	log := v.Log
	if log == nil {
		log = io.Discard
	}
	fmt.Fprintf(log, "creating the virtualenv %s (%s from PyPI)\n", dir, strings.Join(append(nonEmpty(v.RequirementsFile), v.Requirements...), ", "))
	// Virtualenvs of other requirements (and an incomplete one of these) go.
	old, _ := filepath.Glob(filepath.Join(v.Root, "venv-*"))
	for _, o := range old {
		if err := os.RemoveAll(o); err != nil {
			return "", fmt.Errorf("removing the virtualenv %s: %w", o, err)
		}
	}
	if err := os.MkdirAll(v.Root, 0o755); err != nil {
		return "", err
	}
	install := []string{filepath.Join(bin, "python"), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"}
	if v.RequirementsFile != "" {
		install = append(install, "-r", v.RequirementsFile)
	}
	for _, args := range [][]string{{"python3", "-m", "venv", dir}, append(install, v.Requirements...)} {
		cmd := exec.CommandContext(ctx, args[0], args[1:]...)
		cmd.Env = Clean()
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("creating the virtualenv %s: %s: %w\n%s", dir, strings.Join(args, " "), err, lastLines(string(out), 15))
		}
	}
	if v.Want != "" {
		if _, err := os.Stat(filepath.Join(bin, v.Want)); err != nil {
			return "", errors.New("the virtualenv " + dir + " has no " + v.Want + ": its requirements must name what provides it")
		}
	}
	if err := os.WriteFile(filepath.Join(dir, venvStamp), []byte(strings.Join(append([]string{string(reqs)}, v.Requirements...), "\n")), 0o644); err != nil {
		return "", err
	}
	return bin, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// LayCollection makes root a collections path (the directory of an
// ANSIBLE_COLLECTIONS_PATH, holding ansible_collections/) in which the
// collection name ("vexxhost.atmosphere") is a symlink to the source
// directory src (which holds its galaxy.yml): the collection installed
// without its dependencies, and always the checkout's current content. A
// link already there is pointed at src again.
func LayCollection(root, name, src string) error {
	ns, coll, ok := strings.Cut(name, ".")
	if !ok || ns == "" || coll == "" {
		return fmt.Errorf("collection %q: want namespace.name", name)
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(abs, "galaxy.yml")); err != nil {
		return fmt.Errorf("collection %s from %s: %w", name, src, err)
	}
	dir := filepath.Join(root, "ansible_collections", ns)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	link := filepath.Join(dir, coll)
	if cur, err := os.Readlink(link); err == nil && cur == abs {
		return nil
	}
	if err := os.RemoveAll(link); err != nil {
		return err
	}
	return os.Symlink(abs, link)
}
