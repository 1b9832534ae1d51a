package engine

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/planner"
)

// materializedStore is the store of a table-producing query that pull queries read.
const materializedStore = "KSQL-MATERIALIZED"

// persistentQuery is a running (or failed) CREATE ... AS SELECT or INSERT INTO ... SELECT.
type persistentQuery struct {
	id        string
	statement string
	sink      *ir.Source
	sources   []string
	kind      string // PERSISTENT
	props     map[string]string
	topo      *runtime.Topology
	plan      *planner.Plan

	mu struct {
		sync.Mutex
		app     *runtime.App
		state   string // RUNNING, ERROR, PENDING, TERMINATED
		err     error
		cancel  context.CancelFunc
		done    chan struct{}
		started time.Time
	}
}

func (q *persistentQuery) startedAt() time.Time {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.mu.started
}

func (q *persistentQuery) State() (string, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.mu.state, q.mu.err
}

func (q *persistentQuery) app() *runtime.App {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.mu.app
}

// queryID names a persistent query as ksqlDB does: CSAS_<SINK>_<n>, CTAS_<SINK>_<n> or INSERTQUERY_<n>,
// n being the offset of its command, so every server names it alike.
func queryID(pq *analyzer.PersistentQuery, offset int64) string {
	n := strconv.FormatInt(offset, 10)
	switch {
	case pq.Insert:
		return "INSERTQUERY_" + n
	case pq.Sink.Kind == ir.Table:
		return "CTAS_" + pq.Sink.Name + "_" + n
	default:
		return "CSAS_" + pq.Sink.Name + "_" + n
	}
}

// compile lowers pq onto a topology of its own, materializing a table sink for pull queries. With
// materializeOnly the sink's rows go to the store only (a source table's materialization).
func compile(pq *analyzer.PersistentQuery, materializeOnly ...bool) (*runtime.Topology, *planner.Plan, error) {
	plan, err := planner.Build(pq.Query, pq.Sink)
	if err != nil {
		return nil, nil, err
	}
	b := dsl.NewBuilder()
	env := planner.NewEnv(b)
	env.Materialize = materializedStore
	env.MaterializeOnly = len(materializeOnly) > 0 && materializeOnly[0]
	if err := env.Lower(plan); err != nil {
		return nil, nil, err
	}
	topo, err := b.Build()
	if err != nil {
		return nil, nil, err
	}
	return topo, plan, nil
}

// newPersistentQuery compiles pq. It does not start it.
func (e *Engine) newPersistentQuery(id, statement string, pq *analyzer.PersistentQuery, props map[string]string) (*persistentQuery, error) {
	topo, plan, err := compile(pq, strings.HasPrefix(id, "CST_"))
	if err != nil {
		return nil, err
	}
	q := &persistentQuery{id: id, statement: statement, sink: pq.Sink, kind: "PERSISTENT", props: props, topo: topo, plan: plan}
	for _, s := range pq.Query.Sources {
		q.sources = append(q.sources, s.Source.Name)
	}
	q.mu.state = "PENDING"
	return q, nil
}

// queryOpts are the options of every query's runtime, whatever runs it: its application id, its
// logger, where bad records go, and the properties that choose an error policy.
func (e *Engine) queryOpts(appID string, props map[string]string) []runtime.Opt {
	opts := []runtime.Opt{
		runtime.ApplicationID(appID),
		runtime.Logger(e.log.With("app", appID)),
		runtime.ProcessingLogTopic(e.plogTopic),
		runtime.CacheMaxBytes(e.cacheMaxBytes(props)),
	}
	if strings.EqualFold(property(props, e.cfg.props, "ksql.timestamp.throw.on.invalid"), "true") {
		opts = append(opts, runtime.OnProcessingError(failOnTimestampError))
	}
	return opts
}

// cacheMaxBytes is a query's cache.max.bytes.buffering: the record cache of each of its
// aggregations' stores, from the query's properties, else the server's, else ksqlDB's default
// (10,000,000 bytes). 0 forwards every update of an aggregation as it happens, as ksqlDB's tests
// run; a cache coalesces a key's updates until the next commit.
func (e *Engine) cacheMaxBytes(props map[string]string) int64 {
	if n, ok := intProperty(props, e.cfg.props, "cache.max.bytes.buffering", 0); ok {
		return n
	}
	return planner.DefaultCacheBytes
}

