package dsl

import "github.com/seichedb/seiche/runtime"

// Filter keeps the keys whose value pred accepts (KTABLE-FILTER): a value it rejects deletes the
// key downstream. pred also sees old values, to tell downstream what a key held.
func (t *Table[K, V]) Filter(pred func(key K, value V) (bool, error), opts ...NodeOpt) *Table[K, V] {
	return t.filter(pred, false, opts)
}

// FilterNot keeps the keys whose value pred rejects.
func (t *Table[K, V]) FilterNot(pred func(key K, value V) (bool, error), opts ...NodeOpt) *Table[K, V] {
	return t.filter(pred, true, opts)
}

func (t *Table[K, V]) filter(pred func(K, V) (bool, error), not bool, opts []NodeOpt) *Table[K, V] {
	c := newOpConfig(opts)
	name := t.b.nameOr(c, "KTABLE-FILTER-")
	addProcessor(t.b, name, func() runtime.Processor[K, Change[V], K, Change[V]] {
		return &tableFilterProc[K, V]{pred: pred, not: not}
	}, t.node)
	return &Table[K, V]{b: t.b, node: name, keys: t.keys, values: t.values}
}

type tableFilterProc[K, V any] struct {
	forwarder[K, Change[V]]
	pred func(K, V) (bool, error)
	not  bool
}

func (p *tableFilterProc[K, V]) keep(k K, v V, has bool) (bool, error) {
	if !has {
		return false, nil
	}
	ok, err := p.pred(k, v)
	return ok != p.not, err
}

func (p *tableFilterProc[K, V]) Process(rec runtime.Record[K, Change[V]]) error {
	ch := rec.Value
	newOK, err := p.keep(rec.Key, ch.New, ch.HasNew)
	if err != nil {
		return err
	}
	oldOK, err := p.keep(rec.Key, ch.Old, ch.HasOld)
	if err != nil {
		return err
	}
	if !newOK && !oldOK {
		return nil // the key was not in the filtered table and is not now
	}
	var out Change[V]
	if newOK {
		out.New, out.HasNew = ch.New, true
	}
	if oldOK {
		out.Old, out.HasOld = ch.Old, true
	}
	return p.ctx.Forward(runtime.WithValue(rec, out))
}
