package dsl

import "github.com/seichedb/seiche/runtime"

// Merge returns a stream of the records of s and other, in the order they are processed
// (KSTREAM-MERGE). Both must come from the same Builder.
func (s *Stream[K, V]) Merge(other *Stream[K, V], opts ...NodeOpt) *Stream[K, V] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-MERGE-")
	if other.b != s.b {
		s.b.fail("merge %s: streams from different builders", name)
		return s
	}
	addProcessor(s.b, name, func() runtime.Processor[K, V, K, V] { return &passThrough[K, V]{} }, s.node, other.node)
	keys, values := s.keys, s.values
	if keys == nil {
		keys = other.keys
	}
	if values == nil {
		values = other.values
	}
	return &Stream[K, V]{b: s.b, node: name, keys: keys, values: values, keyChanged: s.keyChanged || other.keyChanged}
}

type passThrough[K, V any] struct{ forwarder[K, V] }

func (p *passThrough[K, V]) Process(rec runtime.Record[K, V]) error { return p.ctx.Forward(rec) }
