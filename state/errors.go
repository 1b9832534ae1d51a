package state

import (
	"errors"
	"fmt"
)

// ErrClosed is returned by every operation on a store, task or DB that has been closed.
var ErrClosed = errors.New("state: store closed")

// ErrStoreOpen is returned when a task opens a store name it already has open.
var ErrStoreOpen = errors.New("state: store already open")

// ErrTaskOpen is returned by OpenTask for a task that is open on the DB already (until its Close).
var ErrTaskOpen = errors.New("state: task already open")

// ErrKindMismatch is returned when a store is opened as a different kind (key-value, window,
// session) than the data in the state directory was written as.
var ErrKindMismatch = errors.New("state: store kind mismatch")

// RestoreError reports a failure to restore a store from its changelog. The store is not usable;
// reopening it retries the restore from its last checkpoint.
type RestoreError struct {
	Store     string
	Topic     string
	Partition int32
	Err       error
}

func (e *RestoreError) Error() string {
	return fmt.Sprintf("state: restore store %q from %s[%d]: %v", e.Store, e.Topic, e.Partition, e.Err)
}

func (e *RestoreError) Unwrap() error { return e.Err }

// ChangelogError reports that a change to a logged store could not be written to its changelog.
// Every change since the task's last commit is then suspect: the task must not commit, and should
// be closed and reopened, which restores the store from what the changelog holds.
type ChangelogError struct {
	Store string
	Topic string
	Err   error
}

func (e *ChangelogError) Error() string {
	return fmt.Sprintf("state: store %q: write to changelog %s: %v", e.Store, e.Topic, e.Err)
}

func (e *ChangelogError) Unwrap() error { return e.Err }
