package state

import (
	"bytes"

	"github.com/google/btree"
)

// cacheEntryOverhead is what an entry costs beyond its key and value, for the cache's byte budget.
const cacheEntryOverhead = 64

type cacheEntry struct {
	key, value []byte
	deleted    bool // a dirty delete; clean entries are never deleted ones
	dirty      bool

	lruPrev, lruNext     *cacheEntry // every entry, least recently used first
	dirtyPrev, dirtyNext *cacheEntry // dirty entries, least recently written first
}

func (e *cacheEntry) size() int64 {
	return int64(len(e.key) + len(e.value) + cacheEntryOverhead)
}

// cacheLayer is the record cache: it holds recent reads and coalesces writes per key, and hands
// dirty entries to the layers below and to the flush listener on eviction and on flush, as Kafka
// Streams' caching stores do: evicting a dirty entry flushes all of the store's dirty entries, the
// evicted one first, then the others in the order they were last written.
//
// With maxBytes 0 it holds nothing: every write goes through at once and reaches the listener.
type cacheLayer struct {
	lower    layer
	s        *storeBase
	maxBytes int64
	listener FlushListener
	sendOld  bool

	size       int64
	tree       *btree.BTreeG[*cacheEntry]
	lru        entryList
	dirty      entryList
	flushing   bool
	changeBuf  Change
	scratchKey []byte
}

type entryList struct{ head, tail *cacheEntry }

func (l *entryList) pushLRU(e *cacheEntry) {
	e.lruPrev, e.lruNext = l.tail, nil
	if l.tail != nil {
		l.tail.lruNext = e
	} else {
		l.head = e
	}
	l.tail = e
}

func (l *entryList) removeLRU(e *cacheEntry) {
	if e.lruPrev != nil {
		e.lruPrev.lruNext = e.lruNext
	} else {
		l.head = e.lruNext
	}
	if e.lruNext != nil {
		e.lruNext.lruPrev = e.lruPrev
	} else {
		l.tail = e.lruPrev
	}
	e.lruPrev, e.lruNext = nil, nil
}

func (l *entryList) pushDirty(e *cacheEntry) {
	e.dirtyPrev, e.dirtyNext = l.tail, nil
	if l.tail != nil {
		l.tail.dirtyNext = e
	} else {
		l.head = e
	}
	l.tail = e
}

func (l *entryList) removeDirty(e *cacheEntry) {
	if e.dirtyPrev != nil {
		e.dirtyPrev.dirtyNext = e.dirtyNext
	} else {
		l.head = e.dirtyNext
	}
	if e.dirtyNext != nil {
		e.dirtyNext.dirtyPrev = e.dirtyPrev
	} else {
		l.tail = e.dirtyPrev
	}
	e.dirtyPrev, e.dirtyNext = nil, nil
}

func entryLess(a, b *cacheEntry) bool { return bytes.Compare(a.key, b.key) < 0 }

func newCacheLayer(lower layer, s *storeBase, maxBytes int64, listener FlushListener, sendOld bool) *cacheLayer {
	c := &cacheLayer{lower: lower, s: s, maxBytes: maxBytes, listener: listener, sendOld: sendOld}
	if maxBytes > 0 {
		c.tree = btree.NewG(16, entryLess)
	}
	return c
}

func (c *cacheLayer) lookup(k []byte) *cacheEntry {
	e, _ := c.tree.Get(&cacheEntry{key: k})
	return e
}

func (c *cacheLayer) get(k []byte) ([]byte, bool, error) {
	if c.tree == nil {
		return c.lower.get(k)
	}
	if e := c.lookup(k); e != nil {
		c.lru.removeLRU(e)
		c.lru.pushLRU(e)
		if e.deleted {
			return nil, false, nil
		}
		return cloneNonNil(e.value), true, nil
	}
	v, ok, err := c.lower.get(k)
	if err != nil || !ok {
		return v, ok, err
	}
	e := &cacheEntry{key: bytes.Clone(k), value: cloneNonNil(v)}
	c.tree.ReplaceOrInsert(e)
	c.lru.pushLRU(e)
	c.size += e.size()
	return v, true, c.evict()
}

