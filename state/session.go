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

// SessionStore keeps values per key and session [start, end] (both inclusive, milliseconds), for
// session-windowed aggregations, which find the sessions a new record overlaps and merge them.
// Key ranges are [from, to), a nil bound being unbounded.
//
// Sessions whose end is at or before stream time (the highest session end put) minus retention
// are expired. Iterators return sessions in (key, end, start) order, or the reverse.
type SessionStore interface {
	Store
	// Put sets the value of key's session. A nil value removes it.
	Put(key []byte, session Window, value []byte) error
	Remove(key []byte, session Window) error
	// FetchSession returns the value of exactly that session.
	FetchSession(key []byte, session Window) ([]byte, bool, error)
	// FindSessions iterates over key's sessions that end at or after earliestSessionEnd and start at
	// or before latestSessionStart: the sessions that overlap [earliestSessionEnd, latestSessionStart]
	// when that range is a new record's session extended by the inactivity gap (Kafka Streams'
	// SessionStore.findSessions).
	FindSessions(key []byte, earliestSessionEnd, latestSessionStart int64) (WindowIterator, error)
	FindSessionsBackward(key []byte, earliestSessionEnd, latestSessionStart int64) (WindowIterator, error)
	// FindSessionsKeyRange is FindSessions over the keys in [keyFrom, keyTo).
	FindSessionsKeyRange(keyFrom, keyTo []byte, earliestSessionEnd, latestSessionStart int64) (WindowIterator, error)
	FindSessionsKeyRangeBackward(keyFrom, keyTo []byte, earliestSessionEnd, latestSessionStart int64) (WindowIterator, error)
	// Fetch iterates over all of key's sessions.
	Fetch(key []byte) (WindowIterator, error)
	All() (WindowIterator, error)
	// StreamTime is the highest session end put, math.MinInt64 before the first.
	StreamTime() int64
}

