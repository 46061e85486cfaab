//go:build windows

package profiles

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// readBounded reads a regular file after checking with Lstat that it is
// not a symbolic link or junction (Windows has no O_NOFOLLOW), refusing
// files larger than limit before reading them.
func readBounded(path string, limit int64) ([]byte, error) {
	st, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file; links are not followed", filepath.Base(path))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err = f.Stat(); err != nil {
		return nil, err
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: %w (%d bytes, at most %d)", filepath.Base(path), errTooLarge, st.Size(), limit)
	}
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: %w (grew while read)", filepath.Base(path), errTooLarge)
	}
	return b, nil
}

// syncDir is a no-op on Windows: folders cannot be opened for fsync there,
// and NTFS journals renames (MoveFileEx is used by os.Rename).
func syncDir(string) error { return nil }
