package state

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Task holds the stores of one runtime task: its writes to all of them form one transaction that
// Commit makes durable together with each logged store's changelog checkpoint. A Task and its stores
// belong to the goroutine driving the task; they are not safe for concurrent use.
type Task struct {
	db        *DB
	app, id   string
	partition int32
	cfg       taskConfig
	prefix    string
	txn       txn
	stores    []*storeBase
	closed    bool
}

// OpenTask opens the task id of application app on the DB. Its stores' keys are prefixed by app and
// id; partition is the partition of the stores' changelogs (the task's input partition). A task may
// be open once per DB at a time.
func (db *DB) OpenTask(app, id string, partition int32, opts ...TaskOpt) (*Task, error) {
	var cfg taskConfig
	for _, o := range opts {
		o.applyTask(&cfg)
	}
	if app == "" || id == "" {
		return nil, errors.New("state: task needs an application id and a task id")
	}
	if partition < 0 {
		return nil, fmt.Errorf("state: task %s: negative partition %d", id, partition)
	}
	if cfg.partitions != 0 && partition >= cfg.partitions {
		return nil, fmt.Errorf("state: task %s: partition %d outside %d changelog partitions", id, partition, cfg.partitions)
	}
	t := &Task{db: db, app: app, id: id, partition: partition, cfg: cfg, prefix: string(taskPrefix(app, id))}
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.mu.closed {
		return nil, ErrClosed
	}
	if _, ok := db.mu.tasks[t.prefix]; ok {
		return nil, fmt.Errorf("%w: %s/%s", ErrTaskOpen, app, id)
	}
	t.txn = db.eng.newTxn()
	db.mu.tasks[t.prefix] = t
	return t, nil
}

// ID returns the task id; Partition its changelog partition.
func (t *Task) ID() string       { return t.id }
func (t *Task) Partition() int32 { return t.partition }

func (t *Task) check() error {
	if t.closed {
		return ErrClosed
	}
	return nil
}

