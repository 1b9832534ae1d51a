package ir

import (
	"time"

	"github.com/seichedb/seiche/sql/function"
	"github.com/seichedb/seiche/sql/types"
)

// EmitKind is a query's EMIT clause.
type EmitKind uint8

const (
	// EmitNone is a query without EMIT: a pull query, or a persistent query's default.
	EmitNone EmitKind = iota
	EmitChanges
	EmitFinal
)

// WindowKind is the kind of a WINDOW clause.
type WindowKind uint8

const (
	Tumbling WindowKind = iota
	Hopping
	Session
)

func (k WindowKind) String() string { return [...]string{"TUMBLING", "HOPPING", "SESSION"}[k] }

// Window is a windowed aggregation's WINDOW clause.
type Window struct {
	Kind WindowKind
	// Size is the window size, or a session's inactivity gap.
	Size time.Duration
	// Advance is a hopping window's advance.
	Advance time.Duration
	// Grace is the GRACE PERIOD; HasGrace is false when the clause has none.
	Grace    time.Duration
	HasGrace bool
	// Retention is the RETENTION; HasRetention is false when the clause has none.
	Retention    time.Duration
	HasRetention bool
}

// JoinType is the type of a join.
type JoinType uint8

const (
	InnerJoin JoinType = iota
	LeftJoin
	RightJoin
	FullJoin
)

func (j JoinType) String() string { return [...]string{"INNER", "LEFT", "RIGHT", "FULL"}[j] }

// Within is a stream-stream join's WITHIN clause: a right row joins a left row whose timestamp is at
// most Before earlier and at most After later.
type Within struct {
	Before, After time.Duration
	// Grace is the GRACE PERIOD; HasGrace is false when the clause has none.
	Grace    time.Duration
	HasGrace bool
}

// QuerySource is one source of a query's FROM clause. Its columns occupy Input row positions
// [Offset, Offset+Width).
type QuerySource struct {
	Source *Source
	Alias  string
	Offset int
	Width  int
	// Reads says, for each of the source's columns (Input row position Offset+i), whether the
	// query's expressions read it: WHERE, the join keys, GROUP BY, PARTITION BY, the aggregate and
	// table function arguments, and the projection of a query that does not aggregate (an
	// aggregation's projection and HAVING read the Aggregate row). nil means unknown: every column.
	Reads []bool
}

// Contains reports whether Input row position i is one of the source's columns.
func (s QuerySource) Contains(i int) bool { return i >= s.Offset && i < s.Offset+s.Width }

// JoinStep is one join of the FROM clause (left-deep: step i joins the result of the previous steps
// with Sources[i+1]).
type JoinStep struct {
	Type JoinType
	// Within is set for a stream-stream join.
	Within *Within
	// LeftKey and RightKey are the equi-join expressions over the Input row, oriented so that RightKey
	// reads Sources[i+1].
	LeftKey, RightKey *Expr
}

// AggregateCall is one aggregate function call of an aggregating query; Args are evaluated over the
// Input row (after WHERE).
type AggregateCall struct {
	Name     string
	Resolved *function.Resolved
	Args     []*Expr
	// Init are the values of the call's literal initial arguments.
	Init []types.Value
	// Text is the call as ksqlDB's messages render it (COUNT(*) as COUNT(ROWTIME)).
	Text string
}

// TableFunctionCall is one table function in the projection; its values follow the Input row in the row
// the projection reads.
type TableFunctionCall struct {
	Name string
	Type *types.Type
	Impl function.TableImpl
	Args []*Expr
}

// Projected is one output column.
type Projected struct {
	Name string
	Expr *Expr
	Key  bool
}

// Query is an analyzed SELECT.
//
// Row layouts: the Input row is the concatenation, for each source in order, of its schema columns then
// ROWTIME, ROWPARTITION, ROWOFFSET (and WINDOWSTART, WINDOWEND for windowed sources). WHERE, GROUP BY,
// PARTITION BY, join keys and aggregate arguments read the Input row.
//
// For an aggregating query, HAVING and the projection read the Aggregate row: the GROUP BY values, then the
// aggregate results, then WINDOWSTART and WINDOWEND. Otherwise the projection reads the Input row followed
// by one value per table function (the current exploded element).
type Query struct {
	Sources []QuerySource
	Joins   []JoinStep
	Where   *Expr
	// Window is the WINDOW clause of a windowed aggregation, nil otherwise.
	Window *Window
	// GroupBy is empty for non-aggregating queries and for aggregations without GROUP BY.
	GroupBy    []*Expr
	Aggregates []AggregateCall
	Having     *Expr
	// PartitionBy are the PARTITION BY expressions (PARTITION BY NULL included: the result has no key).
	PartitionBy []*Expr
	TableFuncs  []TableFunctionCall
	Projection  []Projected
	Output      *types.Schema
	// IsTable is whether the result is a table (aggregation, or a non-aggregating query over a table).
	IsTable bool
	Emit    EmitKind
	// Limit is the LIMIT, parser.NoLimit (negative) when absent.
	Limit int64
}

// Aggregating reports whether the query aggregates.
func (q *Query) Aggregating() bool { return len(q.GroupBy) > 0 || len(q.Aggregates) > 0 }
