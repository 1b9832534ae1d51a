package planner

import (
	"fmt"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/types"
)

// sinkTimestamp stamps each output record with the sink's TIMESTAMP column (WITH (TIMESTAMP=...)),
// parsed with TIMESTAMP_FORMAT when given; a record whose timestamp is NULL, negative or unparsable is
// dropped and logged, as ksqlDB does.
type sinkTimestamp[K any] struct {
	ctx    runtime.ProcessorContext[K, Row]
	col    int
	key    bool
	layout string
	name   string
}

// newSinkTimestamp returns the processor supplier for sink, or nil when it has no TIMESTAMP column.
func newSinkTimestamp[K any](sink *ir.Source) runtime.ProcessorSupplier[K, Row, K, Row] {
	if sink.TimestampColumn == "" {
		return nil
	}
	col, key := -1, false
	for i, c := range ValueColumns(sink) {
		if c.Name == sink.TimestampColumn {
			col = i
		}
	}
	if col < 0 {
		for i, c := range sink.Schema.Key() {
			if c.Name == sink.TimestampColumn {
				col, key = i, true
			}
		}
	}
	if col < 0 {
		return nil
	}
	layout := sink.Props["TIMESTAMP_FORMAT"]
	return func() runtime.Processor[K, Row, K, Row] {
		return &sinkTimestamp[K]{col: col, key: key, layout: layout, name: sink.TimestampColumn}
	}
}

func (p *sinkTimestamp[K]) Init(ctx runtime.ProcessorContext[K, Row]) error { p.ctx = ctx; return nil }
func (p *sinkTimestamp[K]) Close() error                                    { return nil }

func (p *sinkTimestamp[K]) Process(rec runtime.Record[K, Row]) error {
	var v types.Value
	switch {
	case rec.Value == nil:
		return p.ctx.Forward(rec)
	case p.key:
		k, ok := any(rec.Key).(Row)
		if ok && p.col < len(k) {
			v = k[p.col]
		}
	case p.col < len(rec.Value):
		v = rec.Value[p.col]
	}
	ts, ok, err := timestampOf(v, p.layout)
	if err != nil {
		return fmt.Errorf("planner: sink timestamp column %s: %w", p.name, err)
	}
	if !ok || ts < 0 {
		return fmt.Errorf("planner: sink timestamp column %s is NULL or negative: record dropped", p.name)
	}
	rec.Timestamp = ts
	return p.ctx.Forward(rec)
}
