package main

import (
	"context"
	"os"

	"github.com/vexxhost/atmosphere-go/internal/testenv"
)

// ensureVenv returns the bin directory of a Python virtualenv holding
// ansible-core and the Python requirements of atmosphere's collection
// (sharedAtmosphere/requirements.txt plus pyenv.AnsibleRequirements),
// installed from PyPI: the test environment's ansible
// (testenv.EnsureAnsibleEnv), kept outside the clone under
// $XDG_CACHE_HOME/atmosphere/ansible (~/.cache when unset), made when
// missing and reused as it is when its requirements are unchanged.
func ensureVenv(ctx context.Context, sharedAtmosphere string) (string, error) {
	a, err := testenv.EnsureAnsibleEnv(ctx, sharedAtmosphere, os.Stderr)
	return a.Bin, err
}