// FlushForwarding flushes the record caches of the stores that have a flush listener, so that
// what they hold is forwarded, and leaves the caches of the others (stores only their own
// processor reads, such as a suppression buffer) to coalesce until the next Flush or Commit. It
// neither waits for the changelogs nor commits. The test driver calls it after every record, where
// Kafka Streams' TopologyTestDriver flushes every cache: what is forwarded is the same.
func (t *Task) FlushForwarding() error {
	if err := t.check(); err != nil {
		return err
	}
	for _, s := range t.stores {
		if s.cache != nil && s.cache.listener != nil {
			if err := s.cache.flush(nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// Flush writes every store's cached changes down (the flush listeners run) and waits until every
// change produced to the changelogs is acknowledged. Under exactly-once the runtime calls Flush,
// commits its producer's transaction, then calls Commit.
func (t *Task) Flush(ctx context.Context) error {
	if err := t.check(); err != nil {
		return err
	}
	var produced int64
	for _, s := range t.stores {
		if s.cache != nil {
			if err := s.cache.flush(nil); err != nil {
				return err
			}
		}
		if s.log != nil {
			produced += s.log.produced
			s.log.produced = 0
		}
	}
	if produced > 0 {
		if err := t.cfg.changelog.Flush(ctx); err != nil {
			return fmt.Errorf("state: flush changelogs of task %s: %w", t.id, err)
		}
	}
	for _, s := range t.stores {
		if s.log != nil {
			if err := s.log.failure(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Commit flushes (see Flush), then makes every change since the last commit durable in one atomic
// write together with each logged store's changelog checkpoint. After a crash, a store holds exactly
// what it held at a commit, and restore replays its changelog from that commit's checkpoint on.
func (t *Task) Commit(ctx context.Context) error {
	if err := t.Flush(ctx); err != nil {
		return err
	}
	for _, s := range t.stores {
		if off, ok := s.position(); ok && off != s.checkpoint {
			if err := t.txn.set(s.checkpointKey, binary.BigEndian.AppendUint64(nil, uint64(off))); err != nil {
				return err
			}
		}
		if err := s.impl.saveMeta(t.txn); err != nil {
			return err
		}
	}
	if err := t.txn.commit(); err != nil {
		return fmt.Errorf("state: commit task %s: %w", t.id, err)
	}
	for _, s := range t.stores {
		if off, ok := s.position(); ok {
			s.checkpoint = off
		}
	}
	return nil
}

// position returns the offset of the last changelog record the store's data covers, as the next
// commit is to checkpoint it: the last change acknowledged for an active logged store, the last
// record applied for a standby. ok is false for an unlogged store.
func (s *storeBase) position() (int64, bool) {
	switch {
	case s.log != nil:
		return s.log.acked.Load(), true
	case s.standby:
		return s.applied, true
	}
	return 0, false
}

// Abort discards every change since the last commit, cached or not, and the stores return to what
// they held then. It is for exactly-once, where the changes produced to the changelogs are aborted
// with the producer's transaction. Under at-least-once they are not: close the task instead, and
// reopening it restores the stores from their changelogs.
func (t *Task) Abort() error {
	if err := t.check(); err != nil {
		return err
	}
	t.txn.abort()
	for _, s := range t.stores {
		if s.cache != nil {
			s.cache.reset()
		}
		if s.log != nil {
			s.log.reset(s.checkpoint)
		}
		if s.standby {
			s.applied = s.checkpoint
		}
		if err := s.impl.loadMeta(); err != nil {
			return err
		}
	}
	return nil
}

// Close closes the task, its stores and their open iterators without committing: uncommitted
// changes are discarded. It is idempotent.
func (t *Task) Close() error {
	if t.closed {
		return nil
	}
	t.closed = true
	var err error
	for _, s := range t.stores {
		s.closed = true
		if cerr := s.closeIters(); err == nil {
			err = cerr
		}
	}
	t.txn.abort()
	t.db.mu.Lock()
	delete(t.db.mu.tasks, t.prefix)
	t.db.mu.Unlock()
	return err
}

// storeImpl is what each kind of store adds to storeBase.
type storeImpl interface {
	// changelogKey converts a physical key to its changelog key.
	changelogKey(phys []byte) ([]byte, error)
	// recordTimestamp is the timestamp of the changelog record of a change.
	recordTimestamp(phys, value []byte) int64
	// decodeKey fills in Key and Window of a change from a physical key; it may reuse c.Key's
	// array (a Change's slices are valid only during the listener's call).
	decodeKey(phys []byte, c *Change) error
	// decodeValue splits a stored value into the user's value and its timestamp.
	decodeValue(v []byte) ([]byte, int64)
	// expired reports whether the physical key's window or session is past retention.
	expired(phys []byte) bool
	// restore applies one changelog record through l.
	restore(l layer, rec ChangelogRecord) error
	// loadMeta reads the store's metadata (stream time) as last committed; saveMeta writes it if changed.
	loadMeta() error
	saveMeta(t txn) error
	// topicConfigs are the configs the store's changelog topic is created with.
	topicConfigs() map[string]string
}

type storeKind byte

const (
	kindKeyValue    storeKind = 'v'
	kindTimestamped storeKind = 's'
	kindWindow      storeKind = 'w'
	kindSession     storeKind = 'n'
)

func (k storeKind) String() string {
	switch k {
	case kindKeyValue:
		return "key-value"
	case kindTimestamped:
		return "timestamped key-value"
	case kindWindow:
		return "window"
	case kindSession:
		return "session"
	}
	return fmt.Sprintf("kind %q", byte(k))
}

// storeBase is the part common to every kind of store: identity, key prefixes, the layer stack.
type storeBase struct {
	t    *Task
	name string
	kind storeKind
	impl storeImpl
	cfg  storeConfig

	prefix        []byte // store prefix
	data          []byte // prefix | storeData: every data key starts with it
	dataEnd       []byte
	checkpointKey []byte
	topic         string
	checkpoint    int64 // last committed changelog offset, -1 for none

	// A standby's logged store (Standby): applied is the offset of the last changelog record
	// applied (ApplyChangelog), end the changelog's end offset when the store opened.
	standby      bool
	applied, end int64

	top   layer // the layer writes and reads enter
	log   *logLayer
	cache *cacheLayer

	closed bool
	kbuf   []byte
	iters  map[*iterator]struct{} // open iterators, closed with the store
}

func (s *storeBase) Name() string { return s.name }

func (s *storeBase) check() error {
	if s.closed || s.t.closed {
		return ErrClosed
	}
	return nil
}

// Close closes the store alone; the task keeps its other stores. Changes the store already wrote
// stay in the task's transaction and commit with it; changes still in its record cache are dropped
// (they reached neither the store nor the changelog). It is idempotent.
func (s *storeBase) Close() error {
	if !s.closed && s.cache != nil {
		s.cache.reset()
	}
	s.closed = true
	return s.closeIters()
}

// closeIters closes the iterators still open on the store, so that the engine under them can
// close; they report ErrClosed from then on.
func (s *storeBase) closeIters() error {
	var first error
	for it := range s.iters {
		if err := it.Close(); err != nil && first == nil {
			first = err
		}
		it.err = ErrClosed
	}
	return first
}

// newIterator returns an iterator over raw that reports ErrClosed once the store is closed.
func (s *storeBase) newIterator(raw rawIter, decode func(it *iterator, phys, value []byte) (bool, error)) *iterator {
	it := &iterator{raw: raw, decode: decode, owner: s}
	if s.iters == nil {
		s.iters = map[*iterator]struct{}{}
	}
	s.iters[it] = struct{}{}
	return it
}

func (s *storeBase) metaKey(kind byte) []byte {
	k := append(bytes.Clone(s.prefix), storeMeta, kind)
	return k
}

// openStore opens a store of the task: checks its kind, restores it from its changelog if it is
// logged, and builds its layers.
func (t *Task) openStore(ctx context.Context, name string, kind storeKind, cfg storeConfig, newImpl func(*storeBase) storeImpl) (*storeBase, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if name == "" {
		return nil, errors.New("state: store needs a name")
	}
	for _, s := range t.stores {
		if s.name == name {
			// A closed store stays registered until the task closes: its uncommitted writes and
			// checkpoint still commit with the task.
			return nil, fmt.Errorf("%w: %q in task %s (a closed store reopens with its task)", ErrStoreOpen, name, t.id)
		}
	}
	s := &storeBase{t: t, name: name, kind: kind, cfg: cfg, checkpoint: -1}
	s.prefix = storePrefix(t.app, t.id, name)
	s.data = append(bytes.Clone(s.prefix), storeData)
	s.dataEnd = prefixEnd(s.data)
	s.checkpointKey = binary.BigEndian.AppendUint32(s.metaKey(metaCheckpoint), uint32(t.partition))
	s.topic = ChangelogTopic(t.app, name)
	s.impl = newImpl(s)

	eng := t.db.eng
	kindKey := s.metaKey(metaKind)
	got, ok, err := eng.get(kindKey)
	if err != nil {
		return nil, fmt.Errorf("state: open store %q: %w", name, err)
	}
	if ok && (len(got) != 1 || storeKind(got[0]) != kind) {
		return nil, fmt.Errorf("%w: %q holds a %v store, opened as %v", ErrKindMismatch, name, storeKind(got[0]), kind)
	}
	if !ok {
		tx := eng.newTxn()
		if err := tx.set(kindKey, []byte{byte(kind)}); err != nil {
			return nil, err
		}
		if err := tx.commit(); err != nil {
			return nil, err
		}
	}

	logged := t.cfg.changelog != nil && !cfg.unlogged
	switch {
	case logged && t.cfg.standby:
		if err := s.openStandby(ctx); err != nil {
			return nil, err
		}
	case logged:
		if err := s.restore(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.impl.loadMeta(); err != nil {
		return nil, err
	}

	s.top = taskLayer{t}
	switch {
	case t.cfg.standby:
		// Only ApplyChangelog writes a standby's stores, below this layer; nothing writes
		// through it, so there is nothing to log or to cache.
		s.top = readOnlyLayer{s.top}
	case logged:
		s.log = newLogLayer(s.top, s, t.cfg.changelog, s.topic, t.partition, s.checkpoint)
		s.top = s.log
	}
	if t.cfg.cacheCapSet {
		cfg.cacheBytes = min(cfg.cacheBytes, t.cfg.cacheCap)
	}
	if !t.cfg.standby && (cfg.cacheBytes > 0 || cfg.listener != nil) {
		s.cache = newCacheLayer(s.top, s, cfg.cacheBytes, cfg.listener, cfg.sendOldValues)
		s.top = s.cache
	}
	t.stores = append(t.stores, s)
	return s, nil
}

func (s *storeBase) restoreError(err error) error {
	return &RestoreError{Store: s.name, Topic: s.topic, Partition: s.t.partition, Err: err}
}

// changelogStart creates the store's changelog topic if it is missing (and the changelog can),
// checks the store's checkpoint against the changelog's offsets and returns where to read from:
// after the checkpoint if it has a usable one; otherwise, with the store wiped, the log start. end
// is the changelog's end offset now.
func (s *storeBase) changelogStart(ctx context.Context) (from, end int64, err error) {
	t := s.t
	cl := t.cfg.changelog
	if tc, ok := cl.(TopicCreator); ok && t.cfg.partitions > 0 {
		if err := tc.EnsureTopic(ctx, s.topic, t.cfg.partitions, s.impl.topicConfigs()); err != nil {
			return 0, 0, err
		}
	}
	cpv, hasCP, err := t.db.eng.get(s.checkpointKey)
	if err != nil {
		return 0, 0, err
	}
	cp := int64(-1)
	if hasCP && len(cpv) == 8 {
		cp = int64(binary.BigEndian.Uint64(cpv))
	} else {
		hasCP = false
	}
	start, end, err := cl.Offsets(ctx, s.topic, t.partition)
	if err != nil {
		return 0, 0, err
	}
	from = cp + 1
	if !hasCP || from < start || from > end {
		if hasCP {
			t.db.logger.Warn("state: checkpoint outside the changelog; rebuilding the store from it",
				"store", s.name, "task", t.id, "checkpoint", cp, "log_start", start, "log_end", end)
		}
		if err := s.wipe(); err != nil {
			return 0, 0, err
		}
		from = start
	}
	if err := s.impl.loadMeta(); err != nil {
		return 0, 0, err
	}
	return from, end, nil
}

// restore brings the store up to its changelog's end, from its checkpoint if it has a usable one,
// from scratch otherwise.
func (s *storeBase) restore(ctx context.Context) error {
	t := s.t
	cl := t.cfg.changelog
	fail := s.restoreError
	eng := t.db.eng
	from, end, err := s.changelogStart(ctx)
	if err != nil {
		return fail(err)
	}

	p := RestoreProgress{Store: s.name, Topic: s.topic, Partition: t.partition, From: from, End: end, Position: from}
	began := time.Now()
	report := func() {
		if t.cfg.onRestore != nil {
			p.Elapsed = time.Since(began)
			t.cfg.onRestore(p)
		}
	}
	tx := newBlindTxn(eng)
	l := txnLayer{tx}
	last := from - 1
	if from < end {
		err := cl.Read(ctx, s.topic, t.partition, from, end, func(recs []ChangelogRecord) error {
			for _, r := range recs {
				if err := s.impl.restore(l, r); err != nil {
					return fmt.Errorf("offset %d: %w", r.Offset, err)
				}
				last = r.Offset
			}
			if err := s.commitRestored(tx, last); err != nil {
				return err
			}
			p.Records += int64(len(recs))
			p.Position = last + 1
			report()
			return nil
		})
		if err != nil {
			tx.abort()
			return fail(err)
		}
	}
	// Transaction markers and compaction can leave the last offsets without a record to apply.
	if err := s.commitRestored(tx, end-1); err != nil {
		return fail(err)
	}
	s.checkpoint = end - 1
	p.Position, p.Done = end, true
	report()
	return nil
}

func newBlindTxn(e engine) txn {
	if pe, ok := e.(*pebbleEngine); ok {
		return &pebbleTxn{db: pe.db, blind: true}
	}
	return e.newTxn()
}

func (s *storeBase) commitRestored(tx txn, offset int64) error {
	if err := tx.set(s.checkpointKey, binary.BigEndian.AppendUint64(nil, uint64(offset))); err != nil {
		return err
	}
	if err := s.impl.saveMeta(tx); err != nil {
		return err
	}
	return tx.commit()
}

// wipe deletes the store's data, metadata and checkpoint, keeping its kind.
func (s *storeBase) wipe() error {
	eng := s.t.db.eng
	if err := eng.deleteRange(s.data, s.dataEnd); err != nil {
		return err
	}
	tx := eng.newTxn()
	tx.del(s.metaKey(metaTime))
	tx.del(s.checkpointKey)
	return tx.commit()
}

// SetCheckpoint records, in the task's transaction, that the store name holds partition of the topic
// it is built from up to offset, the offset of the last record applied. It is for an unlogged store
// whose source topic is its changelog (a global store): Commit makes the checkpoint durable in the
// same atomic write as the changes before it, so a checkpoint never covers a change that was lost.
// A logged store's checkpoint is its changelog's and Commit keeps it; SetCheckpoint refuses it.
func (t *Task) SetCheckpoint(name string, partition int32, offset int64) error {
	s, err := t.unloggedStore(name)
	if err != nil {
		return err
	}
	return t.txn.set(binary.BigEndian.AppendUint32(s.metaKey(metaCheckpoint), uint32(partition)),
		binary.BigEndian.AppendUint64(nil, uint64(offset)))
}

// Checkpoints returns the checkpoints SetCheckpoint recorded for the unlogged store name, by
// partition: as last committed, with those set since. It is empty for a store never checkpointed.
func (t *Task) Checkpoints(name string) (map[int32]int64, error) {
	s, err := t.unloggedStore(name)
	if err != nil {
		return nil, err
	}
	lo := s.metaKey(metaCheckpoint)
	it, err := t.txn.iter(lo, prefixEnd(lo), false)
	if err != nil {
		return nil, err
	}
	defer it.close()
	out := map[int32]int64{}
	for it.next() {
		k, v := it.key(), it.value()
		if len(k) != len(lo)+4 || len(v) != 8 {
			return nil, fmt.Errorf("state: store %q: malformed checkpoint", name)
		}
		out[int32(binary.BigEndian.Uint32(k[len(lo):]))] = int64(binary.BigEndian.Uint64(v))
	}
	return out, it.err()
}

func (t *Task) unloggedStore(name string) (*storeBase, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	for _, s := range t.stores {
		if s.name != name {
			continue
		}
		if s.log != nil {
			return nil, fmt.Errorf("state: store %q is logged: its checkpoint is its changelog's", name)
		}
		return s, nil
	}
	return nil, fmt.Errorf("state: no store %q open in task %s", name, t.id)
}
