package dsl

import "github.com/seichedb/seiche/runtime"

// ToStream returns the table's changes as a stream (KTABLE-TOSTREAM): one record per update, a
// delete being a record with the zero value (nil for pointer, slice and map values, which sinks
// write as a null: a tombstone).
func (t *Table[K, V]) ToStream(opts ...Opt) *Stream[K, V] {
	c := newOpConfig(opts)
	name := t.b.nameOr(c, "KTABLE-TOSTREAM-")
	addProcessor(t.b, name, func() runtime.Processor[K, Change[V], K, V] { return &toStreamProc[K, V]{} }, t.node)
	return &Stream[K, V]{b: t.b, node: name, keys: t.keys, values: t.values}
}

type toStreamProc[K, V any] struct{ forwarder[K, V] }

func (p *toStreamProc[K, V]) Process(rec runtime.Record[K, Change[V]]) error {
	var v V
	if rec.Value.HasNew {
		v = rec.Value.New
	}
	return p.ctx.Forward(runtime.WithValue(rec, v))
}
