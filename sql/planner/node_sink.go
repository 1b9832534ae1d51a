package planner

import (
	"fmt"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/state"
)

// SinkNode writes the output rows to the sink's topic with its key and value formats. Windowed keys
// are written as ksqlDB writes them: the key's bytes, then the 8-byte big-endian window start (time
// windows) or session end and start (session windows).
type SinkNode struct {
	Sink  *ir.Source
	Query *ir.Query
}

// Describe implements Node.
func (n *SinkNode) Describe() string { return "Sink(" + n.Sink.Topic + ")" }

func (n *SinkNode) lower(e *Env, in flow) (flow, error) {
	keys, err := KeySerde(n.Sink)
	if err != nil {
		return flow{}, err
	}
	vals, err := ValueSerde(n.Sink)
	if err != nil {
		return flow{}, err
	}
	if in.stream != nil {
		if ts := newSinkTimestamp[Row](n.Sink); ts != nil {
			in.stream = dsl.Process(in.stream, ts)
		}
		if e.Materialize != "" && n.Sink.Kind == ir.Table {
			in.stream = materialize(e, in.stream, keys, vals)
			if e.MaterializeOnly {
				return in, nil
			}
		}
		in.stream.WithKeySerde(keys).WithValueSerde(vals).To(n.Sink.Topic)
		return in, nil
	}
	var wkeys serde.Serde[dsl.Windowed[Row]]
	if in.windowKind == "SESSION" {
		wkeys = dsl.SessionWindowedSerde(keys)
	} else {
		// The size only matters to deserialization, which the sink never does.
		wkeys = dsl.TimeWindowedSerde(keys, time.Millisecond)
	}
	if ts := newSinkTimestamp[dsl.Windowed[Row]](n.Sink); ts != nil {
		in.wstream = dsl.Process(in.wstream, ts)
	}
	if e.Materialize != "" && n.Sink.Kind == ir.Table {
		in.wstream = materialize(e, in.wstream, wkeys, vals)
		if e.MaterializeOnly {
			return in, nil
		}
	}
	in.wstream.WithKeySerde(wkeys).WithValueSerde(vals).To(n.Sink.Topic)
	return in, nil
}

// materialize writes each record of s, as the sink writes it, into the timestamped key-value store
// e.Materialize (a delete removes the key), and passes it on.
func materialize[K any](e *Env, s *dsl.Stream[K, Row], keys serde.Serde[K], vals serde.Serde[Row]) *dsl.Stream[K, Row] {
	store := e.Materialize
	e.B.AddStateStore(runtime.TimestampedKeyValueStore(store))
	return dsl.Process(s, func() runtime.Processor[K, Row, K, Row] {
		return &materializeProc[K]{store: store, keys: keys, vals: vals}
	}, dsl.Named(e.name("KSQL-MATERIALIZE")), dsl.WithStores(store), dsl.PreservesKey()).WithKeySerde(keys).WithValueSerde(vals)
}

type materializeProc[K any] struct {
	store string
	keys  serde.Serde[K]
	vals  serde.Serde[Row]
	ctx   runtime.ProcessorContext[K, Row]
	kv    state.TimestampedKeyValueStore
}

func (p *materializeProc[K]) Init(ctx runtime.ProcessorContext[K, Row]) error {
	p.ctx = ctx
	s, err := ctx.StateStore(p.store)
	if err != nil {
		return err
	}
	kv, ok := s.(state.TimestampedKeyValueStore)
	if !ok {
		return fmt.Errorf("planner: store %s is a %T, not a timestamped key-value store", p.store, s)
	}
	p.kv = kv
	return nil
}

func (p *materializeProc[K]) Close() error { return nil }

func (p *materializeProc[K]) Process(rec runtime.Record[K, Row]) error {
	kb, err := p.keys.Serialize(rec.Key)
	if err != nil {
		return err
	}
	if kb == nil {
		return p.ctx.Forward(rec)
	}
	if rec.Value == nil {
		err = p.kv.Delete(kb)
	} else {
		var vb []byte
		if vb, err = p.vals.Serialize(rec.Value); err == nil {
			if vb == nil {
				vb = []byte{}
			}
			err = p.kv.Put(kb, vb, rec.Timestamp)
		}
	}
	if err != nil {
		return err
	}
	return p.ctx.Forward(rec)
}
