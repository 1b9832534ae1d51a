//go:build unix

package dirlock

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on f without waiting. flock locks belong to the open file, so
// a second descriptor for the same file conflicts even within one process.
func lockFile(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err != syscall.EINTR {
			return err
		}
	}
}
