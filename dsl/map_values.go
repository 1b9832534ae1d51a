package dsl

import "github.com/seichedb/seiche/runtime"

// MapValues turns each value into a new one of type VR, keeping the key (KSTREAM-MAPVALUES): no
// repartition is needed after it. The result has no value serde: give it with WithValueSerde.
func MapValues[K, V, VR any](s *Stream[K, V], fn func(key K, value V) (VR, error), opts ...NodeOpt) *Stream[K, VR] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-MAPVALUES-")
	addProcessor(s.b, name, func() runtime.Processor[K, V, K, VR] { return &mapValuesProc[K, V, VR]{fn: fn} }, s.node)
	return &Stream[K, VR]{b: s.b, node: name, keys: s.keys, keyChanged: s.keyChanged}
}

// MapValues turns each value into a new one of the same type, keeping the key and the serdes:
// the package function MapValues with VR = V.
func (s *Stream[K, V]) MapValues(fn func(key K, value V) (V, error), opts ...NodeOpt) *Stream[K, V] {
	return MapValues(s, fn, opts...).WithValueSerde(s.values)
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
