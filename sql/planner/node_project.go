package planner

import (
	"fmt"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/types"
)

// ProjectNode evaluates the projection and splits its result into the output key (the key columns,
// in the output schema's order) and value. After it the flow is a stream of output rows: a table's
// changes become records, a delete a record with a nil value. A column whose expression fails to
// evaluate is NULL and the failure is logged, as ksqlDB's SelectValueMapper does: the record is kept.
type ProjectNode struct {
	Query *ir.Query
	// RowDies says that the rows it makes die with the record's pass (a sink only serializes them;
	// an Emit keeps them): the projection then writes every record's value into the same row.
	RowDies bool
}

// projection is where the projected columns go, computed once when the node is lowered so that a
// record costs no look-up: slots holds, per projected column, its position in the output key (a key
// column) or value, -1 for a key column the output does not have; nKey and nVal are the widths.
type projection struct {
	*ProjectNode
	slots      []int
	nKey, nVal int
}

// Describe implements Node.
func (n *ProjectNode) Describe() string { return "Project" }

// keySlot returns the position of key column name in the output key.
func (n *ProjectNode) keySlot(name string) int {
	for i, c := range n.Query.Output.Key() {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// layout returns the node's projection.
func (n *ProjectNode) layout() *projection {
	pr := &projection{ProjectNode: n, nKey: len(n.Query.Output.Key()), slots: make([]int, len(n.Query.Projection))}
	for i, p := range n.Query.Projection {
		if p.Key {
			pr.slots[i] = n.keySlot(p.Name)
		} else {
			pr.slots[i] = pr.nVal
			pr.nVal++
		}
	}
	return pr
}

// split evaluates the projection over row; a failing expression is reported to warn and gives NULL.
// The value is written into out when it is not nil (the processor's row, see ProjectNode.RowDies).
func (pr *projection) split(row Row, warn func(error), out Row) (Row, Row, error) {
	var k Row
	if pr.nKey > 0 {
		k = make(Row, pr.nKey)
	}
	v := out
	if v == nil {
		v = make(Row, pr.nVal)
	}
	for i, p := range pr.Query.Projection {
		x, err := p.Expr.Eval(row)
		if err != nil {
			warn(fmt.Errorf("planner: error computing expression %s for column %s: %w", p.Expr.Text, p.Name, err))
			x = nil
		}
		switch slot := pr.slots[i]; {
		case !p.Key:
			v[slot] = x
		case slot >= 0:
			k[slot] = x
		}
	}
	return k, v, nil
}

// keyOnly evaluates the key columns of the projection over a row that holds only key values, for a
// delete: the expressions of key columns read nothing else.
func (n *ProjectNode) keyOnly(row Row) (Row, error) {
	var k Row
	if nk := len(n.Query.Output.Key()); nk > 0 {
		k = make(Row, nk)
	}
	for _, p := range n.Query.Projection {
		if !p.Key {
			continue
		}
		x, err := p.Expr.Eval(row)
		if err != nil {
			return nil, err
		}
		if i := n.keySlot(p.Name); i >= 0 {
			k[i] = x
		}
	}
	return k, nil
}

// deleteRow builds the row a delete of key k is evaluated over.
func (n *ProjectNode) deleteRow(k Row, in flow) Row {
	q := n.Query
	if q.Aggregating() {
		row := make(Row, len(in.valCols))
		copy(row, k)
		return row
	}
	row := make(Row, len(in.valCols))
	src := q.Sources[0].Source
	i := 0
	for pos, c := range src.Schema.Columns {
		if c.Namespace == types.NamespaceKey && i < len(k) {
			row[pos] = k[i]
			i++
		}
	}
	return row
}

func (n *ProjectNode) lower(e *Env, in flow) (flow, error) {
	pr := n.layout()
	reuse := 0 // the width of the row each processor reuses, 0 for a new row per record
	if n.RowDies {
		reuse = pr.nVal
	}
	out := flow{window: in.window}
	switch {
	case in.stream != nil && n.Query.Sources[0].Source.Window != "" && !n.Query.Aggregating():
		// A windowed source passed through keeps its windows: WINDOWSTART and WINDOWEND close its Input row.
		out.windowKind = n.Query.Sources[0].Source.Window
		w := len(in.valCols)
		out.wstream = project(in.stream, reuse, func(_ Row, row Row, warn func(error), into Row) (dsl.Windowed[Row], Row, error) {
			if row == nil {
				return dsl.Windowed[Row]{}, nil, fmt.Errorf("planner: null value of a windowed stream: dropped")
			}
			k, v, err := pr.split(row, warn, into)
			ws, _ := row[w-2].(int64)
			we, _ := row[w-1].(int64)
			return dsl.Windowed[Row]{Key: k, Window: dsl.Window{Start: ws, End: we}}, v, err
		})
	case in.stream != nil:
		partitioned := len(n.Query.PartitionBy) > 0
		out.stream = project(in.stream, reuse, func(k Row, row Row, warn func(error), into Row) (Row, Row, error) {
			if row == nil && partitioned {
				// A null value has nothing to partition by: it passes on with a null key.
				return nil, nil, nil
			}
			if row == nil {
				key, err := n.keyOnly(n.deleteRow(k, in))
				return key, nil, err
			}
			return pr.split(row, warn, into)
		})
	case in.table != nil:
		out.stream = project(in.table.ToStream(), reuse, func(k Row, row Row, warn func(error), into Row) (Row, Row, error) {
			if row == nil {
				key, err := n.keyOnly(n.deleteRow(k, in))
				return key, nil, err
			}
			return pr.split(row, warn, into)
		})
	default:
		out.wstream = project(in.wtable.ToStream(), reuse, func(k dsl.Windowed[Row], row Row, warn func(error), into Row) (dsl.Windowed[Row], Row, error) {
			if row == nil {
				r := n.deleteRow(k.Key, in)
				if len(r) >= 2 && n.Query.Window != nil {
					r[len(r)-2], r[len(r)-1] = k.Window.Start, k.Window.End
				}
				key, err := n.keyOnly(r)
				return dsl.Windowed[Row]{Key: key, Window: k.Window}, nil, err
			}
			key, val, err := pr.split(row, warn, into)
			return dsl.Windowed[Row]{Key: key, Window: k.Window}, val, err
		})
		out.windowKind = n.Query.Window.Kind.String()
	}
	return out, nil
}

// project maps each record of s with fn, which may report a failure that does not drop the record
// (a projected column that is NULL instead) through its warn argument: the task's logger gets it.
// With reuse > 0, fn's into is a row of that width that fn may return as the value, the same for
// every record of a processor and cleared before each (ProjectNode.RowDies); otherwise it is nil.
func project[KIn, KOut any](s *dsl.Stream[KIn, Row], reuse int, fn func(k KIn, row Row, warn func(error), into Row) (KOut, Row, error)) *dsl.Stream[KOut, Row] {
	return dsl.Process(s, func() runtime.Processor[KIn, Row, KOut, Row] { return &projectProc[KIn, KOut]{fn: fn, reuse: reuse} })
}

type projectProc[KIn, KOut any] struct {
	fn    func(k KIn, row Row, warn func(error), into Row) (KOut, Row, error)
	reuse int
	ctx   runtime.ProcessorContext[KOut, Row]
	// warnFn is p.warn, made once: a method value passed on is an allocation each time.
	warnFn func(error)
	// into is the row reused for every record's value, when reuse > 0.
	into Row
}

func (p *projectProc[KIn, KOut]) Init(ctx runtime.ProcessorContext[KOut, Row]) error {
	p.ctx = ctx
	p.warnFn = p.warn
	if p.reuse > 0 {
		p.into = make(Row, p.reuse)
	}
	return nil
}

func (p *projectProc[KIn, KOut]) Close() error { return nil }

func (p *projectProc[KIn, KOut]) Process(rec runtime.Record[KIn, Row]) error {
	clear(p.into)
	k, v, err := p.fn(rec.Key, rec.Value, p.warnFn, p.into)
	if err != nil {
		return err
	}
	return p.ctx.Forward(runtime.WithKeyValue(rec, k, v))
}

func (p *projectProc[KIn, KOut]) warn(err error) {
	md, _ := p.ctx.RecordMetadata()
	p.ctx.Logger().Warn("planner: projection: column set to NULL", "err", err, "topic", md.Topic,
		"partition", md.Partition, "offset", md.Offset)
}
