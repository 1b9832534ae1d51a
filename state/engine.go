package state

// engine is the ordered byte key-value storage under every store: Pebble or an in-memory B-tree.
// Both give the same results for the same operations; the datadriven tests run against each.
type engine interface {
	// get reads one key. The returned value is a copy owned by the caller.
	get(key []byte) ([]byte, bool, error)
	// newTxn starts a write transaction whose reads see its own writes.
	newTxn() txn
	// deleteRange drops [lo, hi) right away (dropping a task or a store).
	deleteRange(lo, hi []byte) error
	close() error
}

// txn is a set of pending writes that commit atomically or not at all. Reads through a txn see the
// committed state plus the txn's own writes. A txn is used by one goroutine.
type txn interface {
	get(key []byte) ([]byte, bool, error)
	set(key, value []byte) error
	del(key []byte) error
	deleteRange(lo, hi []byte) error
	// iter iterates over [lo, hi) (hi nil = unbounded) as of the call: later writes are not seen.
	iter(lo, hi []byte, reverse bool) (rawIter, error)
	// count returns the number of keys in [lo, hi), exactly when that is cheap, estimated otherwise.
	count(lo, hi []byte) (int64, error)
	commit() error
	abort()
}

// rawIter walks physical keys. next positions on the first entry on its first call. key and value
// are valid until the next call to next.
type rawIter interface {
	next() bool
	key() []byte
	value() []byte
	err() error
	close() error
}

// layer is one level of a store's write path: the task's txn at the bottom, then the changelog
// logger, then the record cache. Keys are physical keys. Every layer copies what it retains, so
// callers may reuse key and value buffers after a call returns.
type layer interface {
	get(key []byte) ([]byte, bool, error)
	set(key, value []byte) error
	del(key []byte) error
	// deleteRange drops [lo, hi) without logging it: it is how retention removes expired segments.
	deleteRange(lo, hi []byte) error
	iter(lo, hi []byte, reverse bool) (rawIter, error)
}

// txnLayer adapts a txn to a layer.
type txnLayer struct{ t txn }

func (l txnLayer) get(k []byte) ([]byte, bool, error) { return l.t.get(k) }
func (l txnLayer) set(k, v []byte) error              { return l.t.set(k, v) }
func (l txnLayer) del(k []byte) error                 { return l.t.del(k) }
func (l txnLayer) deleteRange(lo, hi []byte) error    { return l.t.deleteRange(lo, hi) }
func (l txnLayer) iter(lo, hi []byte, r bool) (rawIter, error) {
	return l.t.iter(lo, hi, r)
}

// taskLayer is the bottom layer of a store: the task's current txn, which changes at every commit.
type taskLayer struct{ t *Task }

func (l taskLayer) get(k []byte) ([]byte, bool, error) { return l.t.txn.get(k) }
func (l taskLayer) set(k, v []byte) error              { return l.t.txn.set(k, v) }
func (l taskLayer) del(k []byte) error                 { return l.t.txn.del(k) }
func (l taskLayer) deleteRange(lo, hi []byte) error    { return l.t.txn.deleteRange(lo, hi) }
func (l taskLayer) iter(lo, hi []byte, r bool) (rawIter, error) {
	return l.t.txn.iter(lo, hi, r)
}
