package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/expr"
	"github.com/seichedb/seiche/sql/function"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/planner"
	"github.com/seichedb/seiche/sql/types"
)

// Row is one result row of a query; Tombstone marks a table row's deletion (its non-key columns are
// null).
type Row struct {
	Values    types.Row
	Tombstone bool
}

// QueryRequest is a /query or /query-stream request.
type QueryRequest struct {
	SQL              string
	Properties       map[string]string
	SessionVariables map[string]string
}

// Result is a running or finished query's output. Rows is closed when the query ends: at its
// LIMIT (Limited), at its end (pull queries), or after Close; Err then says why, nil for a normal end.
type Result struct {
	ID      string
	Pull    bool
	Columns []types.Column
	// Schema is the header schema text: "`ID` STRING KEY, `COUNT` BIGINT".
	Schema string
	Rows   <-chan Row
	// Limited is set before Rows closes when the query stopped at its LIMIT.
	Limited bool
	// scan marks a pull query over a stream, which ends with a final message as a push query does.
	scan bool

	mu    sync.Mutex
	err   error
	close func()
}

// Err returns the error that ended the query, if any; call it after Rows is closed.
func (r *Result) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Close stops the query and releases everything it holds; it is idempotent and waits for the query's
// goroutines.
func (r *Result) Close() {
	if r.close != nil {
		r.close()
	}
}

// Query starts a query statement (SELECT or PRINT): a push query (EMIT CHANGES) runs until its limit
// or Close; a pull query is answered at once.
func (e *Engine) Query(ctx context.Context, req QueryRequest) (*Result, error) {
	if e.kafka == nil {
		return nil, errNoCluster
	}
	select {
	case <-e.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	ps := parser.Parser{Vars: req.SessionVariables}
	parsed, err := ps.ParseScript(req.SQL)
	if err != nil {
		return nil, err
	}
	if len(parsed) != 1 {
		return nil, &StatementError{Code: codeBadStatement, Message: fmt.Sprintf("Expected exactly one KSQL statement; found %d instead", len(parsed))}
	}
	props := map[string]string{}
	for k, v := range req.Properties {
		props[k] = v
	}
	p := parsed[0]
	if pr, ok := p.Statement.(*parser.Print); ok {
		return e.print(ctx, pr, props)
	}
	qs, ok := p.Statement.(*parser.QueryStatement)
	if !ok {
		return nil, &StatementError{Code: codeBadStatement, Message: "The following statement types should be issued to the '/ksql' endpoint: " + p.Text}
	}
	pull := qs.Query.Emit == parser.EmitNone
	if pull {
		if err := checkPull(qs.Query); err != nil {
			return nil, err
		}
		if from := qs.Query.From; from != nil {
			if src, ok := e.meta.Source(from.Source.Name.Name); ok {
				if err := checkPullSource(qs.Query, src); err != nil {
					return nil, err
				}
			}
		}
	}
	an, err := e.analyzerFor(props).Analyze(qs, p.Text)
	if err != nil {
		if pull {
			err = wherePullError(err, qs.Query)
		}
		return nil, err
	}
	tq, ok := an.(*analyzer.TransientQuery)
	if !ok {
		return nil, &StatementError{Code: codeBadStatement, Message: "not a query: " + p.Text}
	}
	if tq.Query.Emit == ir.EmitChanges || tq.Query.Emit == ir.EmitFinal {
		return e.push(p.Text, tq.Query, props)
	}
	e.metrics.pullQueries.Inc()
	return e.pull(ctx, qs.Query, tq.Query, props)
}

// errNoCluster refuses queries on an engine without a Kafka cluster (a TestSession's): push queries and
// PRINT follow topics as a consumer does, and pull queries read their stores through runtime.Apps.
var errNoCluster = errors.New("engine: queries need a Kafka cluster")

// pushQuery is a running transient push query.
type pushQuery struct {
	id, statement string
	cancel        context.CancelFunc
	done          chan struct{}
	dir           string
}

func (p *pushQuery) close() {
	p.cancel()
	<-p.done
}

func (e *Engine) pushQueries() []*pushQuery {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*pushQuery, 0, len(e.mu.transient))
	for _, p := range e.mu.transient {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// resultColumns are a transient query's columns in the order of its SELECT list (a persistent
// query's schema has its key columns first; a transient query answers in the order asked).
func resultColumns(q *ir.Query) []types.Column {
	cols := make([]types.Column, len(q.Projection))
	for i, p := range q.Projection {
		cols[i] = types.Column{Name: p.Name, Type: p.Expr.Type}
		if p.Key {
			cols[i].Namespace = types.NamespaceKey
		}
	}
	return cols
}

// rowOrder maps a transient query's result back to SELECT order. The projection splits each result
// into key columns, in the order of the output schema's key, and value columns, in SELECT order; slot
// i of the SELECT list is key[keyAt[i]] when keyAt[i] >= 0, the next value column when it is
// notKey, and null for a key column the key row lacks.
type rowOrder struct{ keyAt []int }

const notKey = -1

func newRowOrder(q *ir.Query) rowOrder {
	keys := q.Output.Key()
	o := rowOrder{keyAt: make([]int, len(q.Projection))}
	for i, p := range q.Projection {
		o.keyAt[i] = notKey
		if !p.Key {
			continue
		}
		o.keyAt[i] = len(keys) // past the key row: null
		for j, k := range keys {
			if k.Name == p.Name {
				o.keyAt[i] = j
			}
		}
	}
	return o
}

// row puts one result's key and value rows back in SELECT order.
func (o rowOrder) row(key, val types.Row) types.Row {
	row := make(types.Row, len(o.keyAt))
	vi := 0
	for i, k := range o.keyAt {
		switch {
		case k != notKey:
			if k < len(key) {
				row[i] = key[k]
			}
		default:
			if vi < len(val) {
				row[i] = val[vi]
			}
			vi++
		}
	}
	return row
}

// pushSchema renders a push query's columns: without KEY markers, as ksqlDB's push query headers.
func pushSchema(cols []types.Column) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("`" + c.Name + "` " + c.Type.String())
	}
	return b.String()
}

