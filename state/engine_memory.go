package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"

	"github.com/google/btree"
)

// memItem is one key of a memTree: key is what follows the tree's prefix.
type memItem struct {
	key, value []byte
}

func memLess(a, b memItem) bool { return bytes.Compare(a.key, b.key) < 0 }

// memoryEngine keeps everything in B-trees, one per store: each key is split into its store
// prefix (0x74 app task store, see doc.go) and the rest, and a store's tree orders only the rest.
// Every key of a store shares a prefix of 40–60 bytes (application, task and store names), which
// one tree for all keys compared again at every step of every lookup and insert; with a tree per
// store a key is compared on its own bytes, and its prefix is hashed once, to find the tree (the
// trees of the last few accesses are checked first: a record's processing goes to a few stores). A
// key that is no store's (the format key) is a tree of its own, with an empty rest.
//
// Store prefixes are prefix-free (names are length-prefixed), so keys order by prefix first:
// ranges over several trees (dropping a task, say) visit the trees in prefix order. A key that is
// a tree of its own cannot extend a store prefix (it would then have one), so it orders before or
// after every key of another tree as its prefix does.
//
// Transactions write to the trees directly and keep an undo log, so reads need no merging and
// abort replays the log backwards.
//
// Iterators see the trees as they were when they were opened, as Pebble's do, but the snapshot is
// taken lazily, per tree: an iterator walks the live tree through a memView until the first write
// to that tree while it is open, and that write first freezes the view with one copy-on-write Clone
// shared by every open iterator of the tree. Cloning on every iter instead (as this engine first
// did) made every write after a lookup copy its B-tree path (btree's mutableFor), and the test
// driver, which commits after every batch, does a lookup and a write for most records of a join or
// an aggregation: see BenchmarkMemoryEngineLookupWrite.
type memoryEngine struct {
	// mu guards the trees against concurrent tasks of the same DB; each task's goroutine owns its
	// own keys, but the maps and the trees' nodes are shared.
	mu    sync.Mutex
	trees map[string]*memTree
	// order holds the trees by prefix, for ranges.
	order *btree.BTreeG[*memTree]
	// recent are the trees of the last accesses, the latest first: a record's processing goes
	// back and forth between a few stores (a window store and the suppression after it, say).
	recent [4]*memTree
}

// memTree is the keys of one store prefix.
type memTree struct {
	prefix []byte
	tree   *btree.BTreeG[memItem]
	// live is the view open iterators share while they still read tree itself; nil when none is
	// open or the last one was frozen.
	live *memView
}

func memTreeLess(a, b *memTree) bool { return bytes.Compare(a.prefix, b.prefix) < 0 }

// memView is what an iterator reads: the live tree until a write freezes it into a clone.
type memView struct {
	tree *btree.BTreeG[memItem]
	open int // iterators on this view not yet closed; only meaningful while it is the tree's live view
}

// freezeLocked gives the open iterators of t their snapshot before t changes.
// REQUIRES: e.mu is held.
func (t *memTree) freezeLocked() {
	if t.live == nil {
		return
	}
	t.live.tree = t.tree.Clone()
	t.live = nil
}

// bounds returns the part of [lo, hi) (hi nil = unbounded) in t as bounds on the keys' rests
// (sHi nil = unbounded), or ok false when no key of t is in it.
func (t *memTree) bounds(lo, hi []byte) (sLo, sHi []byte, ok bool) {
	p := t.prefix
	switch {
	case bytes.HasPrefix(lo, p):
		sLo = lo[len(p):]
	case bytes.Compare(lo, p) > 0:
		return nil, nil, false // past every key of t
	}
	switch {
	case hi == nil:
	case bytes.HasPrefix(hi, p):
		if len(hi) == len(p) {
			return nil, nil, false // hi is t's smallest possible key
		}
		sHi = hi[len(p):]
	case bytes.Compare(hi, p) < 0:
		return nil, nil, false
	}
	return sLo, sHi, true
}

