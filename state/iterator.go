package state

import (
	"bytes"
	"container/heap"
)

// KeyValueIterator walks the entries of a range in order:
//
//	it, err := s.Range(from, to)
//	...
//	defer it.Close()
//	for it.Next() {
//		use(it.Key(), it.Value())
//	}
//	if err := it.Err(); err != nil { ... }
//
// Key and Value are valid until the next call to Next; copy them to keep them. An iterator sees
// the store as it was when the iterator was created. It must be closed, and is not safe for
// concurrent use.
type KeyValueIterator interface {
	Next() bool
	Key() []byte
	Value() []byte
	Err() error
	Close() error
}

// TimestampedIterator is a KeyValueIterator over a timestamped store.
type TimestampedIterator interface {
	KeyValueIterator
	// Timestamp is the timestamp stored with Value.
	Timestamp() int64
}

// WindowIterator is a KeyValueIterator over a window or session store.
type WindowIterator interface {
	KeyValueIterator
	// Window is the window (window store) or session (session store) of the current entry.
	Window() Window
}

// iterator implements every iterator interface over a raw iterator of physical keys. decode turns
// the current physical entry into key, value, timestamp and window, or reports it filtered out.
type iterator struct {
	raw    rawIter
	decode func(it *iterator, phys, value []byte) (keep bool, err error)
	owner  *storeBase

	key, value []byte
	ts         int64
	win        Window
	kbuf       []byte
	err        error
	done       bool
}

func (it *iterator) Next() bool {
	if it.done {
		return false
	}
	if it.owner != nil && it.owner.check() != nil {
		it.err, it.done = ErrClosed, true
		return false
	}
	for it.raw.next() {
		keep, err := it.decode(it, it.raw.key(), it.raw.value())
		if err != nil {
			it.err, it.done = err, true
			return false
		}
		if keep {
			return true
		}
	}
	it.err, it.done = it.raw.err(), true
	return false
}

func (it *iterator) Key() []byte      { return it.key }
func (it *iterator) Value() []byte    { return it.value }
func (it *iterator) Timestamp() int64 { return it.ts }
func (it *iterator) Window() Window   { return it.win }
func (it *iterator) Err() error       { return it.err }

func (it *iterator) Close() error {
	it.done = true
	if it.raw == nil {
		return nil
	}
	err := it.raw.close()
	it.raw = nil
	if it.owner != nil {
		delete(it.owner.iters, it)
	}
	return err
}

// emptyIter is a raw iterator over nothing.
type emptyIter struct{}

func (emptyIter) next() bool    { return false }
func (emptyIter) key() []byte   { return nil }
func (emptyIter) value() []byte { return nil }
func (emptyIter) err() error    { return nil }
func (emptyIter) close() error  { return nil }

// mergeIter merges raw iterators over disjoint key ranges (the segments of a window or session
// store) into one order: physical keys compared from byte skip on, which drops the segment id.
type mergeIter struct {
	iters   []rawIter
	h       mergeHeap
	skip    int
	reverse bool
	started bool
	cur     rawIter
	e       error
}

type mergeHeap struct {
	its     []rawIter
	skip    int
	reverse bool
}

func (h *mergeHeap) Len() int { return len(h.its) }
func (h *mergeHeap) Less(i, j int) bool {
	c := bytes.Compare(h.its[i].key()[h.skip:], h.its[j].key()[h.skip:])
	if h.reverse {
		return c > 0
	}
	return c < 0
}
func (h *mergeHeap) Swap(i, j int) { h.its[i], h.its[j] = h.its[j], h.its[i] }
func (h *mergeHeap) Push(x any)    { h.its = append(h.its, x.(rawIter)) }
func (h *mergeHeap) Pop() any {
	x := h.its[len(h.its)-1]
	h.its = h.its[:len(h.its)-1]
	return x
}

func newMergeIter(iters []rawIter, skip int, reverse bool) rawIter {
	switch len(iters) {
	case 0:
		return emptyIter{}
	case 1:
		return iters[0]
	}
	return &mergeIter{iters: iters, skip: skip, reverse: reverse, h: mergeHeap{skip: skip, reverse: reverse}}
}

func (m *mergeIter) next() bool {
	if m.e != nil {
		return false
	}
	if !m.started {
		m.started = true
		for _, it := range m.iters {
			if it.next() {
				m.h.its = append(m.h.its, it)
			} else if err := it.err(); err != nil {
				m.e = err
				return false
			}
		}
		heap.Init(&m.h)
	} else if m.cur != nil {
		// Advance the iterator whose entry was returned last, now that the caller is done with it.
		if m.cur.next() {
			heap.Fix(&m.h, 0)
		} else {
			if err := m.cur.err(); err != nil {
				m.e = err
				return false
			}
			heap.Pop(&m.h)
		}
	}
	if m.h.Len() == 0 {
		m.cur = nil
		return false
	}
	m.cur = m.h.its[0]
	return true
}

func (m *mergeIter) key() []byte   { return m.cur.key() }
func (m *mergeIter) value() []byte { return m.cur.value() }
func (m *mergeIter) err() error    { return m.e }

func (m *mergeIter) close() error {
	var first error
	for _, it := range m.iters {
		if err := it.close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
