package state

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
)

// Store is what every store has.
type Store interface {
	// Name is the store's name, unique within its task.
	Name() string
	// Close closes the store alone (Task.Close closes all of them). It is idempotent; every other
	// method returns ErrClosed afterwards.
	Close() error
}

// KeyValueStore maps byte keys to byte values, in key order.
//
// Key ranges are [from, to), a nil bound being unbounded. Values returned are copies owned by the
// caller; slices passed in may be reused once a call returns. A nil value deletes, as a put of null
// does in Kafka Streams; an empty non-nil value is a value.
type KeyValueStore interface {
	Store
	// Get returns the value of key and whether there is one.
	Get(key []byte) (value []byte, ok bool, err error)
	Put(key, value []byte) error
	// PutIfAbsent puts value unless key has one, and returns the value key had.
	PutIfAbsent(key, value []byte) (prev []byte, ok bool, err error)
	Delete(key []byte) error
	Range(from, to []byte) (KeyValueIterator, error)
	// ReverseRange is Range in descending key order.
	ReverseRange(from, to []byte) (KeyValueIterator, error)
	// PrefixScan iterates over the keys starting with prefix.
	PrefixScan(prefix []byte) (KeyValueIterator, error)
	All() (KeyValueIterator, error)
	// ApproximateNumEntries counts the keys: exactly for small stores, estimated from the on-disk size
	// of large ones.
	ApproximateNumEntries() (int64, error)
}

// TimestampedKeyValueStore is a KeyValueStore whose values carry the timestamp of the record that
// produced them (a KTable's store).
type TimestampedKeyValueStore interface {
	Store
	Get(key []byte) (value []byte, ts int64, ok bool, err error)
	Put(key, value []byte, ts int64) error
	PutIfAbsent(key, value []byte, ts int64) (prev []byte, prevTS int64, ok bool, err error)
	Delete(key []byte) error
	Range(from, to []byte) (TimestampedIterator, error)
	ReverseRange(from, to []byte) (TimestampedIterator, error)
	PrefixScan(prefix []byte) (TimestampedIterator, error)
	All() (TimestampedIterator, error)
	ApproximateNumEntries() (int64, error)
}

// KeyValueStore opens (restoring it if logged) the key-value store name of the task.
func (t *Task) KeyValueStore(ctx context.Context, name string, opts ...StoreOpt) (KeyValueStore, error) {
	s, err := t.openKV(ctx, name, kindKeyValue, opts)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// TimestampedKeyValueStore opens (restoring it if logged) the timestamped key-value store name.
func (t *Task) TimestampedKeyValueStore(ctx context.Context, name string, opts ...StoreOpt) (TimestampedKeyValueStore, error) {
	s, err := t.openKV(ctx, name, kindTimestamped, opts)
	if err != nil {
		return nil, err
	}
	return &tsKVStore{s}, nil
}

func (t *Task) openKV(ctx context.Context, name string, kind storeKind, opts []StoreOpt) (*kvStore, error) {
	cfg := storeConfig{}
	for _, o := range opts {
		o.applyStore(&cfg)
	}
	s := &kvStore{timestamped: kind == kindTimestamped}
	base, err := t.openStore(ctx, name, kind, cfg, func(b *storeBase) storeImpl {
		s.storeBase = b
		return s
	})
	if err != nil {
		return nil, err
	}
	s.storeBase = base
	return s, nil
}

// kvStore implements both key-value stores: physical key = data prefix | user key.
type kvStore struct {
	*storeBase
	timestamped bool
}

func (s *kvStore) key(k []byte) []byte {
	s.kbuf = append(append(s.kbuf[:0], s.data...), k...)
	return s.kbuf
}

func (s *kvStore) Get(key []byte) ([]byte, bool, error) {
	if err := s.check(); err != nil {
		return nil, false, err
	}
	return s.top.get(s.key(key))
}

func (s *kvStore) Put(key, value []byte) error {
	if err := s.check(); err != nil {
		return err
	}
	if value == nil {
		return s.top.del(s.key(key))
	}
	return s.top.set(s.key(key), value)
}

func (s *kvStore) PutIfAbsent(key, value []byte) ([]byte, bool, error) {
	prev, ok, err := s.Get(key)
	if err != nil || ok {
		return prev, ok, err
	}
	return nil, false, s.Put(key, value)
}

func (s *kvStore) Delete(key []byte) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.top.del(s.key(key))
}

func (s *kvStore) bounds(from, to []byte) (lo, hi []byte, empty bool) {
	if from != nil && to != nil && bytes.Compare(from, to) >= 0 {
		return nil, nil, true
	}
	lo = append(bytes.Clone(s.data), from...)
	hi = s.dataEnd
	if to != nil {
		hi = append(bytes.Clone(s.data), to...)
	}
	return lo, hi, false
}

func (s *kvStore) iter(lo, hi []byte, reverse, empty bool) (*iterator, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	it := s.newIterator(emptyIter{}, s.decodeEntry)
	if empty {
		return it, nil
	}
	raw, err := s.top.iter(lo, hi, reverse)
	if err != nil {
		return nil, err
	}
	it.raw = raw
	return it, nil
}

