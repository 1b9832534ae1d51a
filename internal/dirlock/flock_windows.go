package dirlock

import (
	"os"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive lock on f without waiting. Windows' locks are per handle (a second
// handle for the same file conflicts, as flock's per open file), released when the handle closes or
// its process dies, and mandatory: so the locked byte lies far past the pid the file holds, which
// others read to name the holder.
func lockFile(f *os.File) error {
	ol := &windows.Overlapped{Offset: 0, OffsetHigh: 0x7fffffff}
	return windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
}
