package state

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// WindowStore keeps values per key and window start time, for windowed aggregations and joins.
// Times are milliseconds; time ranges are inclusive at both ends, as in Kafka Streams. Key ranges
// are [from, to), a nil bound being unbounded.
//
// Windows whose start is at or before stream time (the highest window start put) minus retention
// are expired: puts to them are dropped, reads do not return them, and their storage is freed a
// segment at a time. Iterators return windows in (key, window start) order, or the reverse.
type WindowStore interface {
	Store
	// Put sets the value of key's window starting at windowStart. A nil value deletes it (unless the
	// store retains duplicates, where it is ignored).
	Put(key []byte, windowStart int64, value []byte) error
	// PutNew is Put of a window the caller knows the store does not hold: one it has not put since
	// the store opened and that was not restored. It skips what Put does to find the window's old
	// value, a read of the layers below for a store whose flush listener gets old values (a lookup
	// of an absent key, a store's most expensive read), and hands the listener no old value. value
	// must not be nil. Putting a window the store does hold is not detected: its old value is lost
	// to the listener (the stored value is replaced all the same).
	PutNew(key []byte, windowStart int64, value []byte) error
	// Get returns the value of one window (the first one put, if the store retains duplicates).
	Get(key []byte, windowStart int64) ([]byte, bool, error)
	// Fetch iterates over key's windows starting in [from, to].
	Fetch(key []byte, from, to int64) (WindowIterator, error)
	FetchBackward(key []byte, from, to int64) (WindowIterator, error)
	// FetchKeyRange iterates over the windows starting in [from, to] of keys in [keyFrom, keyTo).
	FetchKeyRange(keyFrom, keyTo []byte, from, to int64) (WindowIterator, error)
	FetchKeyRangeBackward(keyFrom, keyTo []byte, from, to int64) (WindowIterator, error)
	// FetchAll iterates over every key's windows starting in [from, to].
	FetchAll(from, to int64) (WindowIterator, error)
	FetchAllBackward(from, to int64) (WindowIterator, error)
	All() (WindowIterator, error)
	// StreamTime is the highest window start put, math.MinInt64 before the first.
	StreamTime() int64
}

