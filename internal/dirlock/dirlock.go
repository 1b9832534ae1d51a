// Package dirlock gives one process at a time a directory: a broker's data directory, a state
// directory. The lock is an advisory lock on the file .lock in the directory (the name Kafka uses
// for its log directories), held for as long as the Lock is; the holder's process id is written
// into the file, so that a second process can say which process holds the directory instead of
// only "resource temporarily unavailable".
//
// The lock is per open file, not per process: two Acquires on one directory in the same process
// conflict too, as two servers in one test binary must. It never blocks, and it is released by
// the kernel when the holder dies, so a crash leaves nothing to clean up: a .lock file left
// behind is stale and reused.
package dirlock

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// FileName is the name of the lock file in a locked directory.
const FileName = ".lock"

// ErrLocked is what a LockedError matches with errors.Is.
var ErrLocked = errors.New("directory in use by another process")

// LockedError says that another holder has the directory. PID is the holder's process id as
// written in the lock file, or 0 when the file did not name one (the holder is writing it, or is
// an older version that did not).
type LockedError struct {
	Dir string
	PID int
	Err error // the lock call's error, e.g. EWOULDBLOCK
}

func (e *LockedError) Error() string {
	who := "another process"
	switch {
	case e.PID == os.Getpid():
		who = fmt.Sprintf("this process (pid %d)", e.PID)
	case e.PID > 0:
		who = fmt.Sprintf("process %d", e.PID)
	}
	return fmt.Sprintf("directory %s is in use by %s: %v", e.Dir, who, e.Err)
}

func (e *LockedError) Unwrap() error { return e.Err }

func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// Lock is a held directory lock.
type Lock struct {
	f *os.File
}

// Acquire locks dir, which must exist, for this process, or returns a *LockedError if another
// holder has it.
func Acquire(dir string) (*Lock, error) {
	path := filepath.Join(dir, FileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("dirlock: %w", err)
	}
	if err := lockFile(f); err != nil {
		pid := readPID(f)
		f.Close()
		return nil, &LockedError{Dir: dir, PID: pid, Err: err}
	}
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(pid, 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("dirlock: write %s: %w", path, err)
	}
	return &Lock{f: f}, nil
}

// Release gives the directory up. The lock file stays, emptied. Release on a nil Lock, or twice,
// does nothing.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	f := l.f
	l.f = nil
	terr := f.Truncate(0)
	if err := f.Close(); err != nil { // closing the only descriptor releases the lock
		return fmt.Errorf("dirlock: %w", err)
	}
	if terr != nil {
		return fmt.Errorf("dirlock: %w", terr)
	}
	return nil
}

// readPID returns the process id written in the lock file, or 0.
func readPID(f *os.File) int {
	buf := make([]byte, 32)
	n, _ := f.ReadAt(buf, 0)
	pid, err := strconv.Atoi(string(bytes.TrimSpace(buf[:n])))
	if err != nil || pid <= 0 {
		return 0
	}
	return pid
}
