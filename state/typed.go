package state

import "github.com/seichedb/seiche/serde"

// The typed views below convert keys and values with serde.Serde, the one serde abstraction of
// Seiche's typed Go API: streams, tables and stores take the same serdes. Typed ranges rely on the
// key serde preserving order (big-endian integers, strings); with one that does not, key ranges of
// the typed stores select by byte order of the serialized keys.

// KV is a typed view of a KeyValueStore.
type KV[K, V any] struct {
	Store  KeyValueStore
	Keys   serde.Serde[K]
	Values serde.Serde[V]
}

// NewKV returns a typed view of s.
func NewKV[K, V any](s KeyValueStore, keys serde.Serde[K], values serde.Serde[V]) KV[K, V] {
	return KV[K, V]{Store: s, Keys: keys, Values: values}
}

func (s KV[K, V]) Get(key K) (v V, ok bool, err error) {
	kb, err := s.Keys.Serialize(key)
	if err != nil {
		return v, false, err
	}
	vb, ok, err := s.Store.Get(kb)
	if err != nil || !ok {
		return v, ok, err
	}
	v, err = s.Values.Deserialize(vb)
	return v, err == nil, err
}

// Put stores value; a value serialized to nil deletes the key.
func (s KV[K, V]) Put(key K, value V) error {
	kb, err := s.Keys.Serialize(key)
	if err != nil {
		return err
	}
	vb, err := s.Values.Serialize(value)
	if err != nil {
		return err
	}
	return s.Store.Put(kb, vb)
}

func (s KV[K, V]) PutIfAbsent(key K, value V) (prev V, ok bool, err error) {
	if prev, ok, err = s.Get(key); err != nil || ok {
		return prev, ok, err
	}
	return prev, false, s.Put(key, value)
}

func (s KV[K, V]) Delete(key K) error {
	kb, err := s.Keys.Serialize(key)
	if err != nil {
		return err
	}
	return s.Store.Delete(kb)
}

// Range iterates over [from, to); a nil bound is unbounded.
func (s KV[K, V]) Range(from, to *K) (*Iterator[K, V], error) {
	lo, hi, err := serializeBounds(s.Keys, from, to)
	if err != nil {
		return nil, err
	}
	it, err := s.Store.Range(lo, hi)
	return wrapIter(s.Keys, s.Values, it, err)
}

func (s KV[K, V]) ReverseRange(from, to *K) (*Iterator[K, V], error) {
	lo, hi, err := serializeBounds(s.Keys, from, to)
	if err != nil {
		return nil, err
	}
	it, err := s.Store.ReverseRange(lo, hi)
	return wrapIter(s.Keys, s.Values, it, err)
}

// PrefixScan iterates over the keys whose serialized form starts with prefix.
func (s KV[K, V]) PrefixScan(prefix []byte) (*Iterator[K, V], error) {
	it, err := s.Store.PrefixScan(prefix)
	return wrapIter(s.Keys, s.Values, it, err)
}

func (s KV[K, V]) All() (*Iterator[K, V], error) {
	it, err := s.Store.All()
	return wrapIter(s.Keys, s.Values, it, err)
}

// TimestampedKV is a typed view of a TimestampedKeyValueStore.
type TimestampedKV[K, V any] struct {
	Store  TimestampedKeyValueStore
	Keys   serde.Serde[K]
	Values serde.Serde[V]
}

// NewTimestampedKV returns a typed view of s.
func NewTimestampedKV[K, V any](s TimestampedKeyValueStore, keys serde.Serde[K], values serde.Serde[V]) TimestampedKV[K, V] {
	return TimestampedKV[K, V]{Store: s, Keys: keys, Values: values}
}

// ValueAndTimestamp is a value of a timestamped store with the timestamp of the record that last
// changed it (Kafka Streams' ValueAndTimestamp).
type ValueAndTimestamp[V any] struct {
	Value     V
	Timestamp int64
}

// Get returns the key's value and timestamp; ok is false if the key is absent.
func (s TimestampedKV[K, V]) Get(key K) (vt ValueAndTimestamp[V], ok bool, err error) {
	kb, err := s.Keys.Serialize(key)
	if err != nil {
		return vt, false, err
	}
	vb, ts, ok, err := s.Store.Get(kb)
	if err != nil || !ok {
		return vt, ok, err
	}
	v, err := s.Values.Deserialize(vb)
	if err != nil {
		return vt, false, err
	}
	return ValueAndTimestamp[V]{Value: v, Timestamp: ts}, true, nil
}

func (s TimestampedKV[K, V]) Put(key K, value V, ts int64) error {
	kb, err := s.Keys.Serialize(key)
	if err != nil {
		return err
	}
	vb, err := s.Values.Serialize(value)
	if err != nil {
		return err
	}
	return s.Store.Put(kb, vb, ts)
}

func (s TimestampedKV[K, V]) Delete(key K) error {
	kb, err := s.Keys.Serialize(key)
	if err != nil {
		return err
	}
	return s.Store.Delete(kb)
}

func (s TimestampedKV[K, V]) Range(from, to *K) (*Iterator[K, V], error) {
	lo, hi, err := serializeBounds(s.Keys, from, to)
	if err != nil {
		return nil, err
	}
	it, err := s.Store.Range(lo, hi)
	return wrapIter(s.Keys, s.Values, it, err)
}

func (s TimestampedKV[K, V]) All() (*Iterator[K, V], error) {
	it, err := s.Store.All()
	return wrapIter(s.Keys, s.Values, it, err)
}

// Windowed is a typed view of a WindowStore.
type Windowed[K, V any] struct {
	Store  WindowStore
	Keys   serde.Serde[K]
	Values serde.Serde[V]
}

