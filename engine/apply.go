package engine

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/parser"
)

// distributed reports whether a statement changes the catalog or the query set, and so goes through
// the command topic.
func distributed(an analyzer.Analyzed) bool {
	switch s := an.(type) {
	case *analyzer.CreateSource, *analyzer.CreateType, *analyzer.DropSource, *analyzer.DropType, *analyzer.PersistentQuery:
		return true
	case *analyzer.Other:
		_, ok := s.Statement.(*parser.Terminate)
		return ok
	}
	return false
}

// analyzerFor returns an analyzer over the engine's metastore with the given properties in force.
func (e *Engine) analyzerFor(props map[string]string) *analyzer.Analyzer {
	a := analyzer.New(e.meta)
	for k, v := range e.cfg.props {
		a.Props[k] = v
	}
	for k, v := range props {
		a.Props[k] = v
	}
	return a
}

// validate checks what the analyzer does not: the statement's effect on running queries and topics.
// apply runs it again when the command comes back from the log; until then it only reads.
func (e *Engine) validate(ctx context.Context, an analyzer.Analyzed) error {
	switch s := an.(type) {
	case *analyzer.CreateSource:
		return e.checkSourceTopic(ctx, s.Source)
	case *analyzer.DropSource:
		if s.Source != nil {
			return e.checkDrop(s.Source.Name)
		}
	case *analyzer.PersistentQuery:
		if _, _, err := compile(s); err != nil {
			return err
		}
		if s.OrReplace {
			if _, err := e.replaceable(s); err != nil {
				return err
			}
		}
	case *analyzer.Other:
		if t, ok := s.Statement.(*parser.Terminate); ok && !t.All {
			e.mu.Lock()
			_, ok := e.mu.queries[strings.ToUpper(t.QueryID)]
			e.mu.Unlock()
			if !ok {
				return fmt.Errorf("Unknown queryId: %s", strings.ToUpper(t.QueryID))
			}
		}
	}
	return nil
}

func (e *Engine) checkDrop(name string) error {
	readers, writers := e.queriesOf(name)
	if len(readers) == 0 && len(writers) == 0 {
		return nil
	}
	return fmt.Errorf("Cannot drop %s.\nThe following queries read from this source: [%s].\nThe following queries write into this source: [%s].\nYou need to terminate them before dropping %s.",
		name, strings.Join(readers, ", "), strings.Join(writers, ", "), name)
}

// checkSourceTopic refuses CREATE STREAM|TABLE over a topic that does not exist without PARTITIONS,
// and one whose partition count differs from PARTITIONS, with ksqlDB's messages.
func (e *Engine) checkSourceTopic(ctx context.Context, src *ir.Source) error {
	parts, exists, err := e.be.topicPartitions(ctx, src.Topic)
	if err != nil {
		return err
	}
	want, given := src.Props["PARTITIONS"]
	if !exists {
		if !given {
			return fmt.Errorf("Topic '%s' does not exist. If you want to create a new topic for the %s please re-run the statement providing the required 'PARTITIONS' configuration in the WITH clause (and optionally 'REPLICAS'). For example: CREATE %s %s (ID INT) WITH (KAFKA_TOPIC='%s', PARTITIONS=2, REPLICAS=1, FORMAT='JSON');",
				src.Topic, strings.ToLower(src.Kind.String()), src.Kind, src.Name, src.Topic)
		}
		return nil
	}
	if given {
		if n, err := strconv.Atoi(want); err == nil && int32(n) != parts {
			return fmt.Errorf("A Kafka topic with the name '%s' already exists, with different partition/replica configuration than required. KSQL expects %d partitions (topic has %d), 1 replication factor (topic has 1).", src.Topic, n, parts)
		}
	}
	return nil
}

