package testenv

import (
	"context"
	"fmt"
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
