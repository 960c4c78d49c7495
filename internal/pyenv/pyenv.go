// Package pyenv prepares the environment of a Python program the project
// starts (Debian's keystone, ansible, the fidelity tool's virtualenv).
package pyenv

import (
	"os"
	"strings"
)

// Clean is the process's environment without the variables that would make
// a Python interpreter load another installation's modules: PYTHONPATH,
// PYTHONHOME and VIRTUAL_ENV.
func Clean() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PYTHONPATH=") || strings.HasPrefix(kv, "PYTHONHOME=") || strings.HasPrefix(kv, "VIRTUAL_ENV=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}