// WindowStore opens (restoring it if logged) the window store name. size is the windows' length
// (it gives Window.End); retention how long windows are kept after stream time passes their start.
func (t *Task) WindowStore(ctx context.Context, name string, size, retention time.Duration, opts ...StoreOpt) (WindowStore, error) {
	if size <= 0 || retention < size {
		return nil, fmt.Errorf("state: window store %q: need 0 < size (%v) <= retention (%v)", name, size, retention)
	}
	cfg := storeConfig{}
	for _, o := range opts {
		o.applyStore(&cfg)
	}
	s := &windowStore{size: size.Milliseconds(), dups: cfg.retainDuplicates}
	_, err := t.openStore(ctx, name, kindWindow, cfg, func(b *storeBase) storeImpl {
		s.storeBase = b
		s.segmented = newSegmented(b, retention, cfg)
		return s
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// windowStore: physical key = data | segment(start) | escaped key | start | be32 sequence number.
type windowStore struct {
	*storeBase
	segmented
	size int64
	dups bool
}

func (s *windowStore) phys(buf, key []byte, start int64, seq uint32) []byte {
	buf = s.appendSegment(buf[:0], start)
	buf = appendEscaped(buf, key)
	buf = appendTime(buf, start)
	return binary.BigEndian.AppendUint32(buf, seq)
}

func (s *windowStore) StreamTime() int64 { return s.streamTime }

func (s *windowStore) Put(key []byte, start int64, value []byte) error {
	if err := s.check(); err != nil {
		return err
	}
	return s.put(s.top, key, start, value, 0, false)
}

func (s *windowStore) PutNew(key []byte, start int64, value []byte) error {
	if err := s.check(); err != nil {
		return err
	}
	if value == nil {
		return fmt.Errorf("state: window store %q: PutNew of a nil value (a new window has nothing to delete)", s.name)
	}
	if s.cache == nil {
		return s.put(s.top, key, start, value, 0, false)
	}
	return s.put(newWindowLayer{s.cache}, key, start, value, 0, false)
}

// newWindowLayer is the top of a store being written a key the caller knows it does not hold
// (PutNew): the record cache is told so, which saves it the read of the old value.
type newWindowLayer struct{ *cacheLayer }

func (l newWindowLayer) set(k, v []byte) error { return l.write(k, v, false, true) }

// put writes one window through l; restoring, seq comes from the changelog record.
func (s *windowStore) put(l layer, key []byte, start int64, value []byte, seq uint32, restoring bool) error {
	if value == nil && s.dups && !restoring {
		return nil
	}
	if err := s.observe(l, start); err != nil {
		return err
	}
	if !s.live(start) {
		s.t.db.logger.Debug("state: dropping write to expired window", "store", s.name, "window_start", start, "stream_time", s.streamTime)
		return nil
	}
	if s.dups && !restoring {
		s.seq++
		s.metaDirty = true
		seq = s.seq
	}
	if restoring && seq > s.seq {
		s.seq = seq
		s.metaDirty = true
	}
	s.kbuf = s.phys(s.kbuf, key, start, seq)
	if value == nil {
		return l.del(s.kbuf)
	}
	return l.set(s.kbuf, value)
}

func (s *windowStore) Get(key []byte, start int64) ([]byte, bool, error) {
	if err := s.check(); err != nil {
		return nil, false, err
	}
	if s.streamTime == math.MinInt64 || !s.live(start) {
		return nil, false, nil
	}
	if !s.dups {
		return s.top.get(s.phys(s.kbuf, key, start, 0))
	}
	lo := s.phys(nil, key, start, 0)
	it, err := s.top.iter(lo, prefixEnd(lo[:len(lo)-4]), false)
	if err != nil {
		return nil, false, err
	}
	defer it.close()
	if it.next() {
		return bytes.Clone(it.value()), true, nil
	}
	return nil, false, it.err()
}

func (s *windowStore) Fetch(key []byte, from, to int64) (WindowIterator, error) {
	return s.fetch(key, from, to, false)
}

func (s *windowStore) FetchBackward(key []byte, from, to int64) (WindowIterator, error) {
	return s.fetch(key, from, to, true)
}

func (s *windowStore) fetch(key []byte, from, to int64, reverse bool) (WindowIterator, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	segLo, segHi, ok := s.segmentSpan(from, to)
	if !ok {
		return s.newIter(emptyIter{}, math.MinInt64, math.MaxInt64), nil
	}
	from = max(from, s.minLive())
	raw, err := s.iterSegments(segLo, segHi, reverse, func(seg []byte) ([]byte, []byte) {
		k := appendEscaped(seg, key)
		lo := appendTime(bytes.Clone(k), from)
		hi := prefixEnd(appendTime(k, to))
		return lo, hi
	})
	if err != nil {
		return nil, err
	}
	return s.newIter(raw, from, to), nil
}

func (s *windowStore) FetchKeyRange(keyFrom, keyTo []byte, from, to int64) (WindowIterator, error) {
	return s.fetchRange(keyFrom, keyTo, from, to, false)
}

func (s *windowStore) FetchKeyRangeBackward(keyFrom, keyTo []byte, from, to int64) (WindowIterator, error) {
	return s.fetchRange(keyFrom, keyTo, from, to, true)
}

func (s *windowStore) FetchAll(from, to int64) (WindowIterator, error) {
	return s.fetchRange(nil, nil, from, to, false)
}

func (s *windowStore) FetchAllBackward(from, to int64) (WindowIterator, error) {
	return s.fetchRange(nil, nil, from, to, true)
}

func (s *windowStore) All() (WindowIterator, error) {
	return s.fetchRange(nil, nil, math.MinInt64, math.MaxInt64, false)
}

func (s *windowStore) fetchRange(keyFrom, keyTo []byte, from, to int64, reverse bool) (WindowIterator, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	segLo, segHi, ok := s.segmentSpan(from, to)
	if !ok || (keyFrom != nil && keyTo != nil && bytes.Compare(keyFrom, keyTo) >= 0) {
		return s.newIter(emptyIter{}, math.MinInt64, math.MaxInt64), nil
	}
	raw, err := s.iterSegments(segLo, segHi, reverse, func(seg []byte) ([]byte, []byte) {
		return keyBounds(seg, keyFrom, keyTo)
	})
	if err != nil {
		return nil, err
	}
	return s.newIter(raw, max(from, s.minLive()), to), nil
}

// keyBounds returns the range of a segment holding escaped keys in [keyFrom, keyTo).
func keyBounds(seg, keyFrom, keyTo []byte) (lo, hi []byte) {
	lo, hi = seg, prefixEnd(seg)
	if keyFrom != nil {
		lo = appendEscaped(bytes.Clone(seg), keyFrom)
	}
	if keyTo != nil {
		hi = appendEscaped(bytes.Clone(seg), keyTo)
	}
	return lo, hi
}

// newIter decodes window entries, keeping those starting in [from, to].
func (s *windowStore) newIter(raw rawIter, from, to int64) *iterator {
	return s.storeBase.newIterator(raw, func(it *iterator, phys, value []byte) (bool, error) {
		key, rest, err := readEscaped(it.kbuf, phys[len(s.data)+8:])
		if err != nil || len(rest) != 12 {
			return false, fmt.Errorf("state: window store %q: %w", s.name, errMalformedKey)
		}
		it.kbuf = key
		start := readTime(rest)
		if start < from || start > to {
			return false, nil
		}
		it.key, it.value, it.win = key, value, Window{Start: start, End: addSat(start, s.size)}
		return true, nil
	})
}

// storeImpl.

// decodePhys splits a physical key, appending the user key to dst.
func (s *windowStore) decodePhys(dst, phys []byte) (key []byte, start int64, seq uint32, err error) {
	if len(phys) < len(s.data)+8 {
		return nil, 0, 0, errMalformedKey
	}
	key, rest, err := readEscaped(dst, phys[len(s.data)+8:])
	if err != nil || len(rest) != 12 {
		return nil, 0, 0, fmt.Errorf("state: window store %q: %w", s.name, errMalformedKey)
	}
	return key, readTime(rest), binary.BigEndian.Uint32(rest[8:]), nil
}

// changelogKey: key | be64 start | be32 seq, Kafka Streams' WindowKeySchema.
func (s *windowStore) changelogKey(phys []byte) ([]byte, error) {
	key, start, seq, err := s.decodePhys(nil, phys)
	if err != nil {
		return nil, err
	}
	out := binary.BigEndian.AppendUint64(key, uint64(start))
	return binary.BigEndian.AppendUint32(out, seq), nil
}

func (s *windowStore) recordTimestamp(phys, _ []byte) int64 {
	if len(phys) < len(s.data)+8+12 {
		return 0
	}
	return readTime(phys[len(phys)-12:])
}

func (s *windowStore) decodeKey(phys []byte, c *Change) error {
	key, start, _, err := s.decodePhys(c.Key[:0], phys)
	if err != nil {
		return err
	}
	c.Key, c.Window = key, Window{Start: start, End: addSat(start, s.size)}
	return nil
}

// expired reads the window start from the end of the key: start(8) seq(4).
func (s *windowStore) expired(phys []byte) bool {
	return len(phys) >= len(s.data)+8+12 && !s.live(readTime(phys[len(phys)-12:]))
}

func (s *windowStore) decodeValue(v []byte) ([]byte, int64) { return v, 0 }

var errShortWindowKey = errors.New("state: window changelog key shorter than 12 bytes")

func (s *windowStore) restore(l layer, rec ChangelogRecord) error {
	if len(rec.Key) < 12 {
		return errShortWindowKey
	}
	n := len(rec.Key) - 12
	start := int64(binary.BigEndian.Uint64(rec.Key[n:]))
	seq := binary.BigEndian.Uint32(rec.Key[n+8:])
	return s.put(l, rec.Key[:n], start, rec.Value, seq, true)
}
