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
// undo log, so reads need no merging and abort replays the log backwards. Iterators walk a
// copy-on-write clone of the tree, which gives them the same snapshot view as Pebble's.
type memoryEngine struct {
	// mu guards tree against concurrent tasks of the same DB; each task's goroutine owns its own
	// keys, but the tree's nodes are shared.
	mu   sync.Mutex
	tree *btree.BTreeG[memItem]
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
	prev, existed := t.e.tree.ReplaceOrInsert(memItem{key: bytes.Clone(key), value: cloneNonNil(value)})
	if !existed {
		prev = memItem{key: bytes.Clone(key)}
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
	for _, it := range doomed {
		t.e.tree.Delete(it)
		t.undo = append(t.undo, undo{item: it, existed: true})
	}
	return nil
}

func (t *memoryTxn) iter(lo, hi []byte, reverse bool) (rawIter, error) {
	t.e.mu.Lock()
	snap := t.e.tree.Clone()
	t.e.mu.Unlock()
	return &memoryIter{tree: snap, lo: lo, hi: hi, reverse: reverse}, nil
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
// step, with no goroutine or coroutine to leak if the caller never closes it.
type memoryIter struct {
	tree    *btree.BTreeG[memItem]
	lo, hi  []byte
	reverse bool
	started bool
	cur     memItem
	valid   bool
}

func (i *memoryIter) next() bool {
	if i.tree == nil {
		return false
	}
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
		i.tree.AscendGreaterOrEqual(memItem{key: i.lo}, visit)
	case !i.reverse:
		i.tree.AscendGreaterOrEqual(i.cur, visit)
	case !i.started && i.hi == nil:
		i.tree.Descend(visit)
	case !i.started:
		i.tree.DescendLessOrEqual(memItem{key: i.hi}, func(it memItem) bool {
			if bytes.Equal(it.key, i.hi) {
				return true // hi is exclusive
			}
			return visit(it)
		})
	default:
		i.tree.DescendLessOrEqual(i.cur, visit)
	}
	i.started = true
	i.valid = found
	if !found {
		i.tree = nil
	}
	return found
}

func (i *memoryIter) key() []byte   { return i.cur.key }
func (i *memoryIter) value() []byte { return i.cur.value }
func (i *memoryIter) err() error    { return nil }
func (i *memoryIter) close() error  { i.tree = nil; return nil }