// SessionStore opens (restoring it if logged) the session store name; retention is how long a
// session is kept after stream time passes its end.
func (t *Task) SessionStore(ctx context.Context, name string, retention time.Duration, opts ...StoreOpt) (SessionStore, error) {
	if retention <= 0 {
		return nil, fmt.Errorf("state: session store %q: retention must be positive", name)
	}
	cfg := storeConfig{}
	for _, o := range opts {
		o.applyStore(&cfg)
	}
	s := &sessionStore{}
	_, err := t.openStore(ctx, name, kindSession, cfg, func(b *storeBase) storeImpl {
		s.storeBase = b
		s.segmented = newSegmented(b, retention, cfg)
		return s
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// sessionStore: physical key = data | segment(end) | escaped key | end | start.
type sessionStore struct {
	*storeBase
	segmented
}

func (s *sessionStore) phys(buf, key []byte, w Window) []byte {
	buf = s.appendSegment(buf[:0], w.End)
	buf = appendEscaped(buf, key)
	buf = appendTime(buf, w.End)
	return appendTime(buf, w.Start)
}

func (s *sessionStore) StreamTime() int64 { return s.streamTime }

func (s *sessionStore) Put(key []byte, w Window, value []byte) error {
	if err := s.check(); err != nil {
		return err
	}
	if w.Start > w.End {
		return fmt.Errorf("state: session store %q: session start %d after end %d", s.name, w.Start, w.End)
	}
	return s.put(s.top, key, w, value)
}

func (s *sessionStore) put(l layer, key []byte, w Window, value []byte) error {
	if value != nil {
		if err := s.observe(l, w.End); err != nil {
			return err
		}
	}
	if !s.live(w.End) {
		s.t.db.logger.Debug("state: dropping write to expired session", "store", s.name, "session_end", w.End, "stream_time", s.streamTime)
		return nil
	}
	s.kbuf = s.phys(s.kbuf, key, w)
	if value == nil {
		return l.del(s.kbuf)
	}
	return l.set(s.kbuf, value)
}

func (s *sessionStore) Remove(key []byte, w Window) error {
	return s.Put(key, w, nil)
}

func (s *sessionStore) FetchSession(key []byte, w Window) ([]byte, bool, error) {
	if err := s.check(); err != nil {
		return nil, false, err
	}
	if s.streamTime == math.MinInt64 || !s.live(w.End) {
		return nil, false, nil
	}
	return s.top.get(s.phys(s.kbuf, key, w))
}

func (s *sessionStore) FindSessions(key []byte, earliestEnd, latestStart int64) (WindowIterator, error) {
	return s.find(key, earliestEnd, latestStart, false)
}

func (s *sessionStore) FindSessionsBackward(key []byte, earliestEnd, latestStart int64) (WindowIterator, error) {
	return s.find(key, earliestEnd, latestStart, true)
}

func (s *sessionStore) Fetch(key []byte) (WindowIterator, error) {
	return s.find(key, math.MinInt64, math.MaxInt64, false)
}

func (s *sessionStore) find(key []byte, earliestEnd, latestStart int64, reverse bool) (WindowIterator, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	segLo, segHi, ok := s.segmentSpan(earliestEnd, math.MaxInt64)
	if !ok {
		return s.newIter(emptyIter{}, earliestEnd, latestStart), nil
	}
	earliestEnd = max(earliestEnd, s.minLive())
	raw, err := s.iterSegments(segLo, segHi, reverse, func(seg []byte) ([]byte, []byte) {
		k := appendEscaped(seg, key)
		return appendTime(bytes.Clone(k), earliestEnd), prefixEnd(k)
	})
	if err != nil {
		return nil, err
	}
	return s.newIter(raw, earliestEnd, latestStart), nil
}

func (s *sessionStore) FindSessionsKeyRange(keyFrom, keyTo []byte, earliestEnd, latestStart int64) (WindowIterator, error) {
	return s.findRange(keyFrom, keyTo, earliestEnd, latestStart, false)
}

func (s *sessionStore) FindSessionsKeyRangeBackward(keyFrom, keyTo []byte, earliestEnd, latestStart int64) (WindowIterator, error) {
	return s.findRange(keyFrom, keyTo, earliestEnd, latestStart, true)
}

func (s *sessionStore) All() (WindowIterator, error) {
	return s.findRange(nil, nil, math.MinInt64, math.MaxInt64, false)
}

func (s *sessionStore) findRange(keyFrom, keyTo []byte, earliestEnd, latestStart int64, reverse bool) (WindowIterator, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	segLo, segHi, ok := s.segmentSpan(earliestEnd, math.MaxInt64)
	if !ok || (keyFrom != nil && keyTo != nil && bytes.Compare(keyFrom, keyTo) >= 0) {
		return s.newIter(emptyIter{}, earliestEnd, latestStart), nil
	}
	raw, err := s.iterSegments(segLo, segHi, reverse, func(seg []byte) ([]byte, []byte) {
		return keyBounds(seg, keyFrom, keyTo)
	})
	if err != nil {
		return nil, err
	}
	return s.newIter(raw, max(earliestEnd, s.minLive()), latestStart), nil
}

// newIter decodes session entries, keeping those ending at or after earliestEnd and starting at or
// before latestStart.
func (s *sessionStore) newIter(raw rawIter, earliestEnd, latestStart int64) *iterator {
	return s.storeBase.newIterator(raw, func(it *iterator, phys, value []byte) (bool, error) {
		key, rest, err := readEscaped(it.kbuf, phys[len(s.data)+8:])
		if err != nil || len(rest) != 16 {
			return false, fmt.Errorf("state: session store %q: %w", s.name, errMalformedKey)
		}
		it.kbuf = key
		end, start := readTime(rest), readTime(rest[8:])
		if end < earliestEnd || start > latestStart {
			return false, nil
		}
		it.key, it.value, it.win = key, value, Window{Start: start, End: end}
		return true, nil
	})
}

// storeImpl.

// decodePhys splits a physical key, appending the user key to dst.
func (s *sessionStore) decodePhys(dst, phys []byte) ([]byte, Window, error) {
	if len(phys) < len(s.data)+8 {
		return nil, Window{}, errMalformedKey
	}
	key, rest, err := readEscaped(dst, phys[len(s.data)+8:])
	if err != nil || len(rest) != 16 {
		return nil, Window{}, fmt.Errorf("state: session store %q: %w", s.name, errMalformedKey)
	}
	return key, Window{Start: readTime(rest[8:]), End: readTime(rest)}, nil
}

// changelogKey: key | be64 end | be64 start, Kafka Streams' SessionKeySchema.
func (s *sessionStore) changelogKey(phys []byte) ([]byte, error) {
	key, w, err := s.decodePhys(nil, phys)
	if err != nil {
		return nil, err
	}
	out := binary.BigEndian.AppendUint64(key, uint64(w.End))
	return binary.BigEndian.AppendUint64(out, uint64(w.Start)), nil
}

func (s *sessionStore) recordTimestamp(phys, _ []byte) int64 {
	if len(phys) < len(s.data)+8+16 {
		return 0
	}
	return readTime(phys[len(phys)-16:])
}

func (s *sessionStore) decodeKey(phys []byte, c *Change) error {
	key, w, err := s.decodePhys(c.Key[:0], phys)
	c.Key, c.Window = key, w
	return err
}

// expired reads the session end from the end of the key: end(8) start(8).
func (s *sessionStore) expired(phys []byte) bool {
	return len(phys) >= len(s.data)+8+16 && !s.live(readTime(phys[len(phys)-16:]))
}

func (s *sessionStore) decodeValue(v []byte) ([]byte, int64) { return v, 0 }

var errShortSessionKey = errors.New("state: session changelog key shorter than 16 bytes")

func (s *sessionStore) restore(l layer, rec ChangelogRecord) error {
	if len(rec.Key) < 16 {
		return errShortSessionKey
	}
	n := len(rec.Key) - 16
	w := Window{End: int64(binary.BigEndian.Uint64(rec.Key[n:])), Start: int64(binary.BigEndian.Uint64(rec.Key[n+8:]))}
	return s.put(l, rec.Key[:n], w, rec.Value)
}
