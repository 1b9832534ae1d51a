package state

import (
	"bytes"
	"hash/maphash"
	"slices"

	"github.com/google/btree"
)

// cacheEntryOverhead is what an entry costs beyond its key and value, for the cache's byte budget.
const cacheEntryOverhead = 64

type cacheEntry struct {
	key, value []byte
	deleted    bool // a dirty delete; clean entries are never deleted ones
	dirty      bool
	// belowKnown: what the layers below hold for a dirty entry's key is known without reading
	// them: belowFound and below. So it is for an entry that was clean (read from below, or
	// flushed) before its first write since, and for one first written with PutNew (below holds
	// nothing); a flush then need not read the old value below.
	belowKnown, belowFound bool
	below                  []byte
	gone                   bool // removed from the cache

	hash     uint64
	hashNext *cacheEntry // the next entry whose key has the same hash

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
// Entries are found through a hash map keyed by a hash of the key (a map of uint64 costs less than
// one of strings, which would copy every key once more). Only range reads need them in key order,
// so the ordered index (a B-tree) is built at the first range read and kept up to date only while
// the store is read by range: a store that goes a whole commit without one drops it. Stores read
// by key alone (counts, tables, windowed aggregations) never pay for ordering, which matters most
// when every write is a new key (a windowed count over many keys, where nothing coalesces).
//
// With maxBytes 0 it holds nothing: every write goes through at once and reaches the listener.
type cacheLayer struct {
	lower    layer
	s        *storeBase
	maxBytes int64
	listener FlushListener
	sendOld  bool

	size    int64
	entries map[uint64]*cacheEntry // by key hash, colliding entries chained; nil when there is no cache
	seed    maphash.Seed
	index   *btree.BTreeG[*cacheEntry]
	ranged  bool // a range read since the last flush
	lru     entryList
	dirty   entryList
	// flushing: a flush is under way; evict must not start another one from inside it.
	flushing   bool
	flushBuf   []pendingFlush
	flushOrder []*pendingFlush
	changeBuf  Change
	// lastRead is, without a cache, the last key read through get and what it read, for the write
	// of the same key that usually follows (an aggregation reads its old value, then writes the
	// new one): writeThrough needs the old value for the listener and would read it from the
	// layers below again (a Pebble batch and memtable lookup). Any write forgets it.
	lastRead struct {
		ok, found  bool
		key, value []byte
	}
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
		c.entries = map[uint64]*cacheEntry{}
		c.seed = maphash.MakeSeed()
	}
	return c
}

func (c *cacheLayer) get(k []byte) ([]byte, bool, error) {
	if c.entries == nil {
		v, ok, err := c.lower.get(k)
		if err == nil && c.sendOld && c.listener != nil {
			r := &c.lastRead
			r.ok, r.found = true, ok
			r.key = append(r.key[:0], k...)
			r.value = append(r.value[:0], v...)
			if ok && r.value == nil {
				r.value = []byte{} // found empty, as lower.get gives it
			}
		}
		return v, ok, err
	}
	e, h := c.lookup(k)
	if e != nil {
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
	e = c.insert(k, h)
	e.value = cloneNonNil(v)
	c.lru.pushLRU(e)
	c.size += e.size()
	return v, true, c.evict()
}

// lookup returns k's entry, or nil and the hash to insert it with.
func (c *cacheLayer) lookup(k []byte) (*cacheEntry, uint64) {
	h := maphash.Bytes(c.seed, k)
	for e := c.entries[h]; e != nil; e = e.hashNext {
		if bytes.Equal(e.key, k) {
			return e, h
		}
	}
	return nil, h
}

// insert adds an entry for k, whose hash is h, neither in the LRU list nor counted in size yet.
func (c *cacheLayer) insert(k []byte, h uint64) *cacheEntry {
	e := &cacheEntry{key: bytes.Clone(k), hash: h, hashNext: c.entries[h]}
	c.entries[h] = e
	if c.index != nil {
		c.index.ReplaceOrInsert(e)
	}
	return e
}

func (c *cacheLayer) set(k, v []byte) error { return c.write(k, v, false, false) }
func (c *cacheLayer) del(k []byte) error    { return c.write(k, nil, true, false) }

// write sets or deletes k. fresh says that the caller knows the layers below do not hold k
// (WindowStore.PutNew), so that neither this write nor its flush reads k's old value there;
// neither does the flush of a write to an entry that was clean (see cacheEntry.belowKnown).
func (c *cacheLayer) write(k, v []byte, deleted, fresh bool) error {
	if c.entries == nil {
		return c.writeThrough(k, v, deleted, fresh)
	}
	e, h := c.lookup(k)
	switch {
	case e == nil:
		e = c.insert(k, h)
		// Below holds nothing for a key first written with PutNew; otherwise it is not known.
		e.belowKnown, e.belowFound, e.below = fresh, false, nil
	case e.dirty:
		// Below has not changed since the entry's first write: what was known then still is.
		c.size -= e.size()
		c.lru.removeLRU(e)
		c.dirty.removeDirty(e)
	default:
		// A clean entry holds what below holds, whatever a PutNew caller says. Entries' values
		// are never modified in place, so it may keep the slice (outside the byte budget: only
		// dirty entries keep one, until the next flush).
		c.size -= e.size()
		c.lru.removeLRU(e)
		e.belowKnown, e.belowFound, e.below = true, true, e.value
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
			if e.gone {
				continue // the flush dropped it (a delete, or an expired window)
			}
		}
		c.remove(e)
	}
	return nil
}

