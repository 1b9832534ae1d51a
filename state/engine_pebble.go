package state

import (
	"errors"

	"github.com/cockroachdb/pebble/v2"
)

// countExactBytes is the estimated on-disk size of a range below which count iterates over it.
const countExactBytes = 64 << 20

type pebbleEngine struct {
	db *pebble.DB
}

func (e *pebbleEngine) get(key []byte) ([]byte, bool, error) {
	return pebbleGet(e.db.Get(key))
}

func pebbleGet(v []byte, closer interface{ Close() error }, err error) ([]byte, bool, error) {
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	out := make([]byte, len(v))
	copy(out, v)
	return out, true, closer.Close()
}

func (e *pebbleEngine) newTxn() txn {
	return &pebbleTxn{db: e.db}
}

func (e *pebbleEngine) deleteRange(lo, hi []byte) error {
	return e.db.DeleteRange(lo, hi, pebble.NoSync)
}

func (e *pebbleEngine) close() error { return e.db.Close() }

// pebbleTxn is an indexed batch, created on the first write. Until then reads go straight to the DB,
// which is cheaper than reading through an empty batch. A blind txn (restore) uses a plain batch,
// cheaper to fill, and its reads do not see its own writes.
type pebbleTxn struct {
	db    *pebble.DB
	b     *pebble.Batch
	blind bool
}

func (t *pebbleTxn) batch() *pebble.Batch {
	if t.b == nil {
		if t.blind {
			t.b = t.db.NewBatch()
		} else {
			t.b = t.db.NewIndexedBatch()
		}
	}
	return t.b
}

func (t *pebbleTxn) get(key []byte) ([]byte, bool, error) {
	if t.b == nil || t.blind {
		return pebbleGet(t.db.Get(key))
	}
	return pebbleGet(t.b.Get(key))
}

func (t *pebbleTxn) set(key, value []byte) error { return t.batch().Set(key, value, nil) }
func (t *pebbleTxn) del(key []byte) error        { return t.batch().Delete(key, nil) }
func (t *pebbleTxn) deleteRange(lo, hi []byte) error {
	if hi == nil {
		return errors.New("state: unbounded delete range")
	}
	return t.batch().DeleteRange(lo, hi, nil)
}

func (t *pebbleTxn) iter(lo, hi []byte, reverse bool) (rawIter, error) {
	opts := &pebble.IterOptions{LowerBound: lo, UpperBound: hi}
	var it *pebble.Iterator
	var err error
	if t.b == nil || t.blind {
		it, err = t.db.NewIter(opts)
	} else {
		it, err = t.b.NewIter(opts)
	}
	if err != nil {
		return nil, err
	}
	return &pebbleIter{it: it, reverse: reverse}, nil
}

func (t *pebbleTxn) count(lo, hi []byte) (int64, error) {
	size, err := t.db.EstimateDiskUsage(lo, hi)
	if err != nil {
		return 0, err
	}
	it, err := t.iter(lo, hi, false)
	if err != nil {
		return 0, err
	}
	defer it.close()
	var n, bytesSeen int64
	for it.next() {
		n++
		bytesSeen += int64(len(it.key()) + len(it.value()))
		if size > countExactBytes && n == 10000 {
			// Large range: extrapolate from the average size of the first entries.
			return int64(float64(size) / float64(bytesSeen) * float64(n)), it.err()
		}
	}
	return n, it.err()
}

func (t *pebbleTxn) commit() error {
	if t.b == nil {
		return nil
	}
	b := t.b
	t.b = nil
	if b.Empty() {
		return b.Close()
	}
	if err := b.Commit(pebble.NoSync); err != nil {
		b.Close()
		return err
	}
	return b.Close()
}

func (t *pebbleTxn) abort() {
	if t.b != nil {
		t.b.Close()
		t.b = nil
	}
}

type pebbleIter struct {
	it      *pebble.Iterator
	reverse bool
	started bool
}

func (i *pebbleIter) next() bool {
	if !i.started {
		i.started = true
		if i.reverse {
			return i.it.Last()
		}
		return i.it.First()
	}
	if i.reverse {
		return i.it.Prev()
	}
	return i.it.Next()
}

func (i *pebbleIter) key() []byte { return i.it.Key() }

// value never returns nil: a nil value means a deletion everywhere else in the package.
func (i *pebbleIter) value() []byte {
	if v := i.it.Value(); v != nil {
		return v
	}
	return []byte{}
}
func (i *pebbleIter) err() error   { return i.it.Error() }
func (i *pebbleIter) close() error { return i.it.Close() }