func (c *cacheLayer) set(k, v []byte) error { return c.write(k, v, false) }
func (c *cacheLayer) del(k []byte) error    { return c.write(k, nil, true) }

func (c *cacheLayer) write(k, v []byte, deleted bool) error {
	if c.tree == nil {
		e := cacheEntry{key: k, value: v, deleted: deleted}
		return c.flushEntry(&e)
	}
	e := c.lookup(k)
	if e == nil {
		e = &cacheEntry{key: bytes.Clone(k)}
		c.tree.ReplaceOrInsert(e)
	} else {
		c.size -= e.size()
		c.lru.removeLRU(e)
		if e.dirty {
			c.dirty.removeDirty(e)
		}
	}
	e.value, e.deleted, e.dirty = nil, deleted, true
	if !deleted {
		e.value = cloneNonNil(v)
	}
	c.size += e.size()
	c.lru.pushLRU(e)
	c.dirty.pushDirty(e)
	return c.evict()
}

// evict drops least recently used entries until the cache fits its budget.
func (c *cacheLayer) evict() error {
	for c.size > c.maxBytes && c.lru.head != nil && !c.flushing {
		e := c.lru.head
		if e.dirty {
			if err := c.flush(e); err != nil {
				return err
			}
		}
		c.remove(e)
	}
	return nil
}

func (c *cacheLayer) remove(e *cacheEntry) {
	c.tree.Delete(e)
	c.lru.removeLRU(e)
	if e.dirty {
		c.dirty.removeDirty(e)
		e.dirty = false
	}
	c.size -= e.size()
}

// flush writes every dirty entry down, first (if not nil) then the rest in write order.
func (c *cacheLayer) flush(first *cacheEntry) error {
	if c.tree == nil {
		return nil
	}
	c.flushing = true
	defer func() { c.flushing = false }()
	if first != nil {
		if err := c.flushDirty(first); err != nil {
			return err
		}
	}
	for c.dirty.head != nil {
		if err := c.flushDirty(c.dirty.head); err != nil {
			return err
		}
	}
	return nil
}

func (c *cacheLayer) flushDirty(e *cacheEntry) error {
	if c.s.impl.expired(e.key) {
		// Stream time moved past the entry's window while it sat in the cache: it is dropped, as a
		// write to an expired window is.
		c.remove(e)
		return nil
	}
	if err := c.flushEntry(e); err != nil {
		return err
	}
	c.dirty.removeDirty(e)
	e.dirty = false
	if e.deleted {
		c.remove(e)
	}
	return nil
}

// flushEntry writes one change to the layer below and tells the listener. As in Kafka Streams, a
// cached delete of a key the store below does not have is neither written nor told.
func (c *cacheLayer) flushEntry(e *cacheEntry) error {
	var old []byte
	var hadOld bool
	cached := c.tree != nil
	if (c.sendOld && c.listener != nil) || (cached && e.deleted) {
		var err error
		if old, hadOld, err = c.lower.get(e.key); err != nil {
			return err
		}
		if cached && e.deleted && !hadOld {
			return nil
		}
		if !c.sendOld {
			hadOld = false
		}
	}
	var err error
	if e.deleted {
		err = c.lower.del(e.key)
	} else {
		err = c.lower.set(e.key, e.value)
	}
	if err != nil || c.listener == nil {
		return err
	}
	ch := &c.changeBuf
	*ch = Change{}
	if err := c.s.impl.decodeKey(e.key, ch); err != nil {
		return err
	}
	if !e.deleted {
		ch.Value, ch.Timestamp = c.s.impl.decodeValue(e.value)
	}
	if hadOld {
		ch.OldValue, ch.OldTimestamp = c.s.impl.decodeValue(old)
	}
	return c.listener(*ch)
}

// reset forgets everything, dirty or not (the task aborted).
func (c *cacheLayer) reset() {
	if c.tree == nil {
		return
	}
	c.tree.Clear(false)
	c.lru, c.dirty, c.size = entryList{}, entryList{}, 0
}