func (c *cacheLayer) remove(e *cacheEntry) {
	e.gone = true
	if head := c.entries[e.hash]; head == e {
		if e.hashNext == nil {
			delete(c.entries, e.hash)
		} else {
			c.entries[e.hash] = e.hashNext
		}
	} else {
		for p := head; p != nil; p = p.hashNext {
			if p.hashNext == e {
				p.hashNext = e.hashNext
				break
			}
		}
	}
	e.hashNext = nil
	if c.index != nil {
		c.index.Delete(e)
	}
	c.lru.removeLRU(e)
	if e.dirty {
		c.dirty.removeDirty(e)
		e.dirty, e.belowKnown, e.below = false, false, nil
	}
	c.size -= e.size()
}

// flush writes every dirty entry down and tells the listener, first (if not nil) then the rest in
// write order. A flush of the whole cache (first nil: a task flush or commit) drops the ordered
// index if no range read needed it since the previous one.
//
// The listener hears the entries in that order, but the layers below get them in key order:
// Pebble inserts keys in order far faster (its indexed batch appends, its memtable reuses the
// previous insert's position), and one flush holds one change per key, so the store and its
// changelog end up the same whatever the order. Old values are read before anything is written.
func (c *cacheLayer) flush(first *cacheEntry) error {
	if c.entries == nil {
		return nil
	}
	c.flushing = true
	defer func() { c.flushing = false }()
	batch := c.flushBuf[:0]
	add := func(e *cacheEntry) {
		batch = append(batch, pendingFlush{e: e, expired: c.s.impl.expired(e.key)})
	}
	if first != nil {
		add(first)
	}
	for e := c.dirty.head; e != nil; e = e.dirtyNext {
		if e != first {
			add(e)
		}
	}
	defer func() { c.flushBuf = batch[:0] }()
	for i := range batch {
		if err := c.prepare(&batch[i]); err != nil {
			return err
		}
	}
	order := c.flushOrder[:0]
	for i := range batch {
		if !batch[i].skip && !batch[i].expired {
			order = append(order, &batch[i])
		}
	}
	slices.SortFunc(order, func(a, b *pendingFlush) int { return bytes.Compare(a.e.key, b.e.key) })
	for _, p := range order {
		var err error
		if p.e.deleted {
			err = c.lower.del(p.e.key)
		} else {
			err = c.lower.set(p.e.key, p.e.value)
		}
		if err != nil {
			return err
		}
	}
	clear(order)
	c.flushOrder = order[:0]
	for i := range batch {
		p := &batch[i]
		if !p.skip {
			if err := c.tell(p.e, p.old, p.hadOld); err != nil {
				return err
			}
		}
		e := p.e
		c.dirty.removeDirty(e)
		e.dirty, e.belowKnown, e.below = false, false, nil
		if e.deleted || p.expired {
			c.remove(e)
		}
		*p = pendingFlush{}
	}
	if first == nil {
		if !c.ranged {
			c.index = nil
		}
		c.ranged = false
	}
	return nil
}

// pendingFlush is a dirty entry being flushed.
type pendingFlush struct {
	e      *cacheEntry
	old    []byte
	hadOld bool
	// expired: the entry's window or session expired while it sat in the cache. It is still
	// handed to the listener, but not written below: the store drops writes to expired windows,
	// and retention may already have deleted the entry's segment. Kafka Streams' caching window
	// and session stores do the same (CachingWindowStore.putAndMaybeForward forwards what the
	// segmented store underneath then drops).
	expired bool
	// skip: a delete of a key the store below does not have, neither written nor told, as in
	// Kafka Streams.
	skip bool
}

