package dsl

import "github.com/seichedb/seiche/runtime"

// MapValues turns each value into a new one, keeping the key (KSTREAM-MAPVALUES): no repartition
// is needed after it. The value serde of the result comes from WithValueSerde.
func MapValues[K, V, VR any](s *Stream[K, V], fn func(key K, value V) (VR, error), opts ...Opt) *Stream[K, VR] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-MAPVALUES-")
	addProcessor(s.b, name, func() runtime.Processor[K, V, K, VR] { return &mapValuesProc[K, V, VR]{fn: fn} }, s.node)
	return &Stream[K, VR]{
		b:          s.b,
		node:       name,
		keys:       s.keys,
		values:     serdeOr(s.b, name, c.valueSerde, nilSerde[VR]()),
		keyChanged: s.keyChanged,
	}
}

type mapValuesProc[K, V, VR any] struct {
	forwarder[K, VR]
	fn func(K, V) (VR, error)
}

func (p *mapValuesProc[K, V, VR]) Process(rec runtime.Record[K, V]) error {
	v, err := p.fn(rec.Key, rec.Value)
	if err != nil {
		return err
	}
	return p.ctx.Forward(runtime.WithValue(rec, v))
}
