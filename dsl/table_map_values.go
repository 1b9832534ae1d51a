package dsl

import "github.com/seichedb/seiche/runtime"

// MapTableValues maps every value of a table (Kafka Streams' KTable.mapValues, KTABLE-MAPVALUES):
// a package function because it changes the value type. Deletes stay deletes; fn also sees old
// values. The value serde of the result comes from WithValueSerde.
func MapTableValues[K, V, VR any](t *Table[K, V], fn func(key K, value V) (VR, error), opts ...Opt) *Table[K, VR] {
	c := newOpConfig(opts)
	name := t.b.nameOr(c, "KTABLE-MAPVALUES-")
	addProcessor(t.b, name, func() runtime.Processor[K, Change[V], K, Change[VR]] {
		return &tableMapValuesProc[K, V, VR]{fn: fn}
	}, t.node)
	return &Table[K, VR]{b: t.b, node: name, keys: t.keys, values: serdeOr(t.b, name, c.valueSerde, nilSerde[VR]())}
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
