package dsl

import "github.com/seichedb/seiche/runtime"

// ToStream returns the table's changes as a stream (KTABLE-TOSTREAM): one record per update, a
// delete being a null record (runtime.Record.Null, with the zero value) that sinks write as a
// tombstone.
func (t *Table[K, V]) ToStream(opts ...NodeOpt) *Stream[K, V] {
	c := newOpConfig(opts)
	name := t.b.nameOr(c, "KTABLE-TOSTREAM-")
	addProcessor(t.b, name, func() runtime.Processor[K, Change[V], K, V] { return &toStreamProc[K, V]{} }, t.node)
	return &Stream[K, V]{b: t.b, node: name, keys: t.keys, values: t.values}
}

type toStreamProc[K, V any] struct{ forwarder[K, V] }

func (p *toStreamProc[K, V]) Process(rec runtime.Record[K, Change[V]]) error {
	if !rec.Value.HasNew {
		var zero V
		out := runtime.WithValue(rec, zero)
		out.Null = true
		return p.ctx.Forward(out)
	}
	return p.ctx.Forward(runtime.WithValue(rec, rec.Value.New))
}
