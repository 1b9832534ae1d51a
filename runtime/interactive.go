package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/seichedb/seiche/state"
)

// Interactive queries (Kafka Streams' IQ): a server answering pull queries reads the key-value
// stores of a running application from its own goroutines.
//
// Safety: a task's state belongs to the goroutine driving it; a query never reads it alongside
// that goroutine, it takes turns with it on the task's lock (task.mu). The driver holds the lock
// while it runs a batch of records of one partition, wall-clock punctuators, a flush, a commit or
// the task's close; a query holds it for one Get or one chunk of a Scan, and reads through a
// state.KeyValueReader, which changes nothing in the task (not even the record cache's recency
// order). A query thus waits at most for what the task is doing (a batch of records, or a commit,
// which includes waiting for the broker to acknowledge the changelog records), and the task waits
// at most for one read: the callers' code (Scan's fn) never runs under the lock.
//
// Validity: a reader is bound to one task. Under the lock it checks that the task is not closed
// and, in an App, that the task is still in its thread's latest list of active tasks: a task
// revoked in a rebalance is suspended, and its readers report ErrStoreMigrated until it is
// resumed on the same thread; a task closed (moved to another instance, lost, or the application
// stopped) never comes back, and LocalStores must be asked again. Because close takes the lock,
// no read ever runs on a closed store or on the state directory after it closes.

// ErrStoreMigrated is returned by a StoreReader whose task is no longer active on this instance:
// revoked in a rebalance, moved to another instance, or closed with the application (Kafka
// Streams' InvalidStateStoreException). Call LocalStores again to find the current tasks.
var ErrStoreMigrated = errors.New("runtime: state store migrated: its task is no longer active on this instance")

// StoreReader is a read-only view of one task's key-value store (a store registered with
// KeyValueStore or TimestampedKeyValueStore), safe to use from any goroutine while the task runs.
//
// Consistency: a read sees every write the task made before it, committed or not and whether it
// is still in the store's record cache or not (as Kafka Streams' interactive queries read through
// the cache), and never part of a record's processing: the task's lock is held across whole
// batches of records. Under at-least-once, writes since the task's last commit are lost if the
// instance crashes or loses its partitions; the task then processes those records again, so a read
// may see a value that later goes away and comes back, possibly different.
//
// Keys and values passed in may be reused once a call returns; values and keys returned, or passed
// to Scan's fn, are copies owned by the caller.
type StoreReader interface {
	// Get returns the raw value bytes of key, as the store holds them (for a timestamped store: the value
	// as the typed layer wrote it, i.e. what state.TimestampedKeyValueStore.Get returns, plus ts), ok=false when absent.
	Get(key []byte) (value []byte, ts int64, ok bool, err error)
	// Scan calls fn for each entry in key order within [from, to) (nil = unbounded) until fn returns false.
	//
	//
	// Scan reads the store in chunks of at most 256 entries (or 256 KiB), each a consistent view of
	// the store; between chunks the task may run, so a longer scan is not a snapshot: every key
	// appears at most once and in order, with the value it had when its chunk was read. fn runs
	// outside the task's lock and may be slow without slowing the task.
	Scan(from, to []byte, fn func(key, value []byte, ts int64) bool) error
}

// Scan chunk limits: a chunk is read under the task's lock, so its size bounds how long a scan
// can hold the task up.
const (
	scanChunkEntries = 256
	scanChunkBytes   = 256 << 10
)

// LocalStores returns a reader for store `name` of every active task on this instance, keyed by the
// task's input partition. Empty map (no error) when the instance has no such task right now (e.g. during a
// rebalance); error only when no sub-topology of the topology has a store with that name.
//
// It does not wait for the tasks: it reads the lists of active tasks the stream threads publish.
// A task being created (its stores restoring from their changelogs) is not listed until it is ready.
// A store that is not a key-value store (a window or session store) is an error too, found once a
// task holding it is active.
func (a *App) LocalStores(name string) (map[int32]StoreReader, error) {
	sub, err := a.plan.storeSubtopology(name)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	threads := a.mu.threads
	a.mu.Unlock()
	out := map[int32]StoreReader{}
	for _, th := range threads {
		for _, t := range th.queryableTasks() {
			if t.id.Subtopology != sub {
				continue
			}
			r, err := newStoreReader(t, th, name)
			if err != nil {
				return nil, err
			}
			out[t.id.Partition] = r
		}
	}
	return out, nil
}

// LocalStores returns a reader for store `name` of the driver's task holding it, under partition
// 0, as App.LocalStores does; empty after Close. Its readers may be used from any goroutine, also
// while PipeInput runs on another (the driver itself is not safe for concurrent use).
func (d *TestDriver) LocalStores(name string) (map[int32]StoreReader, error) {
	sub, err := d.plan.storeSubtopology(name)
	if err != nil {
		return nil, err
	}
	t := d.tasks[sub]
	t.mu.Lock()
	closed := t.mu.closed
	t.mu.Unlock()
	if closed {
		return map[int32]StoreReader{}, nil
	}
	r, err := newStoreReader(t, nil, name)
	if err != nil {
		return nil, err
	}
	return map[int32]StoreReader{t.id.Partition: r}, nil
}

