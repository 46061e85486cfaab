package state

const isWindows = true

// syncDir is a no-op on Windows: folders cannot be opened for syncing, and
// NTFS journals the rename (MoveFileEx) itself.
func syncDir(string) error { return nil }