// push starts a transient push query: an App of its own, with a unique application id, that emits
// rows to the result until its LIMIT or Close.
func (e *Engine) push(text string, q *ir.Query, props map[string]string) (*Result, error) {
	id := "transient_" + strings.ReplaceAll(q.Sources[0].Source.Name, "`", "") + "_" + randomID()
	rows := make(chan Row, 64)
	ctx, cancel := context.WithCancel(e.ctx)
	cols := resultColumns(q)
	res := &Result{ID: id, Columns: cols, Schema: pushSchema(cols), Rows: rows}
	var sent int64
	order := newRowOrder(q)
	emit := func(em planner.Emitted) error {
		if q.Limit >= 0 && sent >= q.Limit {
			return nil
		}
		if em.Value == nil && !q.IsTable {
			return nil // a stream's record without a value: nothing to show
		}
		r := Row{Values: order.row(em.Key, em.Value), Tombstone: em.Value == nil}
		select {
		case rows <- r:
		case <-ctx.Done():
			return nil
		}
		e.metrics.pushRows.Inc()
		sent++
		if q.Limit >= 0 && sent >= q.Limit {
			res.mu.Lock()
			res.Limited = true
			res.mu.Unlock()
			cancel()
		}
		return nil
	}
	if q.Limit == 0 {
		close(rows)
		cancel()
		res.Limited = true
		return res, nil
	}
	plan, err := planner.BuildTransient(q, emit)
	if err != nil {
		cancel()
		return nil, err
	}
	b := dsl.NewBuilder()
	if err := planner.NewEnv(b).Lower(plan); err != nil {
		cancel()
		return nil, err
	}
	topo, err := b.Build()
	if err != nil {
		cancel()
		return nil, err
	}
	dir, err := os.MkdirTemp(e.transientDir(), id+"-")
	if err != nil {
		cancel()
		return nil, err
	}
	appID := "_seiche-" + e.cfg.serviceID + "-" + id
	opts := e.kafka.appOpts(appID, dir, props)
	opts = append(opts, runtime.CommitInterval(time.Hour), runtime.SessionTimeout(6*time.Second), runtime.HeartbeatInterval(time.Second))
	app, err := runtime.New(topo, opts...)
	if err != nil {
		cancel()
		os.RemoveAll(dir)
		return nil, err
	}
	pq := &pushQuery{id: id, statement: text, cancel: cancel, done: make(chan struct{}), dir: dir}
	e.mu.Lock()
	e.mu.transient[id] = pq
	e.mu.Unlock()
	e.metrics.pushQueries.Inc()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(pq.done)
		err := app.Run(ctx)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			res.mu.Lock()
			res.err = err
			res.mu.Unlock()
		}
		close(rows)
		e.releasePush(pq, appID)
	}()
	var once sync.Once
	res.close = func() {
		once.Do(func() {
			cancel()
			// Drain so a task blocked on a full channel can stop.
			for range rows {
			}
			<-pq.done
		})
	}
	return res, nil
}