// failOnTimestampError fails the query on a record whose timestamp cannot be extracted, as ksqlDB does
// under ksql.timestamp.throw.on.invalid, and skips records on any other error.
func failOnTimestampError(err error) runtime.Action {
	var te *planner.TimestampError
	if errors.As(err, &te) {
		return runtime.Fail
	}
	return runtime.Continue
}

// fromStart reports whether a query reads its sources from their start (auto.offset.reset=earliest)
// rather than from their end.
func (e *Engine) fromStart(props map[string]string) bool {
	return strings.EqualFold(property(props, e.cfg.props, "auto.offset.reset"), "earliest")
}

// intProperty is property as an integer of at least min; ok is false when it is unset or not such a
// number (the default then applies).
func intProperty(stmt, server map[string]string, name string, min int64) (n int64, ok bool) {
	v := property(stmt, server, name)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil && n >= min
}

// property looks a query property up in the statement's properties, then the server's, with or
// without ksqlDB's "ksql.streams." prefix.
func property(stmt, server map[string]string, name string) string {
	for _, m := range []map[string]string{stmt, server} {
		for _, k := range []string{name, "ksql.streams." + name} {
			if v, ok := m[k]; ok {
				return v
			}
		}
	}
	return ""
}

// stopQuery terminates q: its runtime stops, and with drop what it keeps goes too.
func (e *Engine) stopQuery(q *persistentQuery, drop bool) {
	q.mu.Lock()
	q.mu.state = "TERMINATED"
	q.mu.Unlock()
	e.be.stopQuery(q, drop)
}

// startQueries starts every registered query that is not running (after the replay).
func (e *Engine) startQueries() {
	e.mu.Lock()
	var qs []*persistentQuery
	for _, id := range e.mu.order {
		qs = append(qs, e.mu.queries[id])
	}
	e.mu.Unlock()
	for _, q := range qs {
		if st, _ := q.State(); st == "PENDING" {
			e.be.startQuery(e.ctx, q)
		}
	}
}

// stopQueries stops every query, keeping their state: the engine is stopping.
func (e *Engine) stopQueries() {
	e.mu.Lock()
	var qs []*persistentQuery
	for _, q := range e.mu.queries {
		qs = append(qs, q)
	}
	var ps []*pushQuery
	for _, p := range e.mu.transient {
		ps = append(ps, p)
	}
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, q := range qs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.be.stopQuery(q, false)
		}()
	}
	for _, p := range ps {
		p.close()
	}
	wg.Wait()
}

// queriesOf returns the ids of the queries reading and writing source name, sorted.
func (e *Engine) queriesOf(name string) (readers, writers []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.queriesOfLocked(name)
}

// REQUIRES: e.mu is held.
func (e *Engine) queriesOfLocked(name string) (readers, writers []string) {
	for id, q := range e.mu.queries {
		if strings.HasPrefix(id, "CST_") {
			continue // a source table's own materialization goes with it
		}
		if q.sink.Name == name {
			writers = append(writers, id)
		}
		for _, s := range q.sources {
			if s == name {
				readers = append(readers, id)
				break
			}
		}
	}
	sort.Strings(readers)
	sort.Strings(writers)
	return readers, writers
}

// queryList returns the persistent queries in creation order.
func (e *Engine) queryList() []*persistentQuery {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*persistentQuery, 0, len(e.mu.order))
	for _, id := range e.mu.order {
		out = append(out, e.mu.queries[id])
	}
	return out
}

// tableQuery returns the query that materializes table name, if any.
func (e *Engine) tableQuery(name string) *persistentQuery {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range e.mu.order {
		q := e.mu.queries[id]
		if q.sink.Name == name && q.sink.Kind == ir.Table && !strings.HasPrefix(id, "INSERTQUERY_") {
			return q
		}
	}
	return nil
}
