package testenv

import (
	"encoding/json"
	"fmt"
	"os"
)

// readState reads what a test-bed server recorded in its JSON state file
// at path. recorded says whether the state names a server (a pid, an
// address, a port); when it does not, the error says "no server recorded".
// An unreadable file's error is returned as it is (os.ErrNotExist: nothing
// recorded).
func readState[T any](path string, recorded func(*T) bool) (*T, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	st := new(T)
	if err := json.Unmarshal(raw, st); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if !recorded(st) {
		return nil, fmt.Errorf("%s: no server recorded", path)
	}
	return st, nil
}

// writeState records v as JSON at path, readable by its owner alone: a
// state may hold an administrator's password.
func writeState(path string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("record %s: %w", path, err)
	}
	return os.WriteFile(path, raw, 0o600)
}