// releasePush removes what a finished push query leaves: its state directory and consumer group.
func (e *Engine) releasePush(p *pushQuery, appID string) {
	e.mu.Lock()
	delete(e.mu.transient, p.id)
	e.mu.Unlock()
	e.metrics.pushQueries.Dec()
	if err := os.RemoveAll(p.dir); err != nil {
		e.log.Warn("removing a push query's state", "dir", p.dir, "err", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = e.kafka.adm.DeleteGroup(ctx, appID)
}

// pullRow is a source row read for a pull query.
type pullRow struct {
	key, value []byte
	ts         int64
	partition  int32
	offset     int64
}

// pull answers a pull query from the materialized store of the table it reads, or by scanning the
// topic of the stream it reads.
func (e *Engine) pull(ctx context.Context, pq *parser.Query, q *ir.Query, props map[string]string) (*Result, error) {
	if len(q.Sources) != 1 || len(q.Joins) > 0 {
		return nil, &StatementError{Code: codeBadStatement, Message: "Pull queries don't support JOIN clauses."}
	}
	if q.Aggregating() {
		return nil, &StatementError{Code: codeBadStatement, Message: "Pull queries don't support GROUP BY clauses."}
	}
	src := q.Sources[0].Source
	if pq.Limit != parser.NoLimit && !enabled(props, e.cfg.props, propLimit) {
		return nil, &StatementError{Code: codeBadStatement, Message: "LIMIT clause in pull queries is currently disabled. You can enable them by setting ksql.query.pull.limit.clause.enabled=true. See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a push query."}
	}
	if src.Kind == ir.Table && !enabled(props, e.cfg.props, propTableScan) {
		if err := checkKeyLookup(pq, src); err != nil {
			return nil, err
		}
	}
	ev, err := newRowEvaluator(src, q)
	if err != nil {
		return nil, err
	}
	if src.Kind == ir.Table && src.Window == "" {
		ev.key, ev.hasKey = lookupKey(pq.Where, src)
	}
	var rows []pullRow
	if src.Kind == ir.Table {
		tq := e.tableQuery(src.Name)
		if tq == nil {
			return nil, &StatementError{Code: codeBadStatement, Message: fmt.Sprintf("The `%s` table isn't queryable. To derive a queryable table, you can do 'CREATE TABLE QUERYABLE_%s AS SELECT * FROM %s'. See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a push query.", src.Name, src.Name, src.Name)}
		}
		rows, err = e.readMaterialized(ctx, tq, ev, props)
	} else {
		rows, err = e.kafka.scanTopic(ctx, src.Topic)
	}
	if err != nil {
		return nil, err
	}
	out := make(chan Row, len(rows))
	var n int64
	for _, r := range rows {
		if q.Limit >= 0 && n >= q.Limit {
			break
		}
		row, ok, err := ev.eval(r)
		if err != nil {
			return nil, err
		}
		if ok {
			out <- Row{Values: row}
			n++
		}
	}
	close(out)
	cols := resultColumns(q)
	res := &Result{ID: "query_" + randomID(), Pull: true, Columns: cols, Schema: pullSchema(src, cols), Rows: out}
	if src.Kind == ir.Stream {
		// A scan of a stream ends like a push query that ran out of input: ksqlDB's "Query Completed",
		// or "Limit Reached" when its LIMIT cut it.
		res.Schema, res.scan = pushSchema(cols), true
		res.Limited = q.Limit >= 0 && n >= q.Limit
	}
	return res, nil
}

// scanTopic reads a topic from its start to the end offsets it has now: a pull query on a stream.
func (k *kafkaBackend) scanTopic(ctx context.Context, topic string) ([]pullRow, error) {
	ends, err := k.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	starts, err := k.adm.ListStartOffsets(ctx, topic)
	if err != nil {
		return nil, err
	}
	want := map[int32]int64{}
	offsets := map[int32]kgo.Offset{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err == nil {
			if s, ok := starts.Lookup(topic, o.Partition); ok && s.Offset < o.Offset {
				want[o.Partition] = o.Offset
				offsets[o.Partition] = kgo.NewOffset().AtStart()
			}
		}
	})
	if len(want) == 0 {
		return nil, nil
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(k.bootstrap...), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var rows []pullRow
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("scanning %s: %w", topic, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := want[r.Partition]
			if !ok || r.Offset >= end {
				return
			}
			rows = append(rows, pullRow{key: r.Key, value: r.Value, ts: r.Timestamp.UnixMilli(), partition: r.Partition, offset: r.Offset})
			if r.Offset+1 >= end {
				delete(want, r.Partition)
			}
		})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].partition < rows[j].partition })
	return rows, nil
}

