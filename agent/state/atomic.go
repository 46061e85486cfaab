package state

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// writeAtomic replaces dir/name with data: it writes a temp file in the same
// folder, syncs it, renames it over the target and syncs the folder, so a
// crash leaves either the old or the new file, never a mix. beforeRename, when
// set, runs between the sync and the rename (crash simulation in tests); its
// error aborts the write and leaves the temp file behind, as a crash would.
func writeAtomic(dir, name string, data []byte, perm os.FileMode, beforeRename func() error) error {
	f, err := os.CreateTemp(dir, name+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil && !isWindows {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if beforeRename != nil {
		if err := beforeRename(); err != nil {
			ok = true // simulated crash: leave the temp file as a crash would
			return err
		}
	}
	target := filepath.Join(dir, name)
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	ok = true
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	removeStaleTemps(dir, name)
	return nil
}

// removeStaleTemps deletes temp files left by interrupted writes.
func removeStaleTemps(dir, name string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), name+".tmp-") {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}
