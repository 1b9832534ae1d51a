package dsl

import "github.com/seichedb/seiche/runtime"

// MapTableValues maps every value of a table to a VR (Kafka Streams' KTable.mapValues,
// KTABLE-MAPVALUES): a package function because it changes the value type. Deletes stay deletes;
// fn also sees old values. The result has no value serde: give it with WithValueSerde.
func MapTableValues[K, V, VR any](t *Table[K, V], fn func(key K, value V) (VR, error), opts ...NodeOpt) *Table[K, VR] {
	c := newOpConfig(opts)
	name := t.b.nameOr(c, "KTABLE-MAPVALUES-")
	addProcessor(t.b, name, func() runtime.Processor[K, Change[V], K, Change[VR]] {
		return &tableMapValuesProc[K, V, VR]{fn: fn}
	}, t.node)
	return &Table[K, VR]{b: t.b, node: name, keys: t.keys}
}

// MapValues maps every value of the table to one of the same type, keeping the serdes: the
// package function MapTableValues with VR = V. The result is not materialized.
func (t *Table[K, V]) MapValues(fn func(key K, value V) (V, error), opts ...NodeOpt) *Table[K, V] {
	out := MapTableValues(t, fn, opts...)
	out.values = t.values
	return out
}

type tableMapValuesProc[K, V, VR any] struct {
	forwarder[K, Change[VR]]
	fn func(K, V) (VR, error)
}

func (p *tableMapValuesProc[K, V, VR]) Process(rec runtime.Record[K, Change[V]]) error {
	ch := rec.Value
	out := Change[VR]{HasNew: ch.HasNew, HasOld: ch.HasOld}
	var err error
	if ch.HasNew {
		if out.New, err = p.fn(rec.Key, ch.New); err != nil {
			return err
		}
	}
	if ch.HasOld {
		if out.Old, err = p.fn(rec.Key, ch.Old); err != nil {
			return err
		}
	}
	return p.ctx.Forward(runtime.WithValue(rec, out))
}