// rowEvaluator turns stored records into a pull query's Input rows and evaluates WHERE and the
// projection over them.
type rowEvaluator struct {
	src        *ir.Source
	q          *ir.Query
	keys, vals interface {
		Deserialize([]byte) (types.Row, error)
	}
	keyPos, valPos []int
	windowSize     int64
	key            []byte // the serialized key of a single-key lookup, if WHERE is one
	hasKey         bool
}

func newRowEvaluator(src *ir.Source, q *ir.Query) (*rowEvaluator, error) {
	ks, err := planner.KeySerde(src)
	if err != nil {
		return nil, err
	}
	vs, err := planner.ValueSerde(src)
	if err != nil {
		return nil, err
	}
	ev := &rowEvaluator{src: src, q: q, keys: ks, vals: vs, windowSize: planner.WindowSize(src)}
	for i, c := range src.Schema.Columns {
		switch c.Namespace {
		case types.NamespaceKey:
			ev.keyPos = append(ev.keyPos, i)
		case types.NamespaceHeader:
		default:
			ev.valPos = append(ev.valPos, i)
		}
	}
	return ev, nil
}

// lookupKey returns the serialized key when the query is a lookup of one key.
func (ev *rowEvaluator) lookupKey() ([]byte, bool) { return ev.key, ev.hasKey }

func (ev *rowEvaluator) eval(r pullRow) (types.Row, bool, error) {
	kb := r.key
	var wstart, wend int64
	windowed := ev.src.Window != ""
	if windowed && kb != nil {
		var err error
		if kb, wstart, wend, err = planner.SplitWindowedKey(ev.src, kb, ev.windowSize); err != nil {
			return nil, false, nil // a record a query could not read either
		}
	}
	key, err := ev.keys.Deserialize(kb)
	if err != nil {
		return nil, false, nil // a record a query could not read either
	}
	if r.value == nil {
		return nil, false, nil
	}
	val, err := ev.vals.Deserialize(r.value)
	if err != nil || val == nil {
		return nil, false, nil
	}
	n := len(ev.src.Schema.Columns)
	width := n + 3
	if windowed {
		width += 2
	}
	row := make(types.Row, width)
	for i, pos := range ev.keyPos {
		if i < len(key) {
			row[pos] = key[i]
		}
	}
	for i, pos := range ev.valPos {
		if i < len(val) {
			row[pos] = val[i]
		}
	}
	row[n], row[n+1], row[n+2] = r.ts, r.partition, r.offset
	if windowed {
		row[n+3], row[n+4] = wstart, wend
	}
	if ev.q.Where != nil {
		v, err := ev.q.Where.Eval(row)
		if err != nil {
			return nil, false, nil
		}
		if !types.IsTrue(v) {
			return nil, false, nil
		}
	}
	out := make(types.Row, len(ev.q.Projection))
	for i, p := range ev.q.Projection {
		v, err := p.Expr.Eval(row)
		if err != nil {
			return nil, false, err
		}
		out[i] = v
	}
	return out, true, nil
}

// removeTransientDirs clears push-query state left by a previous process that died.
func (e *Engine) removeTransientDirs() {
	_ = os.RemoveAll(filepath.Join(e.cfg.dataDir, "transient"))
}

