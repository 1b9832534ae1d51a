package dsl

import "github.com/seichedb/seiche/runtime"

// Filter keeps the records for which pred is true (KSTREAM-FILTER).
func (s *Stream[K, V]) Filter(pred func(key K, value V) (bool, error), opts ...NodeOpt) *Stream[K, V] {
	return s.filter(pred, false, opts)
}

// FilterNot keeps the records for which pred is false (KSTREAM-FILTER).
func (s *Stream[K, V]) FilterNot(pred func(key K, value V) (bool, error), opts ...NodeOpt) *Stream[K, V] {
	return s.filter(pred, true, opts)
}

func (s *Stream[K, V]) filter(pred func(K, V) (bool, error), not bool, opts []NodeOpt) *Stream[K, V] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-FILTER-")
	addProcessor(s.b, name, func() runtime.Processor[K, V, K, V] {
		return &filterProc[K, V]{pred: pred, not: not}
	}, s.node)
	return &Stream[K, V]{b: s.b, node: name, keys: s.keys, values: s.values, keyChanged: s.keyChanged}
}

type filterProc[K, V any] struct {
	forwarder[K, V]
	pred func(K, V) (bool, error)
	not  bool
}

func (p *filterProc[K, V]) Process(rec runtime.Record[K, V]) error {
	ok, err := p.pred(rec.Key, rec.Value)
	if err != nil {
		return err
	}
	if ok != p.not {
		return p.ctx.Forward(rec)
	}
	return nil
}
