package share

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Key names one share partition.
type Key struct {
	Group     string
	TopicID   [16]byte
	Partition int32
}

// Manager holds every share partition. Its methods are safe for concurrent use.
type Manager struct {
	db     *pebble.DB
	logger *slog.Logger

	mu struct {
		sync.Mutex
		parts map[Key]*Partition
	}
	// wake is taken under a partition's mutex, so it is separate from mu.
	wake struct {
		sync.Mutex
		changed chan struct{} // closed and replaced when records become available again
	}
}

// Keys: s/<group><topic id><partition>, the group uvarint-length-prefixed, the partition 4 bytes big
// endian. The value is a format version byte, the SPSO, then one run per stretch of in-flight offsets
// with the same state and delivery count: length, state, count (uvarints).
const (
	keyPrefix    = "s/"
	valueVersion = 1
)

func groupPrefix(group string) []byte {
	b := binary.AppendUvarint([]byte(keyPrefix), uint64(len(group)))
	return append(b, group...)
}

func encodeKey(k Key) []byte {
	b := append(groupPrefix(k.Group), k.TopicID[:]...)
	return binary.BigEndian.AppendUint32(b, uint32(k.Partition))
}

func decodeKey(b []byte) (Key, bool) {
	b = b[len(keyPrefix):]
	n, w := binary.Uvarint(b)
	if w <= 0 || uint64(len(b)-w) != n+20 {
		return Key{}, false
	}
	k := Key{Group: string(b[w : w+int(n)])}
	b = b[w+int(n):]
	copy(k.TopicID[:], b[:16])
	k.Partition = int32(binary.BigEndian.Uint32(b[16:]))
	return k, true
}

// New loads every stored share partition from db. The manager uses only keys starting with "s/" and
// never closes db.
func New(db *pebble.DB, logger *slog.Logger) (*Manager, error) {
	m := &Manager{db: db, logger: logger}
	m.mu.parts = make(map[Key]*Partition)
	m.wake.changed = make(chan struct{})
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: []byte(keyPrefix), UpperBound: []byte("s0")})
	if err != nil {
		return nil, fmt.Errorf("share: load: %w", err)
	}
	var errs []error
	for it.First(); it.Valid(); it.Next() {
		k, ok := decodeKey(it.Key())
		p := &Partition{m: m, key: k}
		if !ok || !p.decode(it.Value()) {
			errs = append(errs, fmt.Errorf("share: malformed share partition entry %q", it.Key()))
			continue
		}
		m.mu.parts[k] = p
	}
	errs = append(errs, it.Close())
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("share: load: %w", err)
	}
	return m, nil
}

// Get returns the share partition, or nil if the group has never read it.
func (m *Manager) Get(k Key) *Partition {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mu.parts[k]
}

// GetOrInit returns the share partition, initializing it durably at the SPSO start() returns (the
// group's share.auto.offset.reset) if the group has never read it.
func (m *Manager) GetOrInit(k Key, start func() int64) (*Partition, error) {
	if p := m.Get(k); p != nil {
		return p, nil
	}
	p := &Partition{m: m, key: k}
	p.mu.start = start()
	m.mu.Lock()
	if cur := m.mu.parts[k]; cur != nil {
		m.mu.Unlock()
		return cur, nil
	}
	m.mu.parts[k] = p
	p.mu.Lock() // a concurrent fetch may use p already
	m.mu.Unlock()
	err := p.storeLocked()
	p.mu.Unlock()
	if err != nil {
		m.mu.Lock()
		delete(m.mu.parts, k)
		m.mu.Unlock()
		return nil, err
	}
	return p, nil
}

// Group returns the share partitions of group.
func (m *Manager) Group(group string) map[Key]*Partition {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[Key]*Partition)
	for k, p := range m.mu.parts {
		if k.Group == group {
			out[k] = p
		}
	}
	return out
}