// pullSchema renders a pull query's columns, key columns marked KEY, and for a windowed source the
// window bounds too: they are part of each row's key.
func pullSchema(src *ir.Source, cols []types.Column) string {
	var b strings.Builder
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("`" + c.Name + "` " + c.Type.String())
		if c.Namespace == types.NamespaceKey || (src.Window != "" && (c.Name == "WINDOWSTART" || c.Name == "WINDOWEND")) {
			b.WriteString(" KEY")
		}
	}
	return b.String()
}

// pullHint ends the messages of what pull queries cannot do, as ksqlDB's.
const pullHint = " See https://cnfl.io/queries for more info.\nAdd EMIT CHANGES if you intended to issue a push query."

// checkPull refuses what a pull query cannot do, with ksqlDB's messages: joins, windows, grouping, a
// negative LIMIT, and ROWPARTITION or ROWOFFSET (a materialized row has no offset).
func checkPull(q *parser.Query) error {
	bad := func(msg string) error { return &StatementError{Code: codeBadStatement, Message: msg} }
	switch {
	case len(q.From.Joins) > 0:
		return bad("Pull queries don't support JOIN clauses." + pullHint)
	case q.Window != nil:
		return bad("Pull queries don't support WINDOW clauses." + pullHint)
	case len(q.GroupBy) > 0:
		return bad("Pull queries don't support GROUP BY clauses." + pullHint)
	case len(q.PartitionBy) > 0:
		return bad("Pull queries don't support PARTITION BY clauses." + pullHint)
	case q.Having != nil:
		return bad("Pull queries don't support HAVING clauses." + pullHint)
	case q.Limit < 0 && q.Limit != parser.NoLimit:
		return bad("Pull queries don't support negative integers in the LIMIT clause. See https://cnfl.io/queries for more info.")
	}
	disallowed := func(e parser.Expr) []string {
		var names []string
		analyzer.Walk(e, func(x parser.Expr) {
			if cr, ok := x.(*parser.ColumnRef); ok && (cr.Name.Name == "ROWPARTITION" || cr.Name.Name == "ROWOFFSET") {
				names = append(names, "`"+cr.Name.Name+"`")
			}
		})
		return names
	}
	var inSelect []string
	for _, it := range q.Select {
		if it.Expr != nil {
			inSelect = append(inSelect, disallowed(it.Expr)...)
		}
	}
	if len(inSelect) > 0 {
		return bad("Pull queries don't support the following columns in SELECT clauses: " + strings.Join(inSelect, ", "))
	}
	if w := disallowed(q.Where); len(w) > 0 {
		return bad("Pull queries don't support the following columns in WHERE clauses: " + strings.Join(w, ", "))
	}
	return nil
}

// lookupKey returns the serialized key of a pull query whose WHERE pins the table's only key column
// with "KEY = constant" (alone or ANDed with other conditions), so that it is answered with one Get per
// partition instead of a scan. Anything else, or a constant that does not convert exactly, scans; WHERE
// is evaluated over the rows found either way.
func lookupKey(where parser.Expr, src *ir.Source) ([]byte, bool) {
	keys := src.Schema.Key()
	if len(keys) != 1 || where == nil {
		return nil, false
	}
	var found parser.Expr
	var visit func(parser.Expr)
	visit = func(e parser.Expr) {
		b, ok := e.(*parser.Binary)
		if !ok {
			return
		}
		if b.Op == parser.OpAnd {
			visit(b.L)
			visit(b.R)
			return
		}
		if b.Op != parser.OpEq {
			return
		}
		if cr, ok := b.L.(*parser.ColumnRef); ok && cr.Name.Name == keys[0].Name && !referencesColumn(b.R) {
			found = b.R
		} else if cr, ok := b.R.(*parser.ColumnRef); ok && cr.Name.Name == keys[0].Name && !referencesColumn(b.L) {
			found = b.L
		}
	}
	visit(where)
	if found == nil {
		return nil, false
	}
	c := &expr.Compiler{Scope: &expr.Scope{}, Funcs: function.Builtins()}
	ce, err := c.Compile(found)
	if err != nil || !ce.Const || !ce.Type.Equal(keys[0].Type) {
		return nil, false
	}
	v, err := ce.Eval(nil)
	if err != nil || v == nil {
		return nil, false
	}
	ks, err := planner.KeySerde(src)
	if err != nil {
		return nil, false
	}
	kb, err := ks.Serialize(types.Row{v})
	if err != nil || kb == nil {
		return nil, false
	}
	return kb, true
}
