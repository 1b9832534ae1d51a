package dsl

import "github.com/seichedb/seiche/runtime"

// FlatMap turns each record into zero or more records (KSTREAM-FLATMAP), each with the input's
// timestamp and headers. The key may change, as with Map.
func FlatMap[K, V, KR, VR any](s *Stream[K, V], fn func(key K, value V) ([]KeyValue[KR, VR], error), opts ...Opt) *Stream[KR, VR] {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-FLATMAP-")
	addProcessor(s.b, name, func() runtime.Processor[K, V, KR, VR] { return &flatMapProc[K, V, KR, VR]{fn: fn} }, s.node)
	return &Stream[KR, VR]{
		b:          s.b,
		node:       name,
		keys:       serdeOr(s.b, name, c.keySerde, nilSerde[KR]()),
		values:     serdeOr(s.b, name, c.valueSerde, nilSerde[VR]()),
		keyChanged: true,
	}
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