func newMemoryEngine() *memoryEngine {
	return &memoryEngine{trees: map[string]*memTree{}, order: btree.NewG(4, memTreeLess)}
}

// splitKey splits key into its store prefix and the rest, or, for a key that is no store's, the
// whole key and nothing.
func splitKey(key []byte) (prefix, rest []byte) {
	if len(key) == 0 || key[0] != tagTask {
		return key, nil
	}
	i := 1
	for range 3 { // app, task, store
		n, w := binary.Uvarint(key[i:])
		if w <= 0 || uint64(len(key)-i-w) < n {
			return key, nil
		}
		i += w + int(n)
	}
	return key[:i], key[i:]
}

// treeLocked returns the tree of prefix, adding it if create is set, or nil.
// REQUIRES: e.mu is held.
func (e *memoryEngine) treeLocked(prefix []byte, create bool) *memTree {
	for i, t := range e.recent {
		if t != nil && bytes.Equal(t.prefix, prefix) {
			copy(e.recent[1:i+1], e.recent[:i])
			e.recent[0] = t
			return t
		}
	}
	t := e.trees[string(prefix)]
	if t == nil {
		if !create {
			return nil
		}
		t = &memTree{prefix: bytes.Clone(prefix), tree: btree.NewG(16, memLess)}
		e.trees[string(t.prefix)] = t
		e.order.ReplaceOrInsert(t)
	}
	copy(e.recent[1:], e.recent[:len(e.recent)-1])
	e.recent[0] = t
	return t
}

// rangeLocked calls fn with each tree holding keys in [lo, hi) (hi nil = unbounded), in prefix
// order, and the bounds of the range in it, until fn returns false.
// REQUIRES: e.mu is held.
func (e *memoryEngine) rangeLocked(lo, hi []byte, fn func(t *memTree, sLo, sHi []byte) bool) {
	// The tree lo falls in, if any, has a prefix of lo: it sorts at or before lo.
	var first *memTree
	e.order.DescendLessOrEqual(&memTree{prefix: lo}, func(t *memTree) bool {
		if bytes.HasPrefix(lo, t.prefix) {
			first = t
		}
		return false
	})
	if first != nil {
		if sLo, sHi, ok := first.bounds(lo, hi); ok && !fn(first, sLo, sHi) {
			return
		}
	}
	e.order.AscendGreaterOrEqual(&memTree{prefix: lo}, func(t *memTree) bool {
		if t == first {
			return true
		}
		if hi != nil && bytes.Compare(t.prefix, hi) >= 0 {
			return false
		}
		if sLo, sHi, ok := t.bounds(lo, hi); ok {
			return fn(t, sLo, sHi)
		}
		return true
	})
}

func (e *memoryEngine) get(key []byte) ([]byte, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, rest := splitKey(key)
	t := e.treeLocked(p, false)
	if t == nil {
		return nil, false, nil
	}
	it, ok := t.tree.Get(memItem{key: rest})
	if !ok {
		return nil, false, nil
	}
	return bytes.Clone(it.value), true, nil
}

func (e *memoryEngine) newTxn() txn { return &memoryTxn{e: e} }

func (e *memoryEngine) deleteRange(lo, hi []byte) error {
	t := &memoryTxn{e: e}
	if err := t.deleteRange(lo, hi); err != nil {
		return err
	}
	return t.commit()
}

func (e *memoryEngine) close() error { return nil }

type undo struct {
	t       *memTree
	item    memItem
	existed bool
}

type memoryTxn struct {
	e    *memoryEngine
	undo []undo
}

func (t *memoryTxn) get(key []byte) ([]byte, bool, error) { return t.e.get(key) }

