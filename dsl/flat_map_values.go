package dsl

import "github.com/seichedb/seiche/runtime"

// FlatMapValues turns each value into zero or more values of type VR with the same key
// (KSTREAM-FLATMAPVALUES). The result has no value serde: give it with WithValueSerde.
func FlatMapValues[K, V, VR any](s *Stream[K, V], fn func(key K, value V) ([]VR, error), opts ...NodeOpt) *Stream[K, VR] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-FLATMAPVALUES-")
	addProcessor(s.b, name, func() runtime.Processor[K, V, K, VR] { return &flatMapValuesProc[K, V, VR]{fn: fn} }, s.node)
	return &Stream[K, VR]{b: s.b, node: name, keys: s.keys, keyChanged: s.keyChanged}
}

// FlatMapValues turns each value into zero or more values of the same type, keeping the key and
// the serdes: the package function FlatMapValues with VR = V.
func (s *Stream[K, V]) FlatMapValues(fn func(key K, value V) ([]V, error), opts ...NodeOpt) *Stream[K, V] {
	return FlatMapValues(s, fn, opts...).WithValueSerde(s.values)
}

type flatMapValuesProc[K, V, VR any] struct {
	forwarder[K, VR]
	fn func(K, V) ([]VR, error)
}

func (p *flatMapValuesProc[K, V, VR]) Process(rec runtime.Record[K, V]) error {
	vs, err := p.fn(rec.Key, rec.Value)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if err := p.ctx.Forward(runtime.WithValue(rec, v)); err != nil {
			return err
		}
	}
	return nil
}
