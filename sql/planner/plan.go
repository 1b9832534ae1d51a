package planner

import (
	"fmt"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// Node is a logical plan node. Each node lowers itself onto the flow its input produced.
type Node interface {
	// Describe names the node for EXPLAIN-like output ("Filter", "Aggregate(TUMBLING)", ...).
	Describe() string
	lower(e *Env, in flow) (flow, error)
}

// Plan is the logical plan of one query: Nodes run in order, the first is a Source and the last a Sink
// (or, for a transient query, an Emit).
type Plan struct {
	Query *ir.Query
	// Sink is the source a persistent query writes into; nil for a transient query.
	Sink  *ir.Source
	Nodes []Node
}

// String renders the chain of nodes.
func (p *Plan) String() string {
	s := ""
	for i, n := range p.Nodes {
		if i > 0 {
			s += " -> "
		}
		s += n.Describe()
	}
	return s
}

// Build makes the logical plan of a persistent query: q writing into sink.
func Build(q *ir.Query, sink *ir.Source) (*Plan, error) {
	nodes, err := queryNodes(q)
	if err != nil {
		return nil, err
	}
	if pn, ok := nodes[len(nodes)-1].(*ProjectNode); ok {
		pn.RowDies = true // the sink only serializes its rows
	}
	nodes = append(nodes, &SinkNode{Sink: sink, Query: q})
	return &Plan{Query: q, Sink: sink, Nodes: nodes}, nil
}

// queryNodes are the nodes of q from its source to its projection.
func queryNodes(q *ir.Query) ([]Node, error) {
	src := q.Sources[0].Source
	var nodes []Node
	source := &SourceNode{Source: src}
	if len(q.Sources) == 1 && src.Kind == ir.Stream {
		// A stream's row lives only for the record's pass through this query, so columns it does
		// not read need not be built. A table's rows are kept in its store and joined sources are
		// read whole (no pruning has been needed there yet).
		source.Reads = q.Sources[0].Reads
		source.RowDies = len(q.TableFuncs) == 0 && !q.Aggregating()
	}
	nodes = append(nodes, source)
	for i, j := range q.Joins {
		nodes = append(nodes, &JoinNode{Query: q, Index: i, Step: j})
	}
	if q.Where != nil {
		nodes = append(nodes, &FilterNode{Predicate: q.Where})
	}
	if len(q.TableFuncs) > 0 {
		if src.Kind == ir.Table {
			return nil, sqlerr.New(sqlerr.Unsupported, sqlerr.Pos{}, "planner: table functions over a table are not supported")
		}
		nodes = append(nodes, &TableFunctionNode{Calls: q.TableFuncs})
	}
	if q.Aggregating() {
		nodes = append(nodes, &AggregateNode{Query: q})
		if q.Having != nil {
			nodes = append(nodes, &HavingNode{Predicate: q.Having})
		}
		if q.Emit == ir.EmitFinal && q.Window != nil {
			nodes = append(nodes, &SuppressNode{})
		}
	} else if len(q.PartitionBy) > 0 {
		if src.Kind == ir.Table {
			return nil, sqlerr.New(sqlerr.Unsupported, sqlerr.Pos{}, "planner: PARTITION BY over a table is not supported")
		}
	}
	nodes = append(nodes, &ProjectNode{Query: q})
	return nodes, nil
}

// Env is the state shared by the queries lowered onto one builder.
type Env struct {
	B *dsl.Builder
	// raw is the raw source node of each topic.
	raw map[string]*dsl.Stream[[]byte, []byte]
	seq int
	// Materialize, when set, names the store into which the sink of a table-producing query also writes
	// what it writes to its topic (key and value bytes in the sink's formats, with the row's timestamp):
	// the store a server answers pull queries from.
	Materialize string
	// MaterializeOnly, with Materialize, keeps the sink's rows in the store without writing them to
	// its topic: the materialization of a CREATE SOURCE TABLE, whose topic is its input.
	MaterializeOnly bool
}

// NewEnv returns an Env lowering onto b.
func NewEnv(b *dsl.Builder) *Env {
	return &Env{B: b, raw: map[string]*dsl.Stream[[]byte, []byte]{}}
}

// Raw returns the raw stream of topic, adding its source node on first use.
func (e *Env) Raw(topic string) *dsl.Stream[[]byte, []byte] {
	if s, ok := e.raw[topic]; ok {
		return s
	}
	s := dsl.Source(e.B, topic, recordBytes{}, recordBytes{})
	e.raw[topic] = s
	return s
}

// recordBytes is the raw sources' serde: serde.Bytes without the copy. serde.Deserializer only
// promises data for the duration of the call, but a source's data is the input record's own bytes,
// which the runtime never reuses (it hands them to the deserialization error handler to retain, see
// runtime.DeserializationError; the test driver's PipeInput says the same of its arguments), and
// deserializeProc decodes them as soon as they arrive. Copying every record's key and value cost
// about a tenth of q0's CPU in process (benchmarks/README.md, Nexmark).
type recordBytes struct{}

func (recordBytes) Serialize(v []byte) ([]byte, error)   { return v, nil }
func (recordBytes) Deserialize(b []byte) ([]byte, error) { return b, nil }

func (e *Env) name(prefix string) string {
	e.seq++
	return fmt.Sprintf("%s-%d", prefix, e.seq)
}

// Lower adds the plan's nodes to the Env's builder.
func (e *Env) Lower(p *Plan) error {
	var f flow
	var err error
	for _, n := range p.Nodes {
		if f, err = n.lower(e, f); err != nil {
			return err
		}
	}
	return nil
}

// flow is what a node hands the next: exactly one of stream, table and wtable is set. Values are
// Input rows before the aggregation and Aggregate rows after it (see ir.Query), output rows after
// the projection.
type flow struct {
	stream *dsl.Stream[Row, Row]
	table  *dsl.Table[Row, Row]
	wtable *dsl.Table[dsl.Windowed[Row], Row]
	// wstream carries the projected rows of a windowed aggregation, keyed by window.
	wstream *dsl.Stream[dsl.Windowed[Row], Row]
	window  *ir.Window
	// windowKind is the window type of wstream's keys: TUMBLING, HOPPING or SESSION.
	windowKind string
	// keyCols are the types of the key row, valCols the columns of the value row.
	keyCols []*types.Type
	valCols []types.Column
}

// DefaultCacheBytes is ksqlDB's default cache.max.bytes.buffering (KsqlConfig sets
// ksql.streams.cache.max.bytes.buffering to 10,000,000 bytes): what a server gives a query whose
// properties do not name one.
const DefaultCacheBytes = 10_000_000

// stateful are the options of every aggregation: a record cache in front of its store, as Kafka
// Streams gives every aggregation's KTable. Its size is the query's cache.max.bytes.buffering,
// applied when the topology runs (runtime.CacheMaxBytes); ksqlDB's tests run with 0, so every
// update is forwarded as it happens. With a cache, an aggregation under EMIT CHANGES forwards a
// key's updates coalesced between commits (the last one, with its timestamp), and a
// time-windowed one under EMIT FINAL hands its suppression each window's updates coalesced, in
// the order of their last write, so a window's last update still reaches the suppression before
// any update that closes it and the final results are the same. The test drivers flush caches
// after every input record, so there only the updates one record makes to one key coalesce.
func stateful() []dsl.AggregateOpt { return []dsl.AggregateOpt{dsl.CacheBytes(DefaultCacheBytes)} }