func (t *memoryTxn) set(key, value []byte) error {
	t.e.mu.Lock()
	defer t.e.mu.Unlock()
	p, rest := splitKey(key)
	tr := t.e.treeLocked(p, true)
	tr.freezeLocked()
	// One allocation for both: they are dropped together.
	buf := make([]byte, len(rest)+len(value))
	copy(buf, rest)
	copy(buf[len(rest):], value)
	item := memItem{key: buf[:len(rest):len(rest)], value: buf[len(rest):]}
	prev, existed := tr.tree.ReplaceOrInsert(item)
	if !existed {
		prev = memItem{key: item.key} // keys are never modified in place: the undo entry may share it
	}
	t.undo = append(t.undo, undo{t: tr, item: prev, existed: existed})
	return nil
}

func cloneNonNil(v []byte) []byte {
	out := make([]byte, len(v))
	copy(out, v)
	return out
}

func (t *memoryTxn) del(key []byte) error {
	t.e.mu.Lock()
	defer t.e.mu.Unlock()
	p, rest := splitKey(key)
	tr := t.e.treeLocked(p, false)
	if tr == nil {
		return nil
	}
	tr.freezeLocked()
	if prev, existed := tr.tree.Delete(memItem{key: rest}); existed {
		t.undo = append(t.undo, undo{t: tr, item: prev, existed: true})
	}
	return nil
}

func (t *memoryTxn) deleteRange(lo, hi []byte) error {
	if hi == nil {
		return errors.New("state: unbounded delete range")
	}
	t.e.mu.Lock()
	defer t.e.mu.Unlock()
	t.e.rangeLocked(lo, hi, func(tr *memTree, sLo, sHi []byte) bool {
		var doomed []memItem
		visit := func(it memItem) bool {
			doomed = append(doomed, it)
			return true
		}
		if sHi == nil {
			tr.tree.AscendGreaterOrEqual(memItem{key: sLo}, visit)
		} else {
			tr.tree.AscendRange(memItem{key: sLo}, memItem{key: sHi}, visit)
		}
		if len(doomed) > 0 {
			tr.freezeLocked()
		}
		for _, it := range doomed {
			tr.tree.Delete(it)
			t.undo = append(t.undo, undo{t: tr, item: it, existed: true})
		}
		return true
	})
	return nil
}

func (t *memoryTxn) iter(lo, hi []byte, reverse bool) (rawIter, error) {
	e := t.e
	e.mu.Lock()
	defer e.mu.Unlock()
	// Most ranges are within one store: lo and hi have its prefix.
	if p, rest := splitKey(lo); len(rest) > 0 || len(p) < len(lo) {
		if hi != nil && len(hi) > len(p) && bytes.HasPrefix(hi, p) {
			tr := e.treeLocked(p, false)
			if tr == nil {
				return emptyIter{}, nil
			}
			return tr.iterLocked(e, rest, hi[len(p):], reverse), nil
		}
	}
	var its []*memoryIter
	e.rangeLocked(lo, hi, func(tr *memTree, sLo, sHi []byte) bool {
		its = append(its, tr.iterLocked(e, sLo, sHi, reverse))
		return true
	})
	switch len(its) {
	case 0:
		return emptyIter{}, nil
	case 1:
		return its[0], nil
	}
	if reverse {
		for i, j := 0, len(its)-1; i < j; i, j = i+1, j-1 {
			its[i], its[j] = its[j], its[i]
		}
	}
	return &chainIter{its: its}, nil
}

// iterLocked opens an iterator over the keys of t whose rests are in [lo, hi) (hi nil =
// unbounded).
// REQUIRES: e.mu is held.
func (t *memTree) iterLocked(e *memoryEngine, lo, hi []byte, reverse bool) *memoryIter {
	if t.live == nil {
		t.live = &memView{tree: t.tree}
	}
	t.live.open++
	return &memoryIter{e: e, t: t, view: t.live, lo: lo, hi: hi, reverse: reverse}
}

func (t *memoryTxn) count(lo, hi []byte) (int64, error) {
	it, _ := t.iter(lo, hi, false)
	defer it.close()
	var n int64
	for it.next() {
		n++
	}
	return n, nil
}

