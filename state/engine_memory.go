package state

import (
	"bytes"
	"errors"
	"sync"

	"github.com/google/btree"
)

type memItem struct {
	key, value []byte
}

func memLess(a, b memItem) bool { return bytes.Compare(a.key, b.key) < 0 }

// memoryEngine keeps everything in a B-tree. Transactions write to the tree directly and keep an
// undo log, so reads need no merging and abort replays the log backwards.
//
// Iterators see the tree as it was when they were opened, as Pebble's do, but the snapshot is taken
// lazily: an iterator walks the live tree through a memView until the first write while it is open,
// and that write first freezes the view with one copy-on-write Clone shared by every open iterator.
// Cloning on every iter instead (as this engine first did) made every write after a lookup copy
// its B-tree path (btree's mutableFor), and the test driver, which commits after every record, does
// a lookup and a write for most records of a join or an aggregation: see BenchmarkMemoryEngineLookupWrite.
type memoryEngine struct {
	// mu guards tree and live against concurrent tasks of the same DB; each task's goroutine owns
	// its own keys, but the tree's nodes are shared.
	mu   sync.Mutex
	tree *btree.BTreeG[memItem]
	// live is the view open iterators share while they still read tree itself; nil when none is
	// open or the last one was frozen.
	live *memView
}

// memView is what an iterator reads: the live tree until a write freezes it into a clone.
type memView struct {
	tree *btree.BTreeG[memItem]
	open int // iterators on this view not yet closed; only meaningful while it is e.live
}

// freezeLocked gives the open iterators their snapshot before tree changes.
// REQUIRES: e.mu is held.
func (e *memoryEngine) freezeLocked() {
	if e.live == nil {
		return
	}
	e.live.tree = e.tree.Clone()
	e.live = nil
}

func newMemoryEngine() *memoryEngine {
	return &memoryEngine{tree: btree.NewG(16, memLess)}
}

func (e *memoryEngine) get(key []byte) ([]byte, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	it, ok := e.tree.Get(memItem{key: key})
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
	t.e.freezeLocked()
	item := memItem{key: bytes.Clone(key), value: cloneNonNil(value)}
	prev, existed := t.e.tree.ReplaceOrInsert(item)
	if !existed {
		prev = memItem{key: item.key} // keys are never modified in place: the undo entry may share it
	}
	t.undo = append(t.undo, undo{item: prev, existed: existed})
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
	t.e.freezeLocked()
	if prev, existed := t.e.tree.Delete(memItem{key: key}); existed {
		t.undo = append(t.undo, undo{item: prev, existed: true})
	}
	return nil
}

func (t *memoryTxn) deleteRange(lo, hi []byte) error {
	if hi == nil {
		return errors.New("state: unbounded delete range")
	}
	t.e.mu.Lock()
	defer t.e.mu.Unlock()
	var doomed []memItem
	t.e.tree.AscendRange(memItem{key: lo}, memItem{key: hi}, func(it memItem) bool {
		doomed = append(doomed, it)
		return true
	})
	if len(doomed) > 0 {
		t.e.freezeLocked()
	}
	for _, it := range doomed {
		t.e.tree.Delete(it)
		t.undo = append(t.undo, undo{item: it, existed: true})
	}
	return nil
}

func (t *memoryTxn) iter(lo, hi []byte, reverse bool) (rawIter, error) {
	e := t.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.live == nil {
		e.live = &memView{tree: e.tree}
	}
	e.live.open++
	return &memoryIter{e: e, view: e.live, lo: lo, hi: hi, reverse: reverse}, nil
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
	t.undo = t.undo[:0]
	return nil
}

func (t *memoryTxn) abort() {
	t.e.mu.Lock()
	defer t.e.mu.Unlock()
	if len(t.undo) > 0 {
		t.e.freezeLocked()
	}
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		if u.existed {
			t.e.tree.ReplaceOrInsert(u.item)
		} else {
			t.e.tree.Delete(u.item)
		}
	}
	t.undo = t.undo[:0]
}

// memoryIter steps through a snapshot by seeking past the current key on every step: O(log n) per
// step, with no goroutine or coroutine to leak if the caller never closes it. An iterator that is
// never closed costs one Clone at the next write, as every iterator did before views were lazy.
type memoryIter struct {
	e       *memoryEngine
	view    *memView // nil once exhausted or closed
	lo, hi  []byte
	reverse bool
	started bool
	cur     memItem
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
	}
	return found
}

// releaseLocked detaches the iterator from its view; the last iterator of the live view ends it, so
// the next write need not clone.
// REQUIRES: i.e.mu is held.
func (i *memoryIter) releaseLocked() {
	if i.view == nil {
		return
	}
	if i.view == i.e.live {
		if i.view.open--; i.view.open == 0 {
			i.e.live = nil
		}
	}
	i.view = nil
}

func (i *memoryIter) key() []byte   { return i.cur.key }
func (i *memoryIter) value() []byte { return i.cur.value }
func (i *memoryIter) err() error    { return nil }
func (i *memoryIter) close() error {
	i.e.mu.Lock()
	defer i.e.mu.Unlock()
	i.releaseLocked()
	return nil
}