// deleteRange drops cached entries in the range without flushing them: they expired.
func (c *cacheLayer) deleteRange(lo, hi []byte) error {
	if c.tree != nil {
		var doomed []*cacheEntry
		c.tree.AscendRange(&cacheEntry{key: lo}, &cacheEntry{key: hi}, func(e *cacheEntry) bool {
			doomed = append(doomed, e)
			return true
		})
		for _, e := range doomed {
			c.remove(e)
		}
	}
	return c.lower.deleteRange(lo, hi)
}

func (c *cacheLayer) iter(lo, hi []byte, reverse bool) (rawIter, error) {
	lower, err := c.lower.iter(lo, hi, reverse)
	if err != nil || c.tree == nil || c.tree.Len() == 0 {
		return lower, err
	}
	var snap []cacheEntry
	visit := func(e *cacheEntry) bool {
		snap = append(snap, cacheEntry{key: e.key, value: e.value, deleted: e.deleted})
		return true
	}
	if hi == nil {
		c.tree.AscendGreaterOrEqual(&cacheEntry{key: lo}, visit)
	} else {
		c.tree.AscendRange(&cacheEntry{key: lo}, &cacheEntry{key: hi}, visit)
	}
	if len(snap) == 0 {
		return lower, nil
	}
	return &cacheMergeIter{cache: snap, lower: lower, reverse: reverse, ci: -1}, nil
}

// count adjusts the lower layer's count by the cache's dirty entries.
func (c *cacheLayer) countAdjust() (int64, error) {
	if c.tree == nil {
		return 0, nil
	}
	var n int64
	for e := c.dirty.head; e != nil; e = e.dirtyNext {
		_, ok, err := c.lower.get(e.key)
		if err != nil {
			return 0, err
		}
		switch {
		case e.deleted && ok:
			n--
		case !e.deleted && !ok:
			n++
		}
	}
	return n, nil
}

// cacheMergeIter merges a snapshot of cache entries over the iterator below: the cache wins on
// equal keys and its deletes hide keys below.
type cacheMergeIter struct {
	cache   []cacheEntry
	ci      int // index of the current cache entry; -1 before the first
	lower   rawIter
	lowerOK bool
	reverse bool
	started bool
	// fromLower: the current entry is the lower iterator's, which must advance on the next call.
	fromLower bool
	k, v      []byte
}

func (m *cacheMergeIter) cacheAt(i int) *cacheEntry {
	if m.reverse {
		i = len(m.cache) - 1 - i
	}
	if i < 0 || i >= len(m.cache) {
		return nil
	}
	return &m.cache[i]
}

func (m *cacheMergeIter) next() bool {
	switch {
	case !m.started:
		m.started = true
		m.ci = 0
		m.lowerOK = m.lower.next()
	case m.fromLower:
		// Advanced only now, so that the entry returned last stayed valid until this call.
		m.lowerOK = m.lower.next()
	}
	m.fromLower = false
	for {
		ce := m.cacheAt(m.ci)
		if ce == nil && !m.lowerOK {
			return false
		}
		var cmp int
		switch {
		case ce == nil:
			cmp = 1
		case !m.lowerOK:
			cmp = -1
		default:
			cmp = bytes.Compare(ce.key, m.lower.key())
			if m.reverse {
				cmp = -cmp
			}
		}
		if cmp > 0 {
			m.k, m.v = m.lower.key(), m.lower.value()
			m.fromLower = true
			return true
		}
		m.ci++
		if cmp == 0 {
			m.lowerOK = m.lower.next()
		}
		if ce.deleted {
			continue
		}
		m.k, m.v = ce.key, ce.value
		return true
	}
}

func (m *cacheMergeIter) key() []byte   { return m.k }
func (m *cacheMergeIter) value() []byte { return m.v }
func (m *cacheMergeIter) err() error    { return m.lower.err() }
func (m *cacheMergeIter) close() error  { return m.lower.close() }