// NewWindowed returns a typed view of s.
func NewWindowed[K, V any](s WindowStore, keys serde.Serde[K], values serde.Serde[V]) Windowed[K, V] {
	return Windowed[K, V]{Store: s, Keys: keys, Values: values}
}

func (s Windowed[K, V]) Put(key K, windowStart int64, value V) error {
	kb, err := s.Keys.Serialize(key)
	if err != nil {
		return err
	}
	vb, err := s.Values.Serialize(value)
	if err != nil {
		return err
	}
	return s.Store.Put(kb, windowStart, vb)
}

func (s Windowed[K, V]) Get(key K, windowStart int64) (v V, ok bool, err error) {
	kb, err := s.Keys.Serialize(key)
	if err != nil {
		return v, false, err
	}
	vb, ok, err := s.Store.Get(kb, windowStart)
	if err != nil || !ok {
		return v, ok, err
	}
	v, err = s.Values.Deserialize(vb)
	return v, err == nil, err
}

func (s Windowed[K, V]) Fetch(key K, from, to int64) (*Iterator[K, V], error) {
	kb, err := s.Keys.Serialize(key)
	if err != nil {
		return nil, err
	}
	it, err := s.Store.Fetch(kb, from, to)
	return wrapIter(s.Keys, s.Values, it, err)
}

func (s Windowed[K, V]) FetchKeyRange(keyFrom, keyTo *K, from, to int64) (*Iterator[K, V], error) {
	lo, hi, err := serializeBounds(s.Keys, keyFrom, keyTo)
	if err != nil {
		return nil, err
	}
	it, err := s.Store.FetchKeyRange(lo, hi, from, to)
	return wrapIter(s.Keys, s.Values, it, err)
}

func (s Windowed[K, V]) FetchAll(from, to int64) (*Iterator[K, V], error) {
	it, err := s.Store.FetchAll(from, to)
	return wrapIter(s.Keys, s.Values, it, err)
}

// Sessions is a typed view of a SessionStore.
type Sessions[K, V any] struct {
	Store  SessionStore
	Keys   serde.Serde[K]
	Values serde.Serde[V]
}

// NewSessions returns a typed view of s.
func NewSessions[K, V any](s SessionStore, keys serde.Serde[K], values serde.Serde[V]) Sessions[K, V] {
	return Sessions[K, V]{Store: s, Keys: keys, Values: values}
}

func (s Sessions[K, V]) Put(key K, session Window, value V) error {
	kb, err := s.Keys.Serialize(key)
	if err != nil {
		return err
	}
	vb, err := s.Values.Serialize(value)
	if err != nil {
		return err
	}
	return s.Store.Put(kb, session, vb)
}

func (s Sessions[K, V]) Remove(key K, session Window) error {
	kb, err := s.Keys.Serialize(key)
	if err != nil {
		return err
	}
	return s.Store.Remove(kb, session)
}

func (s Sessions[K, V]) FindSessions(key K, earliestSessionEnd, latestSessionStart int64) (*Iterator[K, V], error) {
	kb, err := s.Keys.Serialize(key)
	if err != nil {
		return nil, err
	}
	it, err := s.Store.FindSessions(kb, earliestSessionEnd, latestSessionStart)
	return wrapIter(s.Keys, s.Values, it, err)
}

func (s Sessions[K, V]) Fetch(key K) (*Iterator[K, V], error) {
	kb, err := s.Keys.Serialize(key)
	if err != nil {
		return nil, err
	}
	it, err := s.Store.Fetch(kb)
	return wrapIter(s.Keys, s.Values, it, err)
}

// Iterator is a typed iterator over any store. Next deserializes the entry; a deserialization
// error ends the iteration and is returned by Err.
type Iterator[K, V any] struct {
	raw    KeyValueIterator
	keys   serde.Serde[K]
	values serde.Serde[V]
	k      K
	v      V
	err    error
}

func wrapIter[K, V any, I KeyValueIterator](keys serde.Serde[K], values serde.Serde[V], raw I, err error) (*Iterator[K, V], error) {
	if err != nil {
		return nil, err
	}
	return &Iterator[K, V]{raw: raw, keys: keys, values: values}, nil
}

func (it *Iterator[K, V]) Next() bool {
	if it.err != nil || !it.raw.Next() {
		return false
	}
	if it.k, it.err = it.keys.Deserialize(it.raw.Key()); it.err != nil {
		return false
	}
	if it.v, it.err = it.values.Deserialize(it.raw.Value()); it.err != nil {
		return false
	}
	return true
}

func (it *Iterator[K, V]) Key() K   { return it.k }
func (it *Iterator[K, V]) Value() V { return it.v }

// Timestamp is the value's timestamp, for iterators over timestamped stores (0 otherwise).
func (it *Iterator[K, V]) Timestamp() int64 {
	if t, ok := it.raw.(TimestampedIterator); ok {
		return t.Timestamp()
	}
	return 0
}

// Window is the entry's window or session, for iterators over window and session stores.
func (it *Iterator[K, V]) Window() Window {
	if w, ok := it.raw.(WindowIterator); ok {
		return w.Window()
	}
	return Window{}
}

func (it *Iterator[K, V]) Err() error {
	if it.err != nil {
		return it.err
	}
	return it.raw.Err()
}

func (it *Iterator[K, V]) Close() error { return it.raw.Close() }

func serializeBounds[K any](keys serde.Serde[K], from, to *K) (lo, hi []byte, err error) {
	if from != nil {
		if lo, err = keys.Serialize(*from); err != nil {
			return nil, nil, err
		}
	}
	if to != nil {
		if hi, err = keys.Serialize(*to); err != nil {
			return nil, nil, err
		}
	}
	return lo, hi, nil
}