func (t *memoryTxn) commit() error {
	clear(t.undo)
	t.undo = t.undo[:0]
	return nil
}

func (t *memoryTxn) abort() {
	t.e.mu.Lock()
	defer t.e.mu.Unlock()
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		u.t.freezeLocked()
		if u.existed {
			u.t.tree.ReplaceOrInsert(u.item)
		} else {
			u.t.tree.Delete(u.item)
		}
	}
	clear(t.undo)
	t.undo = t.undo[:0]
}

// memoryIter steps through a snapshot of one tree by seeking past the current key on every step:
// O(log n) per step, with no goroutine or coroutine to leak if the caller never closes it. An
// iterator that is never closed costs one Clone at the next write to its tree, as every iterator
// did before views were lazy.
type memoryIter struct {
	e       *memoryEngine
	t       *memTree
	view    *memView // nil once exhausted or closed
	lo, hi  []byte   // bounds on the keys' rests; hi nil = unbounded
	reverse bool
	started bool
	cur     memItem
	kbuf    []byte // the tree's prefix and cur.key
	valid   bool
}

func (i *memoryIter) next() bool {
	if i.view == nil {
		return false
	}
	// The view may be the live tree, which other tasks' goroutines write under e.mu.
	i.e.mu.Lock()
	defer i.e.mu.Unlock()
	tree := i.view.tree
	found := false
	visit := func(it memItem) bool {
		if i.started && bytes.Equal(it.key, i.cur.key) {
			return true // the current item itself: keep going
		}
		if !i.reverse && i.hi != nil && bytes.Compare(it.key, i.hi) >= 0 {
			return false
		}
		if i.reverse && bytes.Compare(it.key, i.lo) < 0 {
			return false
		}
		i.cur, found = it, true
		return false
	}
	switch {
	case !i.reverse && !i.started:
		tree.AscendGreaterOrEqual(memItem{key: i.lo}, visit)
	case !i.reverse:
		tree.AscendGreaterOrEqual(i.cur, visit)
	case !i.started && i.hi == nil:
		tree.Descend(visit)
	case !i.started:
		tree.DescendLessOrEqual(memItem{key: i.hi}, func(it memItem) bool {
			if bytes.Equal(it.key, i.hi) {
				return true // hi is exclusive
			}
			return visit(it)
		})
	default:
		tree.DescendLessOrEqual(i.cur, visit)
	}
	i.started = true
	i.valid = found
	if !found {
		i.releaseLocked()
		return false
	}
	i.kbuf = append(append(i.kbuf[:0], i.t.prefix...), i.cur.key...)
	return true
}

// releaseLocked detaches the iterator from its view; the last iterator of the live view ends it, so
// the next write need not clone.
// REQUIRES: i.e.mu is held.
func (i *memoryIter) releaseLocked() {
	if i.view == nil {
		return
	}
	if i.view == i.t.live {
		if i.view.open--; i.view.open == 0 {
			i.t.live = nil
		}
	}
	i.view = nil
}

func (i *memoryIter) key() []byte   { return i.kbuf }
func (i *memoryIter) value() []byte { return i.cur.value }
func (i *memoryIter) err() error    { return nil }
func (i *memoryIter) close() error {
	i.e.mu.Lock()
	defer i.e.mu.Unlock()
	i.releaseLocked()
	return nil
}

// chainIter walks the iterators of several trees one after the other: the trees of a range, in
// the order of the range.
type chainIter struct {
	its []*memoryIter
	i   int
}

func (c *chainIter) next() bool {
	for ; c.i < len(c.its); c.i++ {
		if c.its[c.i].next() {
			return true
		}
	}
	return false
}

func (c *chainIter) key() []byte   { return c.its[c.i].key() }
func (c *chainIter) value() []byte { return c.its[c.i].value() }
func (c *chainIter) err() error    { return nil }
func (c *chainIter) close() error {
	for _, it := range c.its {
		it.close()
	}
	return nil
}