// apply executes a command: the only place the metastore and the query set change.
func (e *Engine) apply(ctx context.Context, offset int64, c command, replaying bool) commandResult {
	var ps parser.Parser
	parsed, err := ps.ParseScript(c.Statement)
	if err != nil {
		return commandResult{err: err}
	}
	if len(parsed) != 1 {
		return commandResult{err: fmt.Errorf("engine: command at offset %d holds %d statements", offset, len(parsed))}
	}
	a := e.analyzerFor(c.Properties)
	an, err := a.Analyze(parsed[0].Statement, parsed[0].Text)
	if err != nil {
		return commandResult{err: err}
	}
	switch s := an.(type) {
	case *analyzer.CreateSource:
		if _, exists := e.meta.Source(s.Source.Name); exists && s.IfNotExists {
			return commandResult{message: kindTitle(s.Source.Kind) + " already exists."}
		}
		if n, ok := s.Source.Props["PARTITIONS"]; ok && !replaying {
			parts, _ := strconv.Atoi(n)
			if err := e.ensureTopic(ctx, s.Source.Topic, int32(parts), s.Source.Props); err != nil {
				return commandResult{err: err}
			}
		}
		a.Apply(an)
		res := commandResult{message: kindTitle(s.Source.Kind) + " created"}
		if s.Source.ReadOnly && s.Source.Kind == ir.Table {
			// ksqlDB materializes a source table so that pull queries can read it.
			if err := e.materializeSource(ctx, offset, s.Source, replaying); err != nil {
				e.log.Warn("source table not materialized", "table", s.Source.Name, "err", err)
			}
		}
		return res
	case *analyzer.CreateType:
		a.Apply(an)
		return commandResult{message: "Created type"}
	case *analyzer.DropType:
		a.Apply(an)
		return commandResult{message: "Dropped type"}
	case *analyzer.DropSource:
		if s.Source == nil {
			return commandResult{message: "Source does not exist."}
		}
		if err := e.checkDrop(s.Source.Name); err != nil {
			return commandResult{err: err}
		}
		e.dropMaterialization(s.Source.Name)
		a.Apply(an)
		if s.DeleteTopic && !replaying {
			if err := e.be.deleteTopic(ctx, s.Source.Topic); err != nil {
				e.log.Warn("deleting a dropped source's topic", "topic", s.Source.Topic, "err", err)
			}
		}
		return commandResult{message: "Source `" + s.Source.Name + "` (topic: " + s.Source.Topic + ") was dropped."}
	case *analyzer.PersistentQuery:
		return e.applyQuery(ctx, offset, c, s, a, replaying)
	case *analyzer.Other:
		if t, ok := s.Statement.(*parser.Terminate); ok {
			return e.applyTerminate(t)
		}
	}
	return commandResult{err: fmt.Errorf("engine: statement is not a command: %s", c.Statement)}
}

func (e *Engine) applyQuery(ctx context.Context, offset int64, c command, pq *analyzer.PersistentQuery, a *analyzer.Analyzer, replaying bool) commandResult {
	kind := kindTitle(pq.Sink.Kind)
	if !pq.Insert {
		if _, exists := e.meta.Source(pq.Sink.Name); exists && pq.IfNotExists {
			return commandResult{message: kind + " already exists."}
		}
	}
	id := queryID(pq, offset)
	var old *persistentQuery
	if pq.OrReplace {
		var err error
		if old, err = e.replaceable(pq); err != nil {
			return commandResult{err: err}
		}
		if old != nil {
			// The new query takes the old one's id: its consumer group and state, so it goes on
			// from where the old one stopped.
			id = old.id
		}
	}
	q, err := e.newPersistentQuery(id, c.Statement, pq, c.Properties)
	if err != nil {
		return commandResult{err: err}
	}
	if !pq.Insert && !replaying {
		parts := int32(0)
		if n, ok := pq.Sink.Props["PARTITIONS"]; ok {
			p, _ := strconv.Atoi(n)
			parts = int32(p)
		} else {
			p, _, err := e.be.topicPartitions(ctx, pq.Query.Sources[0].Source.Topic)
			if err != nil {
				return commandResult{err: err}
			}
			parts = p
		}
		if parts <= 0 {
			parts = 1
		}
		if err := e.ensureTopic(ctx, pq.Sink.Topic, parts, pq.Sink.Props); err != nil {
			return commandResult{err: err}
		}
	}
	if old != nil {
		e.stopQuery(old, false)
		e.meta.DeleteSource(pq.Sink.Name)
	}
	a.Apply(pq)
	e.mu.Lock()
	if old == nil {
		e.mu.order = append(e.mu.order, id)
	}
	e.mu.queries[id] = q
	e.mu.Unlock()
	if !replaying {
		e.be.startQuery(ctx, q)
	}
	return commandResult{message: "Created query with ID " + id, queryID: id}
}

func (e *Engine) applyTerminate(t *parser.Terminate) commandResult {
	var qs []*persistentQuery
	e.mu.Lock()
	if t.All {
		for _, id := range e.mu.order {
			if !strings.HasPrefix(id, "CST_") { // source tables keep their materialization
				qs = append(qs, e.mu.queries[id])
			}
		}
	} else if q, ok := e.mu.queries[strings.ToUpper(t.QueryID)]; ok {
		qs = append(qs, q)
	} else {
		e.mu.Unlock()
		return commandResult{err: fmt.Errorf("Unknown queryId: %s", strings.ToUpper(t.QueryID))}
	}
	for _, q := range qs {
		delete(e.mu.queries, q.id)
		for i, id := range e.mu.order {
			if id == q.id {
				e.mu.order = append(e.mu.order[:i], e.mu.order[i+1:]...)
				break
			}
		}
	}
	e.mu.Unlock()
	for _, q := range qs {
		e.stopQuery(q, true)
	}
	if t.All {
		return commandResult{message: "All queries terminated."}
	}
	return commandResult{message: "Query terminated."}
}

