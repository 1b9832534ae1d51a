package dsl

import "github.com/seichedb/seiche/runtime"

// Peek calls fn for each record and passes the record on unchanged (KSTREAM-PEEK).
func (s *Stream[K, V]) Peek(fn func(key K, value V) error, opts ...NodeOpt) *Stream[K, V] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-PEEK-")
	addProcessor(s.b, name, func() runtime.Processor[K, V, K, V] { return &peekProc[K, V]{fn: fn, forward: true} }, s.node)
	return &Stream[K, V]{b: s.b, node: name, keys: s.keys, values: s.values, keyChanged: s.keyChanged}
}

// Foreach calls fn for each record; the stream ends there (KSTREAM-FOREACH).
func (s *Stream[K, V]) Foreach(fn func(key K, value V) error, opts ...NodeOpt) {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-FOREACH-")
	addProcessor(s.b, name, func() runtime.Processor[K, V, K, V] { return &peekProc[K, V]{fn: fn} }, s.node)
}

type peekProc[K, V any] struct {
	forwarder[K, V]
	fn      func(K, V) error
	forward bool
}

func (p *peekProc[K, V]) Process(rec runtime.Record[K, V]) error {
	if err := p.fn(rec.Key, rec.Value); err != nil {
		return err
	}
	if p.forward {
		return p.ctx.Forward(rec)
	}
	return nil
}
