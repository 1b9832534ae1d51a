package planner

import (
	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/ir"
)

// Emitted is one result row of a transient (push) query: the projection's key and value rows, the
// record's timestamp, and its window when the result is windowed. Value is nil for a table's delete.
type Emitted struct {
	Key, Value Row
	Timestamp  int64
	Window     *dsl.Window
}

// EmitNode ends a transient query: each output row goes to Fn instead of a topic. Fn runs on the task's
// goroutine; an error it returns is a processing error of that record.
type EmitNode struct {
	Fn func(Emitted) error
}

// Describe implements Node.
func (n *EmitNode) Describe() string { return "Emit" }

func (n *EmitNode) lower(e *Env, in flow) (flow, error) {
	if in.stream != nil {
		dsl.Process(in.stream, func() runtime.Processor[Row, Row, Row, Row] { return &emitProc[Row]{fn: n.Fn} },
			dsl.Named(e.name("KSQL-EMIT")))
		return in, nil
	}
	dsl.Process(in.wstream, func() runtime.Processor[dsl.Windowed[Row], Row, Row, Row] {
		return &emitProc[dsl.Windowed[Row]]{fn: n.Fn}
	}, dsl.Named(e.name("KSQL-EMIT")))
	return in, nil
}

type emitProc[K any] struct {
	fn func(Emitted) error
}

func (p *emitProc[K]) Init(runtime.ProcessorContext[Row, Row]) error { return nil }
func (p *emitProc[K]) Close() error                                  { return nil }

func (p *emitProc[K]) Process(rec runtime.Record[K, Row]) error {
	out := Emitted{Value: rec.Value, Timestamp: rec.Timestamp}
	switch k := any(rec.Key).(type) {
	case Row:
		out.Key = k
	case dsl.Windowed[Row]:
		w := k.Window
		out.Key, out.Window = k.Key, &w
	}
	return p.fn(out)
}

// BuildTransient makes the logical plan of a transient push query: the nodes of a persistent query with
// an EmitNode calling emit in place of the sink.
func BuildTransient(q *ir.Query, emit func(Emitted) error) (*Plan, error) {
	nodes, err := queryNodes(q)
	if err != nil {
		return nil, err
	}
	return &Plan{Query: q, Nodes: append(nodes, &EmitNode{Fn: emit})}, nil
}