// prepare reads the old value of a flushed entry if the listener or a delete needs it, unless the
// entry knows it. An expired window or session has none: a read of it finds nothing.
func (c *cacheLayer) prepare(p *pendingFlush) error {
	switch {
	case p.expired || !(c.sendOld && c.listener != nil) && !p.e.deleted:
	case p.e.belowKnown:
		p.old, p.hadOld = p.e.below, p.e.belowFound
	default:
		var err error
		if p.old, p.hadOld, err = c.lower.get(p.e.key); err != nil {
			return err
		}
	}
	p.skip = p.e.deleted && !p.hadOld
	if !c.sendOld {
		p.old, p.hadOld = nil, false
	}
	return nil
}

// writeThrough is a write without a cache: straight down, then to the listener. A fresh key
// (see write) has no old value to read.
func (c *cacheLayer) writeThrough(k, v []byte, deleted, fresh bool) error {
	var old []byte
	var hadOld bool
	r := &c.lastRead
	switch {
	case !c.sendOld || c.listener == nil || fresh:
	case r.ok && bytes.Equal(r.key, k):
		// The value read just before: nothing wrote k since (every write clears lastRead). The
		// listener may keep old (and read this store again), so the buffer is handed over.
		old, hadOld = r.value, r.found
		r.value = nil
	default:
		var err error
		if old, hadOld, err = c.lower.get(k); err != nil {
			return err
		}
	}
	r.ok = false
	var err error
	if deleted {
		err = c.lower.del(k)
	} else {
		err = c.lower.set(k, v)
	}
	if err != nil {
		return err
	}
	e := cacheEntry{key: k, value: v, deleted: deleted}
	return c.tell(&e, old, hadOld)
}

// tell hands one change to the listener, if there is one.
func (c *cacheLayer) tell(e *cacheEntry, old []byte, hadOld bool) error {
	if c.listener == nil {
		return nil
	}
	ch := &c.changeBuf
	*ch = Change{Key: ch.Key[:0]}
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
	c.lastRead.ok = false
	if c.entries == nil {
		return
	}
	clear(c.entries)
	if c.index != nil {
		c.index.Clear(false)
	}
	c.lru, c.dirty, c.size = entryList{}, entryList{}, 0
}

// deleteRange is retention dropping expired windows or sessions from the store. The cache keeps
// its entries there, as Kafka Streams' record cache does: dirty ones are still flushed (to the
// listener alone, see pendingFlush.expired), and clean ones age out like any other. Reads never
// see them: window and session stores check retention before they read.
func (c *cacheLayer) deleteRange(lo, hi []byte) error {
	c.lastRead.ok = false
	return c.lower.deleteRange(lo, hi)
}

func (c *cacheLayer) iter(lo, hi []byte, reverse bool) (rawIter, error) {
	lower, err := c.lower.iter(lo, hi, reverse)
	if err != nil || c.entries == nil {
		return lower, err
	}
	c.ranged = true
	if c.index == nil {
		c.index = btree.NewG(16, entryLess)
		for e := c.lru.head; e != nil; e = e.lruNext {
			c.index.ReplaceOrInsert(e)
		}
	}
	if c.index.Len() == 0 {
		return lower, nil
	}
	var snap []cachedKV
	visit := func(e *cacheEntry) bool {
		snap = append(snap, cachedKV{key: e.key, value: e.value, deleted: e.deleted})
		return true
	}
	if hi == nil {
		c.index.AscendGreaterOrEqual(&cacheEntry{key: lo}, visit)
	} else {
		c.index.AscendRange(&cacheEntry{key: lo}, &cacheEntry{key: hi}, visit)
	}
	if len(snap) == 0 {
		return lower, nil
	}
	return &cacheMergeIter{cache: snap, lower: lower, reverse: reverse, ci: -1}, nil
}

// count adjusts the lower layer's count by the cache's dirty entries.
func (c *cacheLayer) countAdjust() (int64, error) {
	if c.entries == nil {
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

// cachedKV is a cache entry as a range read saw it: entries' keys and values are never modified
// in place, so the snapshot stays valid while the cache changes.
type cachedKV struct {
	key, value []byte
	deleted    bool
}

// cacheMergeIter merges a snapshot of cache entries over the iterator below: the cache wins on
// equal keys and its deletes hide keys below.
type cacheMergeIter struct {
	cache   []cachedKV
	ci      int // index of the current cache entry; -1 before the first
	lower   rawIter
	lowerOK bool
	reverse bool
	started bool
	// fromLower: the current entry is the lower iterator's, which must advance on the next call.
	fromLower bool
	k, v      []byte
}

func (m *cacheMergeIter) cacheAt(i int) *cachedKV {
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