// Delete durably forgets the given share partitions.
func (m *Manager) Delete(keys []Key) error {
	if len(keys) == 0 {
		return nil
	}
	m.mu.Lock()
	for _, k := range keys {
		if p := m.mu.parts[k]; p != nil {
			p.mu.Lock()
			p.mu.deleted = true
			p.mu.Unlock()
		}
	}
	m.mu.Unlock()
	b := m.db.NewBatch()
	defer b.Close()
	for _, k := range keys {
		b.Delete(encodeKey(k), nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("share: delete share partitions: %w", err)
	}
	m.mu.Lock()
	for _, k := range keys {
		delete(m.mu.parts, k)
	}
	m.mu.Unlock()
	return nil
}

// DeleteTopic forgets every group's state of a deleted topic.
func (m *Manager) DeleteTopic(id [16]byte) error {
	var keys []Key
	m.mu.Lock()
	for k := range m.mu.parts {
		if k.TopicID == id {
			keys = append(keys, k)
		}
	}
	m.mu.Unlock()
	return m.Delete(keys)
}

// Changed returns a channel closed the next time records become available again (released, or their
// lock expired). Long-polling share fetches wait on it.
func (m *Manager) Changed() <-chan struct{} {
	m.wake.Lock()
	defer m.wake.Unlock()
	return m.wake.changed
}

func (m *Manager) notify() {
	m.wake.Lock()
	close(m.wake.changed)
	m.wake.changed = make(chan struct{})
	m.wake.Unlock()
}

// afterLock wakes waiting fetches when locks taken now expire.
func (m *Manager) afterLock(d time.Duration) { time.AfterFunc(d, m.notify) }

// Persist durably stores the current state of parts in one synced write.
func (m *Manager) Persist(parts []*Partition) error {
	if len(parts) == 0 {
		return nil
	}
	b := m.db.NewBatch()
	defer b.Close()
	for _, p := range parts {
		p.mu.Lock()
		if !p.mu.deleted {
			b.Set(encodeKey(p.key), p.encodeLocked(), nil)
		}
		p.mu.Unlock()
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("share: store share partition state: %w", err)
	}
	return nil
}

// storeLocked durably stores the partition's state, unless it was deleted.
// REQUIRES: p.mu is held.
func (p *Partition) storeLocked() error {
	if p.mu.deleted {
		return nil
	}
	if err := p.m.db.Set(encodeKey(p.key), p.encodeLocked(), pebble.Sync); err != nil {
		return fmt.Errorf("share: store share partition state: %w", err)
	}
	return nil
}

// encodeLocked encodes the SPSO and the in-flight states; acquired records are stored as available.
// REQUIRES: p.mu is held.
func (p *Partition) encodeLocked() []byte {
	v := []byte{valueVersion}
	v = binary.AppendVarint(v, p.mu.start)
	stored := func(r record) (recState, int16) {
		if r.state == acquired {
			return available, r.count
		}
		return r.state, r.count
	}
	for i := 0; i < len(p.mu.recs); {
		st, n := stored(p.mu.recs[i])
		j := i + 1
		for j < len(p.mu.recs) {
			if s2, n2 := stored(p.mu.recs[j]); s2 != st || n2 != n {
				break
			}
			j++
		}
		v = binary.AppendUvarint(v, uint64(j-i))
		v = append(v, byte(st))
		v = binary.AppendUvarint(v, uint64(n))
		i = j
	}
	return v
}

func (p *Partition) decode(v []byte) bool {
	if len(v) < 2 || v[0] != valueVersion {
		return false
	}
	start, w := binary.Varint(v[1:])
	if w <= 0 {
		return false
	}
	p.mu.start = start
	v = v[1+w:]
	for len(v) > 0 {
		n, w := binary.Uvarint(v)
		if w <= 0 || len(v) < w+2 || n > MaxInFlight {
			return false
		}
		st := recState(v[w])
		count, w2 := binary.Uvarint(v[w+1:])
		if w2 <= 0 || st > archived {
			return false
		}
		for range n {
			p.mu.recs = append(p.mu.recs, record{state: st, count: int16(count)})
		}
		v = v[w+1+w2:]
	}
	return len(p.mu.recs) <= MaxInFlight
}
