package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/vexxhost/atmosphere-go/internal/pyenv"
)

// AnsiblePlaybook is the Debian ansible's ansible-playbook.
const AnsiblePlaybook = "/usr/bin/ansible-playbook"

// EnsureAnsible installs Debian's ansible package when ansible-playbook is
// missing, and returns its path.
func EnsureAnsible(ctx context.Context) (string, error) {
	if err := EnsurePackages(ctx, AnsiblePlaybook, "ansible"); err != nil {
		return "", err
	}
	return AnsiblePlaybook, nil
}

// LocalInventory writes an inventory of localhost reached with
// ansible_connection=local into dir and returns its path.
func LocalInventory(dir string) (string, error) {
	p := filepath.Join(dir, "hosts.ini")
	content := "[all]\nlocalhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n"
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		return "", err
	}
	return p, nil
}

// RunPlaybook runs a playbook against localhost and returns its output.
func RunPlaybook(ctx context.Context, playbook string, args ...string) (string, error) {
	bin, err := EnsureAnsible(ctx)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "atmosphere-ansible-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	inventory, err := LocalInventory(dir)
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, bin, append([]string{"-i", inventory, playbook}, args...)...)
	cmd.Env = append(pyenv.Clean(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_HOST_KEY_CHECKING=False",
		"ANSIBLE_LOCAL_TEMP="+filepath.Join(dir, "tmp"), "ANSIBLE_RETRY_FILES_ENABLED=False")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ansible-playbook %s: %w\n%s", playbook, err, LastLines(string(out), 20))
	}
	return string(out), nil
}

// The test environment's ansible: atmosphere's own ansible-core (from PyPI,
// in a cached virtualenv) and atmosphere's collection installed from
// ../shared/atmosphere.
const (
	// EnvAnsible is the bin directory of the virtualenv holding
	// ansible-playbook (and ansible-inventory, ansible-galaxy).
	EnvAnsible = "ATMOSPHERE_TEST_ANSIBLE"
	// EnvCollections is a collections path holding vexxhost.atmosphere.
	EnvCollections = "ATMOSPHERE_TEST_COLLECTIONS"
)

// AnsibleEnv is an ansible to run atmosphere's collection with.
type AnsibleEnv struct {
	// Bin is the directory of ansible-playbook and ansible-inventory.
	Bin string
	// Collections is a collections path (ANSIBLE_COLLECTIONS_PATH) in
	// which vexxhost.atmosphere is installed.
	Collections string
}

// Playbook is the path of ansible-playbook.
func (a AnsibleEnv) Playbook() string { return filepath.Join(a.Bin, "ansible-playbook") }

// Inventory is the path of ansible-inventory.
func (a AnsibleEnv) Inventory() string { return filepath.Join(a.Bin, "ansible-inventory") }

// EnsureAnsibleEnv returns the test environment's ansible: the one
// $ATMOSPHERE_TEST_ANSIBLE and $ATMOSPHERE_TEST_COLLECTIONS name (the
// env file of `make test-env-up`), else the cached one, made when missing:
// a virtualenv of ansible-core and the Python requirements atmosphere's
// collection names (sharedAtmosphere/requirements.txt and
// pyenv.AnsibleRequirements) under $XDG_CACHE_HOME/atmosphere/ansible
// (~/.cache when unset), and in its collections/ the collection
// sharedAtmosphere laid out as vexxhost.atmosphere (a symlink: installed
// without its dependencies, as the checkout is now). The first time takes
// a few minutes (pip); after that it is reused by every clone of the
// machine.
func EnsureAnsibleEnv(ctx context.Context, sharedAtmosphere string, log io.Writer) (AnsibleEnv, error) {
	if bin, coll := os.Getenv(EnvAnsible), os.Getenv(EnvCollections); bin != "" && coll != "" {
		return AnsibleEnv{Bin: bin, Collections: coll}, nil
	}
	root, err := AnsibleCacheDir()
	if err != nil {
		return AnsibleEnv{}, err
	}
	// Debian's python3 makes virtualenvs only with python3-venv.
	if exec.CommandContext(ctx, "python3", "-c", "import ensurepip, venv").Run() != nil {
		if err := EnsurePackages(ctx, "/usr/share/doc/python3-venv", "python3-venv"); err != nil {
			return AnsibleEnv{}, err
		}
	}
	bin, err := pyenv.Venv{Root: root, RequirementsFile: filepath.Join(sharedAtmosphere, "requirements.txt"),
		Requirements: pyenv.AnsibleRequirements, Want: "ansible-playbook", Log: log}.Ensure(ctx)
	if err != nil {
		return AnsibleEnv{}, err
	}
	coll := filepath.Join(root, "collections")
	if err := pyenv.LayCollection(coll, "vexxhost.atmosphere", sharedAtmosphere); err != nil {
		return AnsibleEnv{}, err
	}
	return AnsibleEnv{Bin: bin, Collections: coll}, nil
}

// AnsibleCacheDir is where the test ansible is kept:
// $XDG_CACHE_HOME/atmosphere/ansible (~/.cache when unset).
func AnsibleCacheDir() (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("the cache directory of the test ansible: %w", err)
	}
	return filepath.Join(cache, "atmosphere", "ansible"), nil
}
