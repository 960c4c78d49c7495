package pyenv

import (
	"slices"
	"testing"
)

func TestCleanDropsWhatPointsPythonElsewhere(t *testing.T) {
	t.Setenv("PYTHONPATH", "/elsewhere")
	t.Setenv("PYTHONHOME", "/elsewhere")
	t.Setenv("VIRTUAL_ENV", "/venv")
	t.Setenv("ATMOSPHERE_PYENV_KEPT", "yes")
	env := Clean()
	for _, kv := range []string{"PYTHONPATH=/elsewhere", "PYTHONHOME=/elsewhere", "VIRTUAL_ENV=/venv"} {
		if slices.Contains(env, kv) {
			t.Errorf("Clean kept %s", kv)
		}
	}
	if !slices.Contains(env, "ATMOSPHERE_PYENV_KEPT=yes") {
		t.Errorf("Clean dropped an unrelated variable")
	}
}