// storeSubtopology returns the sub-topology whose tasks hold store name.
func (p *plan) storeSubtopology(name string) (int, error) {
	for _, st := range p.subs {
		for _, sd := range st.stores {
			if sd.builder.Name() == name {
				return st.id, nil
			}
		}
	}
	for _, g := range p.topo.globals {
		if g.name == name {
			return 0, fmt.Errorf("runtime: state store %s is a global store, which belongs to no task", name)
		}
	}
	return 0, fmt.Errorf("runtime: no sub-topology has a state store %s", name)
}

// queryableTasks returns the thread's active tasks as last published.
func (th *thread) queryableTasks() []*task {
	if p := th.queryable.Load(); p != nil {
		return *p
	}
	return nil
}

// storeReader is a StoreReader of one task's store, or of one standby copy's.
type storeReader struct {
	id   TaskID
	name string
	kv   *state.KeyValueReader
	// lock takes the lock of the task (or copy) for one read and reports whether the store is
	// still readable; when it is not, it returns with the lock released. unlock releases it.
	lock   func() bool
	unlock func()
}

// newStoreReader binds a reader to store name of t, which must be open: t has been published
// (thread.queryable) or belongs to a TestDriver, so its stores are all open and stay so until it
// closes, which state.Task.KeyValueReader relies on to run without t's lock. th is the thread
// running t, nil for a TestDriver's task.
func newStoreReader(t *task, th *thread, name string) (*storeReader, error) {
	kv, err := t.stateTask.KeyValueReader(name)
	if err != nil {
		return nil, fmt.Errorf("runtime: task %s: %w", t.id, err)
	}
	return &storeReader{id: t.id, name: name, kv: kv, unlock: t.mu.Unlock, lock: func() bool {
		t.mu.Lock()
		if t.mu.closed || (th != nil && !slices.Contains(th.queryableTasks(), t)) {
			t.mu.Unlock()
			return false
		}
		return true
	}}, nil
}

// readLock takes the task's lock for one read, or reports ErrStoreMigrated without holding it.
func (r *storeReader) readLock() error {
	if !r.lock() {
		return fmt.Errorf("%w (store %s, task %s)", ErrStoreMigrated, r.name, r.id)
	}
	return nil
}

func (r *storeReader) Get(key []byte) ([]byte, int64, bool, error) {
	if err := r.readLock(); err != nil {
		return nil, 0, false, err
	}
	defer r.unlock()
	v, ts, ok, err := r.kv.Get(key)
	if err != nil {
		return nil, 0, false, fmt.Errorf("runtime: read store %s of task %s: %w", r.name, r.id, err)
	}
	return v, ts, ok, nil
}

type scanEntry struct {
	key, value []byte
	ts         int64
}

func (r *storeReader) Scan(from, to []byte, fn func(key, value []byte, ts int64) bool) error {
	for {
		chunk, more, err := r.scanChunk(from, to)
		if err != nil {
			return err
		}
		for _, e := range chunk {
			if !fn(e.key, e.value, e.ts) {
				return nil
			}
		}
		if !more {
			return nil
		}
		// Resume at the smallest key after the chunk's last one.
		from = append(bytes.Clone(chunk[len(chunk)-1].key), 0)
	}
}

// scanChunk copies the first entries of [from, to) under the task's lock; more is set when it
// stopped at a chunk limit rather than at the end of the range.
func (r *storeReader) scanChunk(from, to []byte) (chunk []scanEntry, more bool, err error) {
	if err := r.readLock(); err != nil {
		return nil, false, err
	}
	defer r.unlock()
	size := 0
	err = r.kv.Scan(from, to, func(k, v []byte, ts int64) bool {
		if len(chunk) == scanChunkEntries || size >= scanChunkBytes {
			more = true
			return false
		}
		chunk = append(chunk, scanEntry{key: bytes.Clone(k), value: bytes.Clone(v), ts: ts})
		size += len(k) + len(v)
		return true
	})
	if err != nil {
		return nil, false, fmt.Errorf("runtime: scan store %s of task %s: %w", r.name, r.id, err)
	}
	return chunk, more, nil
}

// StoreMetadata is where the tasks of one store run across the instances of an application (Kafka
// Streams' streamsMetadataForStore and queryMetadataForKey), from the latest assignment: what a
// server needs to send a pull query to the instance that holds a key. Hosts are the
// ApplicationServer values the instances gave; instances that gave none are not listed.
type StoreMetadata struct {
	// Partitions is the number of the store's tasks: the partition count of the topics its
	// sub-topology reads. A key's task is its partition of those topics.
	Partitions int32
	// Active maps a task's partition to the host running it.
	Active map[int32]string
	// Standby maps a task's partition to the hosts keeping a standby copy of its stores (see
	// StandbyReplicas), sorted (Kafka Streams' KeyQueryMetadata.standbyHosts): where a lookup can
	// go when the active host does not answer, reading a copy that may lag (StandbyReader.Lag).
	Standby map[int32][]string
}

