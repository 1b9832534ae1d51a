package engine

import (
	"context"
	"errors"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/planner"
)

// materializedStore is the store of a table-producing query that pull queries read.
const materializedStore = "KSQL-MATERIALIZED"

// persistentQuery is a running (or failed) CREATE ... AS SELECT or INSERT INTO ... SELECT.
type persistentQuery struct {
	id        string
	statement string
	sink      *analyzer.Source
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
	case pq.Sink.Kind == parser.Table:
		return "CTAS_" + pq.Sink.Name + "_" + n
	default:
		return "CSAS_" + pq.Sink.Name + "_" + n
	}
}

// compile lowers pq onto a topology of its own, materializing a table sink for pull queries. With
// materializeOnly the sink's rows go to the store only (a source table's materialization).
func compile(pq *analyzer.PersistentQuery, materializeOnly ...bool) (*runtime.Topology, *planner.Plan, error) {
	plan, err := planner.Build(pq)
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

// runtimeOpts are the options of a query's App: its properties on top of the server's.
func (e *Engine) runtimeOpts(appID, stateDir string, props map[string]string) []runtime.Opt {
	opts := []runtime.Opt{
		runtime.ApplicationID(appID),
		runtime.Bootstrap(e.cfg.bootstrap...),
		runtime.StateDir(stateDir),
		runtime.Logger(e.log.With("app", appID)),
		runtime.CommitInterval(e.cfg.commitInterval),
		runtime.ProcessingLogTopic(e.plogTopic),
		runtime.ReplicationFactor(e.cfg.replication),
	}
	if e.cfg.advertised != "" {
		opts = append(opts, runtime.ApplicationServer(e.cfg.advertised))
	}
	// The session timeout bounds how long a dead server's tasks wait to move (ksqlDB's
	// ksql.streams.session.timeout.ms).
	session := e.cfg.sessionTimeout
	if v := property(props, e.cfg.props, "session.timeout.ms"); v != "" {
		if ms, err := strconv.Atoi(v); err == nil && ms > 0 {
			session = time.Duration(ms) * time.Millisecond
		}
	}
	opts = append(opts, runtime.SessionTimeout(session))
	// Standby replicas keep warm copies of a query's state on other servers, so that a failover
	// restores only the changelog's tail (Kafka Streams' num.standby.replicas).
	if v := property(props, e.cfg.props, "num.standby.replicas"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			opts = append(opts, runtime.StandbyReplicas(n))
		}
	}
	if session < 10*time.Second {
		opts = append(opts, runtime.HeartbeatInterval(session/5))
	}
	if v := property(props, e.cfg.props, "commit.interval.ms"); v != "" {
		if ms, err := strconv.Atoi(v); err == nil && ms >= 0 {
			opts = append(opts, runtime.CommitInterval(time.Duration(ms)*time.Millisecond))
		}
	}
	reset := kgo.NewOffset().AtEnd()
	if strings.EqualFold(property(props, e.cfg.props, "auto.offset.reset"), "earliest") {
		reset = kgo.NewOffset().AtStart()
	}
	opts = append(opts, runtime.ClientOpts(kgo.ConsumeResetOffset(reset)))
	return opts
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

// startQuery runs q's App in the background until the engine stops or the query is terminated.
func (e *Engine) startQuery(q *persistentQuery) {
	app, err := runtime.New(q.topo, e.runtimeOpts(e.appID(q.id), e.queryDir(q.id), q.props)...)
	q.mu.Lock()
	defer q.mu.Unlock()
	if err != nil {
		q.mu.state, q.mu.err = "ERROR", err
		e.log.Error("query failed to start", "query", q.id, "err", err)
		return
	}
	ctx, cancel := context.WithCancel(e.ctx)
	q.mu.app, q.mu.cancel, q.mu.state, q.mu.done = app, cancel, "RUNNING", make(chan struct{})
	q.mu.started = time.Now()
	done := q.mu.done
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(done)
		err := app.Run(ctx)
		q.mu.Lock()
		defer q.mu.Unlock()
		if err != nil && !errors.Is(err, context.Canceled) {
			q.mu.state, q.mu.err = "ERROR", err
			e.log.Error("query stopped with an error", "query", q.id, "err", err)
			e.metrics.queryErrors.Inc()
			return
		}
		if q.mu.state == "RUNNING" {
			q.mu.state = "TERMINATED"
		}
	}()
}

// stop stops q's App and waits for it; it keeps the query's state unless drop is set.
func (e *Engine) stopQuery(q *persistentQuery, drop bool) {
	q.mu.Lock()
	cancel, done := q.mu.cancel, q.mu.done
	q.mu.state = "TERMINATED"
	q.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	if drop {
		if err := os.RemoveAll(e.queryDir(q.id)); err != nil {
			e.log.Warn("removing a terminated query's state", "query", q.id, "err", err)
		}
		ctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		if _, err := e.adm.DeleteGroup(ctx, e.appID(q.id)); err != nil {
			e.log.Debug("deleting a terminated query's group", "query", q.id, "err", err)
		}
	}
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
			e.startQuery(q)
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
			q.mu.Lock()
			cancel, done := q.mu.cancel, q.mu.done
			q.mu.Unlock()
			if cancel != nil {
				cancel()
				<-done
			}
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
		if q.sink.Name == name && q.sink.Kind == parser.Table && !strings.HasPrefix(id, "INSERTQUERY_") {
			return q
		}
	}
	return nil
}
