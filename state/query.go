package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
)

// KeyValueReader reads a key-value or timestamped key-value store for an interactive query (a read
// by another goroutine than the task's: runtime.StoreReader). Its reads see what the store's own
// Get and Range see, the record cache and the task's uncommitted writes included, and change
// nothing: not the cache's contents or recency order, not the cache's ordered index, not the
// store's buffers or its set of open iterators. So a read leaves the task exactly as it found it,
// and only the caller's exclusion matters.
//
// A KeyValueReader is not safe for concurrent use, with itself or with the task: during a call to
// Get or Scan nothing else, the goroutine driving the task included, may use the task or any of
// its stores. The runtime holds its task lock around every call. Scan's callback runs under that
// exclusion, so it should copy what it needs and return.
type KeyValueReader struct {
	s *kvStore
}

// KeyValueReader returns a reader of the store name, which must have been opened on t with
// KeyValueStore or TimestampedKeyValueStore. Unlike the rest of Task it may be called on any
// goroutine, provided no store is being opened on t at the same time: it looks only at which stores
// t has, which opening them fixed (the runtime opens every store of a task before anything else
// sees the task). The reader reports ErrClosed once the store or t is closed.
func (t *Task) KeyValueReader(name string) (*KeyValueReader, error) {
	for _, s := range t.stores {
		if s.name != name {
			continue
		}
		kv, ok := s.impl.(*kvStore)
		if !ok {
			return nil, fmt.Errorf("state: store %q of task %s is a %v store, not a key-value store", name, t.id, s.kind)
		}
		return &KeyValueReader{s: kv}, nil
	}
	return nil, fmt.Errorf("state: no store %q open in task %s", name, t.id)
}

// belowCache is the layer under the store's record cache: what a cache miss reads.
func (s *storeBase) belowCache() layer {
	if s.cache != nil {
		return s.cache.lower
	}
	return s.top
}

// Get returns the value of key as the store's typed layer wrote it and, for a timestamped store,
// its timestamp (0 for a plain one): what KeyValueStore.Get or TimestampedKeyValueStore.Get
// return. The value is a copy owned by the caller.
func (r *KeyValueReader) Get(key []byte) (value []byte, ts int64, ok bool, err error) {
	s := r.s
	if err := s.check(); err != nil {
		return nil, 0, false, err
	}
	k := append(slices.Clip(s.data), key...)
	if c := s.cache; c != nil && c.entries != nil {
		if e, _ := c.lookup(k); e != nil {
			if e.deleted {
				return nil, 0, false, nil
			}
			value, ok = cloneNonNil(e.value), true
		}
	}
	if !ok {
		if value, ok, err = s.belowCache().get(k); err != nil || !ok {
			return nil, 0, false, err
		}
	}
	if !s.timestamped {
		return value, 0, true, nil
	}
	if len(value) < 8 {
		return nil, 0, false, errShortValue
	}
	return value[8:], int64(binary.BigEndian.Uint64(value)), true, nil
}

// Scan calls fn for each entry of [from, to) (a nil bound is unbounded) in key order, with the
// value and timestamp as Get returns them, until fn returns false. It sees the store as it was
// when Scan was called. key and value are valid only during fn's call.
func (r *KeyValueReader) Scan(from, to []byte, fn func(key, value []byte, ts int64) bool) error {
	s := r.s
	if err := s.check(); err != nil {
		return err
	}
	lo, hi, empty := s.bounds(from, to)
	if empty {
		return nil
	}
	raw, err := s.belowCache().iter(lo, hi, false)
	if err != nil {
		return err
	}
	if c := s.cache; c != nil && c.entries != nil {
		if snap := c.peekRange(lo, hi); len(snap) > 0 {
			raw = &cacheMergeIter{cache: snap, lower: raw, ci: -1}
		}
	}
	for raw.next() {
		v, ts := s.decodeValue(raw.value())
		if !fn(raw.key()[len(s.data):], v, ts) {
			break
		}
	}
	if err := raw.err(); err != nil {
		raw.close()
		return err
	}
	return raw.close()
}

// peekRange returns the cache's entries in [lo, hi) (hi nil: unbounded) in key order, as iter
// does, but without changing the cache: it uses the ordered index if a range read built one and
// sorts the matching entries otherwise, so an interactive query never makes the task maintain an
// index it does not use itself.
func (c *cacheLayer) peekRange(lo, hi []byte) []cachedKV {
	var snap []cachedKV
	add := func(e *cacheEntry) bool {
		snap = append(snap, cachedKV{key: e.key, value: e.value, deleted: e.deleted})
		return true
	}
	if c.index != nil {
		if hi == nil {
			c.index.AscendGreaterOrEqual(&cacheEntry{key: lo}, add)
		} else {
			c.index.AscendRange(&cacheEntry{key: lo}, &cacheEntry{key: hi}, add)
		}
		return snap
	}
	for e := c.lru.head; e != nil; e = e.lruNext {
		if bytes.Compare(e.key, lo) >= 0 && (hi == nil || bytes.Compare(e.key, hi) < 0) {
			add(e)
		}
	}
	slices.SortFunc(snap, func(a, b cachedKV) int { return bytes.Compare(a.key, b.key) })
	return snap
}
