package dsl

import (
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// Map turns each record into a new key and value (KSTREAM-MAP). The key may change, so a stateful
// operation after Map repartitions, unless PreservesKey says it does not. Serdes of the result come from WithKeySerde and WithValueSerde.
func Map[K, V, KR, VR any](s *Stream[K, V], fn func(key K, value V) (KR, VR, error), opts ...Opt) *Stream[KR, VR] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-MAP-")
	addProcessor(s.b, name, func() runtime.Processor[K, V, KR, VR] { return &mapProc[K, V, KR, VR]{fn: fn} }, s.node)
	return &Stream[KR, VR]{
		b:          s.b,
		node:       name,
		keys:       serdeOr(s.b, name, c.keySerde, nilSerde[KR]()),
		values:     serdeOr(s.b, name, c.valueSerde, nilSerde[VR]()),
		keyChanged: s.keyChanged || !c.preservesKey,
	}
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

// nilSerde is a typed nil serde, for serdeOr defaults.
func nilSerde[T any]() serde.Serde[T] { return nil }
