package testenv

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// osDatabases are the databases of the test bed's APIs.
func osDatabases() []string {
	var out []string
	for _, s := range osServices {
		out = append(out, s.db...)
	}
	return out
}

// schemaFormat changes when what the APIs' databases hold at start does.
const schemaFormat = "1"

// schemaCache is the file of the APIs' schemas for the installed packages:
// under the user's cache directory, beside the tools (DefaultToolsDir), so
// that a new clone (CI's) reuses it; "" when the packages cannot be read.
func schemaCache() string {
	out, err := exec.Command("dpkg-query", "-W", "-f", "${Package} ${Version}\n",
		"python3-nova", "python3-placement", "python3-neutron", "python3-glance", "python3-cinder").Output()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(append([]byte(schemaFormat+"\n"), out...))
	return filepath.Join(filepath.Dir(DefaultToolsDir()), "openstack-schemas", hex.EncodeToString(sum[:8])+".sql")
}

// restoreSchemas loads the dump at path, when there is one, into the
// server at addr, and points nova's cell0 mapping at this server's cell0
// database. It reports whether it did.
func restoreSchemas(ctx context.Context, path, addr, password, cell0 string) (bool, error) {
	if path == "" {
		return false, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.CommandContext(ctx, "mysql", "--protocol=tcp", "--host="+host, "--port="+port, "--user=root", "--password="+password)
	cmd.Stdin = f
	if out, err := cmd.CombinedOutput(); err != nil {
		// A bad dump is dropped: the next start makes the schemas again.
		os.Remove(path)
		return false, fmt.Errorf("restore the OpenStack APIs' schemas from %s (removed): %w\n%s", path, err, LastLines(string(out), 5))
	}
	db, err := openMySQL(ctx, addr, password)
	if err != nil {
		return false, err
	}
	defer db.Close()
	// The mapping names the database by URL, with the port and password
	// of the server the dump came from.
	if _, err := db.ExecContext(ctx, "UPDATE nova_api.cell_mappings SET database_connection = ?, transport_url = 'fake:/' WHERE uuid = '00000000-0000-0000-0000-000000000000'", cell0); err != nil {
		return false, fmt.Errorf("point nova's cell0 mapping at this server: %w", err)
	}
	return true, nil
}

// dumpSchemas writes the APIs' databases (schemas and the rows their
// tools made) to path, atomically.
func dumpSchemas(ctx context.Context, path, addr, password string) error {
	if path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".dump-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	host, port, _ := strings.Cut(addr, ":")
	cmd := exec.CommandContext(ctx, "mysqldump", append([]string{"--protocol=tcp", "--host=" + host, "--port=" + port,
		"--user=root", "--password=" + password, "--single-transaction", "--skip-comments", "--databases"}, osDatabases()...)...)
	cmd.Stdout = tmp
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("dump the OpenStack APIs' schemas: %w: %s", err, stderr.String())
	}
	return os.Rename(tmp.Name(), path)
}