// StoreMetadata returns where the tasks of store `name` run, and where their standby copies are.
// Before the first assignment (or when no instance set ApplicationServer) Active and Standby are
// empty; an unknown store is an error.
func (a *App) StoreMetadata(name string) (StoreMetadata, error) {
	sub, err := a.plan.storeSubtopology(name)
	if err != nil {
		return StoreMetadata{}, err
	}
	md := StoreMetadata{Active: map[int32]string{}, Standby: map[int32][]string{}}
	inStore := func(tp TopicPartition) bool {
		id, ok := a.plan.subFor(tp.Topic)
		return ok && id == sub
	}
	for host, tps := range a.HostPartitions() {
		for _, tp := range tps {
			if inStore(tp) {
				md.Active[tp.Partition] = host
				md.Partitions = max(md.Partitions, tp.Partition+1)
			}
		}
	}
	if p := a.standbyHosts.Load(); p != nil {
		for host, tps := range *p {
			for _, tp := range tps {
				// A task reading several topics lists its partition once per topic.
				if inStore(tp) && !slices.Contains(md.Standby[tp.Partition], host) {
					md.Standby[tp.Partition] = append(md.Standby[tp.Partition], host)
					md.Partitions = max(md.Partitions, tp.Partition+1)
				}
			}
		}
	}
	for _, hosts := range md.Standby {
		slices.Sort(hosts)
	}
	return md, nil
}

// StandbyReader is a StoreReader of a standby copy of a task's key-value store, kept up to date
// from the store's changelog. It sees the copy as far as it has applied the changelog: a prefix of
// what the active task wrote, behind it by Lag offsets. Reads take turns with the goroutine
// applying the changelog, one Get or one chunk of a Scan at a time, as StoreReader's do with a
// task. Once the copy closes (its task became active here, moved elsewhere, or the application
// stopped) every method returns ErrStoreMigrated.
type StandbyReader interface {
	StoreReader
	// Lag returns how far the copy is behind the changelog: the changelog's end offset, as the
	// copy last saw it, minus the offset of the next record to apply (ksqlDB's pull-query offset
	// lag, ksql.query.pull.max.allowed.offset.lag). It never counts records written since the
	// copy's last fetch, which at most a fetch wait (half a second) old.
	Lag() (int64, error)
}

// StandbyStores returns a reader for store `name` of every standby copy on this instance, keyed by
// the task's partition: what a server answers a pull query from when the active host is gone,
// within the lag it accepts. Empty map (no error) when the instance keeps no copy of the store's
// tasks right now; error when no sub-topology has a store with that name, or (once a copy is
// open) when the store is not a logged key-value store.
func (a *App) StandbyStores(name string) (map[int32]StandbyReader, error) {
	sub, err := a.plan.storeSubtopology(name)
	if err != nil {
		return nil, err
	}
	out := map[int32]StandbyReader{}
	for _, t := range *a.standbys.queryable.Load() {
		if t.id.Subtopology != sub {
			continue
		}
		r, err := newStandbyReader(t, name)
		if err != nil {
			return nil, err
		}
		out[t.id.Partition] = r
	}
	return out, nil
}

// standbyReader is a StandbyReader of one copy's store.
type standbyReader struct {
	*storeReader
	t *standbyTask
}

// newStandbyReader binds a reader to store name of copy t, which was published open
// (standbys.queryable), so its stores are all open until it closes.
func newStandbyReader(t *standbyTask, name string) (*standbyReader, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mu.closed {
		return nil, fmt.Errorf("%w (store %s, standby task %s)", ErrStoreMigrated, name, t.id)
	}
	logged := false
	for _, ss := range t.mu.stores {
		logged = logged || ss.name == name
	}
	if !logged {
		return nil, fmt.Errorf("runtime: standby task %s: store %s has no changelog, so no standby copy", t.id, name)
	}
	kv, err := t.st.KeyValueReader(name)
	if err != nil {
		return nil, fmt.Errorf("runtime: standby task %s: %w", t.id, err)
	}
	r := &storeReader{id: t.id, name: name, kv: kv, unlock: t.mu.Unlock, lock: func() bool {
		t.mu.Lock()
		if t.mu.closed {
			t.mu.Unlock()
			return false
		}
		return true
	}}
	return &standbyReader{storeReader: r, t: t}, nil
}

func (r *standbyReader) Lag() (int64, error) {
	if err := r.readLock(); err != nil {
		return 0, err
	}
	defer r.unlock()
	for _, ss := range r.t.mu.stores {
		if ss.name == r.name {
			return max(ss.end-ss.next, 0), nil
		}
	}
	return 0, fmt.Errorf("runtime: standby task %s has no store %s", r.id, r.name)
}
