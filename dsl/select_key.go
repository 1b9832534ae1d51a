package dsl

import "github.com/seichedb/seiche/runtime"

// SelectKey gives each record a new key of type KR computed from it, keeping the value
// (KSTREAM-KEY-SELECT). A stateful operation after SelectKey repartitions. The result has no key
// serde: give it with WithKeySerde.
func SelectKey[K, V, KR any](s *Stream[K, V], fn func(key K, value V) (KR, error), opts ...MapOpt) *Stream[KR, V] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-KEY-SELECT-")
	addProcessor(s.b, name, func() runtime.Processor[K, V, KR, V] { return &selectKeyProc[K, V, KR]{fn: fn} }, s.node)
	return &Stream[KR, V]{b: s.b, node: name, values: s.values, keyChanged: s.keyChanged || !c.preservesKey}
}

// SelectKey gives each record a new key of the same type, keeping the serdes: the package
// function SelectKey with KR = K.
func (s *Stream[K, V]) SelectKey(fn func(key K, value V) (K, error), opts ...MapOpt) *Stream[K, V] {
	return SelectKey(s, fn, opts...).WithKeySerde(s.keys)
}

type selectKeyProc[K, V, KR any] struct {
	forwarder[KR, V]
	fn func(K, V) (KR, error)
}

func (p *selectKeyProc[K, V, KR]) Process(rec runtime.Record[K, V]) error {
	k, err := p.fn(rec.Key, rec.Value)
	if err != nil {
		return err
	}
	return p.ctx.Forward(runtime.WithKeyValue(rec, k, rec.Value))
}
