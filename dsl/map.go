package dsl

import "github.com/seichedb/seiche/runtime"

// Map turns each record into a new key and value (KSTREAM-MAP). The key may change, so a stateful
// operation after Map repartitions, unless PreservesKey says it does not. The result has no
// serdes: give them with WithKeySerde and WithValueSerde.
func Map[K, V, KR, VR any](s *Stream[K, V], fn func(key K, value V) (KR, VR, error), opts ...MapOpt) *Stream[KR, VR] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-MAP-")
	addProcessor(s.b, name, func() runtime.Processor[K, V, KR, VR] { return &mapProc[K, V, KR, VR]{fn: fn} }, s.node)
	return &Stream[KR, VR]{b: s.b, node: name, keyChanged: s.keyChanged || !c.preservesKey}
}

// Map turns each record into a new key and value of the same types, keeping the serdes: the
// package function Map with KR = K and VR = V.
func (s *Stream[K, V]) Map(fn func(key K, value V) (K, V, error), opts ...MapOpt) *Stream[K, V] {
	return Map(s, fn, opts...).WithKeySerde(s.keys).WithValueSerde(s.values)
}

type mapProc[K, V, KR, VR any] struct {
	forwarder[KR, VR]
	fn func(K, V) (KR, VR, error)
}

func (p *mapProc[K, V, KR, VR]) Process(rec runtime.Record[K, V]) error {
	k, v, err := p.fn(rec.Key, rec.Value)
	if err != nil {
		return err
	}
	return p.ctx.Forward(runtime.WithKeyValue(rec, k, v))
}
