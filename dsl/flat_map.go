package dsl

import "github.com/seichedb/seiche/runtime"

// FlatMap turns each record into zero or more records (KSTREAM-FLATMAP), each with the input's
// timestamp and headers. The key may change, as with Map; the result has no serdes.
func FlatMap[K, V, KR, VR any](s *Stream[K, V], fn func(key K, value V) ([]KeyValue[KR, VR], error), opts ...MapOpt) *Stream[KR, VR] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-FLATMAP-")
	addProcessor(s.b, name, func() runtime.Processor[K, V, KR, VR] { return &flatMapProc[K, V, KR, VR]{fn: fn} }, s.node)
	return &Stream[KR, VR]{b: s.b, node: name, keyChanged: s.keyChanged || !c.preservesKey}
}

// FlatMap turns each record into zero or more records of the same types, keeping the serdes: the
// package function FlatMap with KR = K and VR = V.
func (s *Stream[K, V]) FlatMap(fn func(key K, value V) ([]KeyValue[K, V], error), opts ...MapOpt) *Stream[K, V] {
	return FlatMap(s, fn, opts...).WithKeySerde(s.keys).WithValueSerde(s.values)
}

type flatMapProc[K, V, KR, VR any] struct {
	forwarder[KR, VR]
	fn func(K, V) ([]KeyValue[KR, VR], error)
}

func (p *flatMapProc[K, V, KR, VR]) Process(rec runtime.Record[K, V]) error {
	kvs, err := p.fn(rec.Key, rec.Value)
	if err != nil {
		return err
	}
	for _, kv := range kvs {
		if err := p.ctx.Forward(runtime.WithKeyValue(rec, kv.Key, kv.Value)); err != nil {
			return err
		}
	}
	return nil
}
