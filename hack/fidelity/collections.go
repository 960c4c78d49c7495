package main

import (
	"fmt"
	"os"
	"path/filepath"
)

// layCollections lays out dst as a collections path
// (dst/ansible_collections/<namespace>/<name>) holding atmosphere's own
// collection (vexxhost.atmosphere: the checkout at atmosphere) and those of
// sharedCollections (<namespace>.<name> directories: vexxhost.kubernetes,
// vexxhost.ceph), each a symlink to the real one, then the stand-ins of
// standIns (an ansible_collections tree) added where the real collections
// have nothing: a stand-in collection the real ones do not have is linked
// whole, and a stand-in inside a real collection (the stub roles of
// vexxhost.kubernetes, whose roles are not in ../shared) is linked beside the
// real collection's own entries. A stand-in that would hide a file or
// directory of a real collection is an error: the real plugins always win.
func layCollections(dst, atmosphere, sharedCollections, standIns string) error {
	root := filepath.Join(dst, "ansible_collections")
	real := map[string]string{filepath.Join("vexxhost", "atmosphere"): atmosphere}
	entries, err := os.ReadDir(sharedCollections)
	if err != nil {
		return fmt.Errorf("reading the shared collections: %w", err)
	}
	for _, e := range entries {
		ns, name, ok := splitCollection(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		real[filepath.Join(ns, name)] = filepath.Join(sharedCollections, e.Name())
	}
	for rel, src := range real {
		abs, err := filepath.Abs(src)
		if err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(abs, "galaxy.yml")); err != nil {
			return fmt.Errorf("collection %s: %w", src, err)
		}
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(rel)), 0o755); err != nil {
			return err
		}
		if err := os.Symlink(abs, filepath.Join(root, rel)); err != nil {
			return err
		}
	}
	standIns, err = filepath.Abs(filepath.Join(standIns, "ansible_collections"))
	if err != nil {
		return err
	}
	return overlay(root, standIns)
}

// splitCollection splits a directory name "namespace.name".
func splitCollection(dir string) (ns, name string, ok bool) {
	for i := 0; i < len(dir); i++ {
		if dir[i] == '.' {
			return dir[:i], dir[i+1:], i > 0 && i < len(dir)-1
		}
	}
	return "", "", false
}

// overlay adds the entries of the directory src to the directory dst:
// an entry dst does not have is linked to src's; a directory both have is
// merged (a symlinked one of dst made a real directory of links first);
// anything else is a conflict.
func overlay(dst, src string) error {
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		fi, err := os.Stat(to)
		if os.IsNotExist(err) {
			if err := os.Symlink(from, to); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() || !e.IsDir() {
			return fmt.Errorf("the stand-in %s would hide %s of a real collection", from, to)
		}
		if err := unlink(to); err != nil {
			return err
		}
		if err := overlay(to, from); err != nil {
			return err
		}
	}
	return nil
}

// unlink turns dir, when it is a symlink to a directory, into a real
// directory holding a link to each entry of the one it pointed to.
func unlink(dir string) error {
	li, err := os.Lstat(dir)
	if err != nil || li.Mode()&os.ModeSymlink == 0 {
		return err
	}
	target, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(target)
	if err != nil {
		return err
	}
	if err := os.Remove(dir); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.Symlink(filepath.Join(target, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
