package state

import (
	"context"
	"errors"
	"fmt"
)

// ErrStandby is returned by a write to a store of a standby task: only its changelog writes it.
var ErrStandby = errors.New("state: store of a standby task: written from its changelog only")

// Standby opens the task as a standby (Kafka Streams' StandbyTask): a copy of a task that runs on
// another instance, kept up to date from the changelogs that task writes, so that if the task moves
// here its restore reads only what the copy has not applied yet.
//
// A standby task's logged stores open without reading their changelogs: opening checks the
// store's checkpoint against the changelog as a restore would (wiping the store when it has none,
// or one outside the changelog), and StandbyPositions says where each store's changelog is to be
// read from. The caller reads the changelogs and hands their records to ApplyChangelog; Commit
// makes what was applied durable with each store's checkpoint, the same checkpoint an active task
// commits, so a restart, or the task becoming active here, resumes from it. The stores refuse
// writes (ErrStandby), have no record cache and produce nothing. Unlogged stores open as they
// would in an active task and stay as they are.
//
// The stores keep the layout of the active task's, under the same task prefix: a standby task and
// an active task of one id are the same state, opened one at a time.
func Standby() TaskOpt {
	return taskOpt(func(t *taskConfig) { t.standby = true })
}

// StandbyPosition is where a standby task's logged store is in its changelog partition.
type StandbyPosition struct {
	Store     string
	Topic     string
	Partition int32
	// Next is the offset of the next record to apply: the offset after the last one applied.
	Next int64
	// End is the changelog's end offset when the store opened.
	End int64
}

// StandbyPositions returns the position of every logged store of a standby task, in the order
// the stores were opened; nil for an active task.
func (t *Task) StandbyPositions() []StandbyPosition {
	var out []StandbyPosition
	for _, s := range t.stores {
		if s.standby {
			out = append(out, StandbyPosition{Store: s.name, Topic: s.topic, Partition: t.partition, Next: s.applied + 1, End: s.end})
		}
	}
	return out
}

// ApplyChangelog applies records read from the changelog of the standby task's store name, in
// offset order, to the store, in the task's transaction (readers see them at once; Commit makes
// them durable). Records before the store's position are skipped, so a batch read twice is
// harmless. next is the offset after the last one read, records and transaction markers alike:
// the store's position moves there even where the last offsets held no record to apply. A record
// that cannot be applied fails the call with a *RestoreError; the records before it stay applied.
func (t *Task) ApplyChangelog(name string, recs []ChangelogRecord, next int64) error {
	if err := t.check(); err != nil {
		return err
	}
	var s *storeBase
	for _, st := range t.stores {
		if st.name == name {
			s = st
		}
	}
	switch {
	case s == nil:
		return fmt.Errorf("state: no store %q open in task %s", name, t.id)
	case !s.standby:
		return fmt.Errorf("state: store %q of task %s is not a logged store of a standby task", name, t.id)
	case s.closed:
		return ErrClosed
	}
	l := taskLayer{t}
	for _, r := range recs {
		if r.Offset <= s.applied {
			continue
		}
		if err := s.impl.restore(l, r); err != nil {
			return s.restoreError(fmt.Errorf("offset %d: %w", r.Offset, err))
		}
		s.applied = r.Offset
	}
	s.applied = max(s.applied, next-1)
	return nil
}

// openStandby positions a standby's logged store after its checkpoint (see Standby).
func (s *storeBase) openStandby(ctx context.Context) error {
	from, end, err := s.changelogStart(ctx)
	if err != nil {
		return s.restoreError(err)
	}
	s.standby = true
	s.checkpoint, s.applied, s.end = from-1, from-1, end
	return nil
}

// readOnlyLayer is the top of a standby's store: reads go through, writes fail.
type readOnlyLayer struct{ layer }

func (readOnlyLayer) set(_, _ []byte) error         { return ErrStandby }
func (readOnlyLayer) del([]byte) error              { return ErrStandby }
func (readOnlyLayer) deleteRange(_, _ []byte) error { return ErrStandby }
