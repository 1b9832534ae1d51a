package txn

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Keys: "x/<transactional id>" holds the ID's record as JSON.
const keyPrefix = "x/"

var (
	keysLower = []byte(keyPrefix)
	keysUpper = []byte("x0") // '0' follows '/'
)

func key(id string) []byte { return append([]byte(keyPrefix), id...) }

// record is the stored form of a transactional ID.
type record struct {
	ProducerID     int64            `json:"pid"`
	LastProducerID int64            `json:"last_pid"`
	Epoch          int16            `json:"epoch"`
	LastEpoch      int16            `json:"last_epoch"`
	TimeoutMs      int64            `json:"timeout_ms"`
	State          State            `json:"state"`
	Partitions     []TopicPartition `json:"partitions,omitempty"`
	Groups         []string         `json:"groups,omitempty"`
	StartedMs      int64            `json:"started_ms,omitempty"`
	UpdatedMs      int64            `json:"updated_ms"`
}

// snapshotOf returns the entry's state as a record. REQUIRES: t.mu is held.
func snapshotOf(t *txn) *record {
	r := &record{
		ProducerID: t.mu.pid, LastProducerID: t.mu.lastPID, Epoch: t.mu.epoch, LastEpoch: t.mu.lastEpoch,
		TimeoutMs: t.mu.timeout.Milliseconds(), State: t.mu.state, UpdatedMs: t.mu.updated.UnixMilli(),
	}
	for tp := range t.mu.partitions {
		r.Partitions = append(r.Partitions, tp)
	}
	for g := range t.mu.groups {
		r.Groups = append(r.Groups, g)
	}
	if !t.mu.started.IsZero() {
		r.StartedMs = t.mu.started.UnixMilli()
	}
	return r
}

// restoreLocked puts the entry back to r, after a change of it could not be stored.
// REQUIRES: t.mu is held exclusively.
func restoreLocked(t *txn, r record) { applyRecord(t, r) }

func applyRecord(t *txn, r record) {
	t.mu.pid, t.mu.lastPID, t.mu.epoch, t.mu.lastEpoch = r.ProducerID, r.LastProducerID, r.Epoch, r.LastEpoch
	t.mu.timeout = time.Duration(r.TimeoutMs) * time.Millisecond
	t.mu.state = r.State
	clear(t.mu.partitions)
	for _, tp := range r.Partitions {
		t.mu.partitions[tp] = struct{}{}
	}
	clear(t.mu.groups)
	for _, g := range r.Groups {
		t.mu.groups[g] = struct{}{}
	}
	t.mu.started = time.Time{}
	if r.StartedMs > 0 {
		t.mu.started = time.UnixMilli(r.StartedMs)
	}
	t.mu.updated = time.UnixMilli(r.UpdatedMs)
}

// storeLocked writes the entry, durably with pebble.Sync. REQUIRES: t.mu is held exclusively.
func (c *Coordinator) storeLocked(t *txn, opts *pebble.WriteOptions) error {
	t.mu.updated = c.o.Now()
	v, err := json.Marshal(snapshotOf(t))
	if err != nil {
		return err
	}
	if err := c.db.Set(key(t.id), v, opts); err != nil {
		c.o.Logger.Error("storing transaction state", "transactional_id", t.id, "err", err)
		return fmt.Errorf("txn: store %q: %w", t.id, err)
	}
	return nil
}

// load reads every stored transactional ID. New calls it before the coordinator is shared.
func (c *Coordinator) load() error {
	it, err := c.db.NewIter(&pebble.IterOptions{LowerBound: keysLower, UpperBound: keysUpper})
	if err != nil {
		return fmt.Errorf("txn: load: %w", err)
	}
	var errs []error
	for it.First(); it.Valid(); it.Next() {
		id := string(it.Key()[len(keyPrefix):])
		var r record
		if err := json.Unmarshal(it.Value(), &r); err != nil {
			errs = append(errs, fmt.Errorf("txn: transactional id %q: %w", id, err))
			continue
		}
		t := newTxn(id)
		applyRecord(t, r)
		c.mu.byID[id] = t
	}
	errs = append(errs, it.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("txn: load: %w", err)
	}
	return nil
}