// ensureTopic creates a topic for a source or a query's sink unless it exists, with the source's
// REPLICAS and RETENTION_MS.
func (e *Engine) ensureTopic(ctx context.Context, topic string, partitions int32, props map[string]string) error {
	var configs map[string]*string
	if r, ok := props["RETENTION_MS"]; ok {
		configs = map[string]*string{"retention.ms": &r}
	}
	if _, exists, err := e.be.topicPartitions(ctx, topic); err != nil {
		return err
	} else if exists {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return e.be.createTopic(ctx, topic, partitions, configs)
}

// kindTitle is "Stream" or "Table".
func kindTitle(k ir.SourceKind) string {
	if k == ir.Table {
		return "Table"
	}
	return "Stream"
}

// materializeSource starts the query that keeps a CREATE SOURCE TABLE's rows in a store for pull
// queries: CST_<NAME>_<offset>, reading its topic from the start.
func (e *Engine) materializeSource(ctx context.Context, offset int64, src *ir.Source, replaying bool) error {
	var ps parser.Parser
	parsed, err := ps.ParseScript("SELECT * FROM `" + src.Name + "`;")
	if err != nil {
		return err
	}
	an, err := e.analyzerFor(nil).Analyze(parsed[0].Statement, parsed[0].Text)
	if err != nil {
		return err
	}
	tq, ok := an.(*analyzer.TransientQuery)
	if !ok {
		return fmt.Errorf("engine: materializing %s: not a query", src.Name)
	}
	id := "CST_" + src.Name + "_" + strconv.FormatInt(offset, 10)
	pq := &analyzer.PersistentQuery{Query: tq.Query, Sink: src}
	q, err := e.newPersistentQuery(id, src.SQL, pq, map[string]string{"auto.offset.reset": "earliest"})
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.mu.queries[id] = q
	e.mu.order = append(e.mu.order, id)
	e.mu.Unlock()
	if !replaying {
		e.be.startQuery(ctx, q)
	}
	return nil
}

// dropMaterialization stops and removes a source table's materialization, if it has one.
func (e *Engine) dropMaterialization(name string) {
	e.mu.Lock()
	var q *persistentQuery
	for i, id := range e.mu.order {
		if cand := e.mu.queries[id]; strings.HasPrefix(id, "CST_") && cand.sink.Name == name {
			q = cand
			delete(e.mu.queries, id)
			e.mu.order = append(e.mu.order[:i], e.mu.order[i+1:]...)
			break
		}
	}
	e.mu.Unlock()
	if q != nil {
		e.stopQuery(q, true)
	}
}

// replaceable returns the query that CREATE OR REPLACE ... AS SELECT replaces (nil when the sink does
// not exist yet), or why it cannot: as ksqlDB, an upgrade keeps the sink's key and every value column
// it had (new ones may be added at the end), and queries that keep state (aggregations, joins) cannot
// be upgraded yet, since their state would not fit the new plan.
func (e *Engine) replaceable(pq *analyzer.PersistentQuery) (*persistentQuery, error) {
	cur, ok := e.meta.Source(pq.Sink.Name)
	if !ok || pq.Insert {
		return nil, nil
	}
	var old *persistentQuery
	e.mu.Lock()
	for _, id := range e.mu.order {
		if q := e.mu.queries[id]; q.sink.Name == pq.Sink.Name && !strings.HasPrefix(id, "INSERTQUERY_") && !strings.HasPrefix(id, "CST_") {
			old = q
		}
	}
	e.mu.Unlock()
	name := pq.Sink.Name
	if old == nil {
		return nil, fmt.Errorf("Cannot upgrade data source: %s %s was not created by a query; only a source written by CREATE ... AS SELECT can be replaced.", kindTitle(cur.Kind), name)
	}
	if cur.Kind != pq.Sink.Kind {
		return nil, fmt.Errorf("Cannot upgrade data source: incompatible source types: %s is a %s.", name, strings.ToLower(cur.Kind.String()))
	}
	if len(pq.Query.Joins) > 0 || pq.Query.Aggregating() || old.plan.Query != nil && (len(old.plan.Query.Joins) > 0 || old.plan.Query.Aggregating()) {
		return nil, fmt.Errorf("Cannot upgrade data source: %s: queries with aggregations or joins cannot be replaced yet; drop %s and create it again.", name, name)
	}
	if cur.Topic != pq.Sink.Topic || cur.KeyFormat != pq.Sink.KeyFormat || cur.ValueFormat != pq.Sink.ValueFormat {
		return nil, fmt.Errorf("Cannot upgrade data source: %s: the topic and formats cannot change.", name)
	}
	oldKey, newKey := cur.Schema.Key(), pq.Sink.Schema.Key()
	oldVal, newVal := cur.Schema.Value(), pq.Sink.Schema.Value()
	compatible := len(oldKey) == len(newKey) && len(oldVal) <= len(newVal)
	for i := 0; compatible && i < len(oldKey); i++ {
		compatible = oldKey[i].Name == newKey[i].Name && oldKey[i].Type.Equal(newKey[i].Type)
	}
	for i := 0; compatible && i < len(oldVal); i++ {
		compatible = oldVal[i].Name == newVal[i].Name && oldVal[i].Type.Equal(newVal[i].Type)
	}
	if !compatible {
		return nil, fmt.Errorf("Cannot upgrade data source: %s: the new schema must keep the key and every value column (%s), adding new ones at the end; it is %s.", name, cur.Schema, pq.Sink.Schema)
	}
	return old, nil
}