func (s *kvStore) decodeEntry(it *iterator, phys, value []byte) (bool, error) {
	it.key = phys[len(s.data):]
	it.value, it.ts = s.decodeValue(value)
	return true, nil
}

func (s *kvStore) Range(from, to []byte) (KeyValueIterator, error) {
	lo, hi, empty := s.bounds(from, to)
	return s.iter(lo, hi, false, empty)
}

func (s *kvStore) ReverseRange(from, to []byte) (KeyValueIterator, error) {
	lo, hi, empty := s.bounds(from, to)
	return s.iter(lo, hi, true, empty)
}

func (s *kvStore) PrefixScan(prefix []byte) (KeyValueIterator, error) {
	lo := append(bytes.Clone(s.data), prefix...)
	return s.iter(lo, prefixEnd(lo), false, false)
}

func (s *kvStore) All() (KeyValueIterator, error) {
	return s.iter(s.data, s.dataEnd, false, false)
}

func (s *kvStore) ApproximateNumEntries() (int64, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	n, err := s.t.txn.count(s.data, s.dataEnd)
	if err != nil {
		return 0, err
	}
	if s.cache != nil {
		adj, err := s.cache.countAdjust()
		if err != nil {
			return 0, err
		}
		n += adj
	}
	return max(n, 0), nil
}

// storeImpl.

func (s *kvStore) changelogKey(phys []byte) ([]byte, error) {
	return bytes.Clone(phys[len(s.data):]), nil
}

func (s *kvStore) recordTimestamp(_, value []byte) int64 {
	if s.timestamped && len(value) >= 8 {
		return int64(binary.BigEndian.Uint64(value))
	}
	return -1
}

func (s *kvStore) decodeKey(phys []byte, c *Change) error {
	c.Key = phys[len(s.data):]
	return nil
}

func (s *kvStore) decodeValue(v []byte) ([]byte, int64) {
	if !s.timestamped {
		return v, 0
	}
	if len(v) < 8 {
		return v, 0
	}
	return v[8:], int64(binary.BigEndian.Uint64(v))
}

var errShortValue = errors.New("state: timestamped value shorter than its timestamp")

func (s *kvStore) restore(l layer, rec ChangelogRecord) error {
	k := s.key(rec.Key)
	if rec.Value == nil {
		return l.del(k)
	}
	if s.timestamped && len(rec.Value) < 8 {
		return errShortValue
	}
	return l.set(k, rec.Value)
}

func (s *kvStore) expired([]byte) bool { return false }
func (s *kvStore) loadMeta() error     { return nil }
func (s *kvStore) saveMeta(txn) error  { return nil }
func (s *kvStore) topicConfigs() map[string]string {
	return map[string]string{"cleanup.policy": "compact"}
}

// tsKVStore is the timestamped view of a kvStore: values are stored as 8-byte timestamp | value,
// Kafka Streams' ValueAndTimestamp format, so changelog records need no conversion.
type tsKVStore struct{ s *kvStore }

func (t *tsKVStore) Name() string { return t.s.name }
func (t *tsKVStore) Close() error { return t.s.Close() }

func (t *tsKVStore) Get(key []byte) ([]byte, int64, bool, error) {
	v, ok, err := t.s.Get(key)
	if err != nil || !ok {
		return nil, 0, false, err
	}
	if len(v) < 8 {
		return nil, 0, false, errShortValue
	}
	return v[8:], int64(binary.BigEndian.Uint64(v)), true, nil
}

func (t *tsKVStore) Put(key, value []byte, ts int64) error {
	if value == nil {
		return t.s.Delete(key)
	}
	buf := make([]byte, 8, 8+len(value))
	binary.BigEndian.PutUint64(buf, uint64(ts))
	return t.s.Put(key, append(buf, value...))
}

func (t *tsKVStore) PutIfAbsent(key, value []byte, ts int64) ([]byte, int64, bool, error) {
	prev, pts, ok, err := t.Get(key)
	if err != nil || ok {
		return prev, pts, ok, err
	}
	return nil, 0, false, t.Put(key, value, ts)
}

func (t *tsKVStore) Delete(key []byte) error { return t.s.Delete(key) }

func tsIter(it KeyValueIterator, err error) (TimestampedIterator, error) {
	if err != nil {
		return nil, err
	}
	return it.(*iterator), nil
}

func (t *tsKVStore) Range(from, to []byte) (TimestampedIterator, error) {
	return tsIter(t.s.Range(from, to))
}

func (t *tsKVStore) ReverseRange(from, to []byte) (TimestampedIterator, error) {
	return tsIter(t.s.ReverseRange(from, to))
}

func (t *tsKVStore) PrefixScan(prefix []byte) (TimestampedIterator, error) {
	return tsIter(t.s.PrefixScan(prefix))
}

func (t *tsKVStore) All() (TimestampedIterator, error)     { return tsIter(t.s.All()) }
func (t *tsKVStore) ApproximateNumEntries() (int64, error) { return t.s.ApproximateNumEntries() }
