package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/planner"
	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// Entity is one element of a /ksql response, shaped as ksqlDB's KsqlEntity JSON ("@type" first).
type Entity map[string]any

// Request is a /ksql request.
type Request struct {
	KSQL                  string            `json:"ksql"`
	StreamsProperties     map[string]any    `json:"streamsProperties"`
	SessionVariables      map[string]any    `json:"sessionVariables"`
	CommandSequenceNumber *int64            `json:"commandSequenceNumber"`
	props                 map[string]string // StreamsProperties as strings
}

// Error codes of ksqlDB's KsqlErrorMessage.
const (
	codeBadStatement  = 40001
	codeQueryEndpoint = 40002
	codeBadRequest    = 40000
	codeNotFound      = 40400
	codeServerError   = 50000
	codeUnavailable   = 50300
)

// StatementError is a failed statement: ksqlDB's KsqlStatementErrorMessage.
type StatementError struct {
	Code          int
	Message       string
	StatementText string
	// Entities are the results of the statements before the failing one.
	Entities []Entity
}

func (e *StatementError) Error() string { return e.Message }

// props renders request properties as strings.
func stringProps(m map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func stringVars(m map[string]any) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return stringProps(m)
}

// Execute runs the statements of a /ksql request in order and returns one entity per statement that
// has one. It runs none when the request does not parse, and stops at the first statement that fails.
func (e *Engine) Execute(ctx context.Context, req Request) ([]Entity, *StatementError) {
	select {
	case <-e.ready:
	case <-ctx.Done():
		return nil, &StatementError{Code: codeUnavailable, Message: "the server is still replaying its command topic"}
	}
	props := stringProps(req.StreamsProperties)
	ps := parser.Parser{Vars: stringVars(req.SessionVariables)}
	parsed, perr := ps.ParseScript(req.KSQL)
	if perr != nil {
		// As ksqlDB, which parses the whole request first: a syntax error anywhere runs nothing.
		return nil, &StatementError{Code: codeBadStatement, Message: perr.Error(), StatementText: req.KSQL}
	}
	var out []Entity
	for _, p := range parsed {
		ent, err := e.executeOne(ctx, p, props)
		if err != nil {
			var se *StatementError
			if !errors.As(err, &se) {
				se = &StatementError{Code: codeBadStatement, Message: err.Error()}
			}
			if se.StatementText == "" {
				se.StatementText = p.Text + ";"
			}
			se.Entities = out
			return out, se
		}
		if ent != nil {
			out = append(out, ent)
		}
	}
	return out, nil
}

func (e *Engine) executeOne(ctx context.Context, p parser.Parsed, props map[string]string) (Entity, error) {
	text := p.Text + ";"
	switch s := p.Statement.(type) {
	case *parser.SetProperty:
		if isGuaranteeProperty(s.Name) {
			if _, _, err := guaranteeProperty(map[string]string{"processing.guarantee": s.Value}, nil); err != nil {
				return nil, err
			}
		}
		props[s.Name] = s.Value
		return nil, nil
	case *parser.UnsetProperty:
		delete(props, s.Name)
		return nil, nil
	case *parser.DefineVariable, *parser.UndefineVariable:
		return nil, nil
	case *parser.QueryStatement, *parser.Print:
		return nil, &StatementError{Code: codeQueryEndpoint, Message: "The following statement types should be issued to the websocket endpoint '/query':\n\t* PRINT\n\t* SELECT"}
	case *parser.List:
		return e.list(ctx, s, text, props)
	case *parser.Describe:
		return e.describe(ctx, s, text)
	case *parser.Explain:
		return e.explain(s, text, props)
	}
	if err := e.be.waitApplied(ctx); err != nil {
		return nil, err
	}
	an, err := e.analyzerFor(props).Analyze(p.Statement, p.Text)
	if err != nil {
		if _, ok := p.Statement.(*parser.InsertValues); ok {
			// As ksqlDB: an INSERT VALUES that cannot be prepared says so first.
			msg := err.Error()
			var se *sqlerr.Error
			if errors.As(err, &se) && se.Pos.IsValid() {
				msg = se.Msg + " (line " + se.Pos.String() + ")"
			}
			return nil, &StatementError{Code: codeBadStatement, Message: "Failed to prepare statement: " + msg}
		}
		return nil, err
	}
	if iv, ok := an.(*analyzer.InsertValues); ok {
		return nil, e.insertValues(ctx, iv)
	}
	if !distributed(an) {
		return nil, fmt.Errorf("statement not supported by the server: %s", text)
	}
	if _, ok := an.(*analyzer.PersistentQuery); ok {
		if _, _, err := guaranteeProperty(props, e.cfg.props); err != nil {
			return nil, err
		}
	}
	if err := e.validate(ctx, an); err != nil {
		return nil, err
	}
	off, res, err := e.be.appendCommand(ctx, command{Statement: p.Text + ";", Properties: props})
	if err != nil {
		return nil, &StatementError{Code: codeServerError, Message: err.Error()}
	}
	if res.err != nil {
		return nil, res.err
	}
	var qid any
	if res.queryID != "" {
		qid = res.queryID
	}
	return Entity{
		"@type":                 "currentStatus",
		"statementText":         text,
		"commandId":             commandID(an),
		"commandStatus":         map[string]any{"status": "SUCCESS", "message": res.message, "queryId": qid},
		"commandSequenceNumber": off,
		"warnings":              []any{},
	}, nil
}

// commandID is ksqlDB's CommandId text: "stream/NAME/create", "table/NAME/drop", "terminate/ID/execute".
func commandID(an analyzer.Analyzed) string {
	switch s := an.(type) {
	case *analyzer.CreateSource:
		return strings.ToLower(s.Source.Kind.String()) + "/`" + s.Source.Name + "`/create"
	case *analyzer.PersistentQuery:
		return strings.ToLower(s.Sink.Kind.String()) + "/`" + s.Sink.Name + "`/create"
	case *analyzer.DropSource:
		if s.Source != nil {
			return strings.ToLower(s.Source.Kind.String()) + "/`" + s.Source.Name + "`/drop"
		}
	case *analyzer.CreateType:
		return "type/" + s.Name + "/create"
	case *analyzer.DropType:
		return "type/" + s.Name + "/drop"
	case *analyzer.Other:
		if t, ok := s.Statement.(*parser.Terminate); ok {
			if t.All {
				return "terminate/ALL/execute"
			}
			return "terminate/" + strings.ToUpper(t.QueryID) + "/execute"
		}
	}
	return "unknown"
}

// insertValues writes one row to the target's topic with its formats, as ksqlDB's INSERT VALUES.
func (e *Engine) insertValues(ctx context.Context, s *analyzer.InsertValues) error {
	kb, vb, err := encodeRow(s.Target, s.Values)
	if err != nil {
		return err
	}
	ts := e.be.now().UnixMilli()
	if s.HasRowtime {
		ts = s.Rowtime
	} else if c := s.Target.TimestampColumn; c != "" {
		switch v := s.Values[s.Target.Schema.Index(c)].(type) {
		case int64:
			ts = v
		case types.TimestampValue:
			ts = int64(v)
		}
	}
	if err := e.be.produce(ctx, runtime.RawRecord{Topic: s.Target.Topic, Key: kb, Value: vb, Timestamp: ts}); err != nil {
		return fmt.Errorf("Failed to insert values into '%s'. %v", s.Target.Name, err)
	}
	return nil
}

// encodeRow serializes a full schema row (key, value and header columns in schema order) with the
// source's formats.
func encodeRow(src *ir.Source, values []types.Value) (kb, vb []byte, err error) {
	var key, val types.Row
	for i, c := range src.Schema.Columns {
		switch c.Namespace {
		case types.NamespaceKey:
			key = append(key, values[i])
		case types.NamespaceHeader:
		default:
			val = append(val, values[i])
		}
	}
	ks, err := planner.KeySerde(src)
	if err != nil {
		return nil, nil, err
	}
	vs, err := planner.ValueSerde(src)
	if err != nil {
		return nil, nil, err
	}
	if kb, err = ks.Serialize(key); err != nil {
		return nil, nil, err
	}
	if vb, err = vs.Serialize(val); err != nil {
		return nil, nil, err
	}
	if vb == nil {
		vb = []byte{}
	}
	return kb, vb, nil
}

// sourceEntity is a stream or table in SHOW STREAMS|TABLES.
func sourceEntity(s *ir.Source) map[string]any {
	m := map[string]any{
		"type":        s.Kind.String(),
		"name":        s.Name,
		"topic":       s.Topic,
		"keyFormat":   s.KeyFormat,
		"valueFormat": s.ValueFormat,
		"isWindowed":  s.Window != "",
	}
	return m
}

func (e *Engine) sources(kind ir.SourceKind) []*ir.Source {
	var out []*ir.Source
	for _, s := range e.meta.Sources() {
		if s.Kind == kind {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (e *Engine) list(ctx context.Context, s *parser.List, text string, props map[string]string) (Entity, error) {
	switch strings.ToUpper(s.What) {
	case "STREAMS", "TABLES":
		kind, key := ir.Stream, "streams"
		if strings.ToUpper(s.What) == "TABLES" {
			kind, key = ir.Table, "tables"
		}
		if s.Extended {
			var descs []any
			for _, src := range e.sources(kind) {
				descs = append(descs, e.sourceDescription(ctx, src, true))
			}
			return Entity{"@type": "source_descriptions", "statementText": text, "sourceDescriptions": nonNil(descs), "warnings": []any{}}, nil
		}
		var list []any
		for _, src := range e.sources(kind) {
			list = append(list, sourceEntity(src))
		}
		return Entity{"@type": key, "statementText": text, key: nonNil(list), "warnings": []any{}}, nil
	case "QUERIES":
		var list []any
		for _, q := range e.queryList() {
			list = append(list, queryEntity(q))
		}
		for _, p := range e.pushQueries() {
			list = append(list, map[string]any{"queryString": p.statement, "sinks": []any{}, "sinkKafkaTopics": []any{},
				"id": p.id, "statusCount": map[string]int{"RUNNING": 1}, "queryType": "PUSH", "state": "RUNNING"})
		}
		return Entity{"@type": "queries", "statementText": text, "queries": nonNil(list), "warnings": []any{}}, nil
	case "TOPICS":
		topics, err := e.be.topics(ctx)
		if err != nil {
			return nil, err
		}
		var list []any
		for _, t := range topics {
			if !s.All && strings.HasPrefix(t.name, "_") {
				continue
			}
			replicas := []int{}
			for range t.partitions {
				replicas = append(replicas, 1)
			}
			list = append(list, map[string]any{"name": t.name, "replicaInfo": replicas})
		}
		return Entity{"@type": "kafka_topics", "statementText": text, "topics": nonNil(list), "warnings": []any{}}, nil
	case "PROPERTIES":
		var list []any
		names := map[string]string{}
		for k, v := range e.cfg.props {
			names[k] = v
		}
		for k, v := range props {
			names[k] = v
		}
		names["ksql.service.id"] = e.cfg.serviceID
		names["commit.interval.ms"] = fmt.Sprint(e.cfg.commitInterval.Milliseconds())
		keys := make([]string, 0, len(names))
		for k := range names {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			list = append(list, map[string]any{"name": k, "scope": "KSQL", "value": names[k]})
		}
		return Entity{"@type": "properties", "statementText": text, "properties": list, "overwrittenProperties": []any{}, "defaultProperties": []any{}, "warnings": []any{}}, nil
	case "FUNCTIONS":
		return e.functionList(text), nil
	case "TYPES":
		return Entity{"@type": "type_list", "statementText": text, "types": e.meta.TypeMap(), "warnings": []any{}}, nil
	case "VARIABLES":
		return Entity{"@type": "variables", "statementText": text, "variables": []any{}, "warnings": []any{}}, nil
	}
	return nil, &StatementError{Code: codeBadStatement, Message: "SHOW " + s.What + " is not supported"}
}

// nonNil returns l, or an empty slice for nil: JSON's [] rather than null.
func nonNil[T any](l []T) []T {
	if l == nil {
		return []T{}
	}
	return l
}

func queryEntity(q *persistentQuery) map[string]any {
	st, err := q.State()
	m := map[string]any{
		"queryString":     q.statement,
		"sinks":           []string{q.sink.Name},
		"sinkKafkaTopics": []string{q.sink.Topic},
		"id":              q.id,
		"statusCount":     map[string]int{st: 1},
		"queryType":       q.kind,
		"state":           st,
	}
	if err != nil {
		m["errorMessage"] = err.Error()
	}
	return m
}

func (e *Engine) describe(ctx context.Context, s *parser.Describe, text string) (Entity, error) {
	switch strings.ToUpper(s.What) {
	case "FUNCTION":
		return e.describeFunction(s.Name.Name, text)
	case "STREAMS", "TABLES":
		kind := ir.Stream
		if strings.ToUpper(s.What) == "TABLES" {
			kind = ir.Table
		}
		var descs []any
		for _, src := range e.sources(kind) {
			descs = append(descs, e.sourceDescription(ctx, src, s.Extended))
		}
		return Entity{"@type": "source_descriptions", "statementText": text, "sourceDescriptions": nonNil(descs), "warnings": []any{}}, nil
	}
	src, ok := e.meta.Source(s.Name.Name)
	if !ok {
		return nil, sqlerr.New(sqlerr.UnknownSource, s.Name.P, "Could not find STREAM/TABLE '%s' in the Metastore", s.Name.Name)
	}
	return Entity{"@type": "sourceDescription", "statementText": text, "sourceDescription": e.sourceDescription(ctx, src, s.Extended), "warnings": []any{}}, nil
}

// sourceDescription is ksqlDB's SourceDescription.
func (e *Engine) sourceDescription(ctx context.Context, src *ir.Source, extended bool) map[string]any {
	readers, writers := e.queriesOf(src.Name)
	var fields []any
	for _, c := range src.Schema.Columns {
		f := map[string]any{"name": c.Name, "schema": schemaEntity(c.Type)}
		if c.Namespace == types.NamespaceKey {
			f["type"] = "KEY"
		} else if c.Namespace == types.NamespaceHeader {
			f["type"] = "HEADER"
		}
		fields = append(fields, f)
	}
	qs := func(ids []string) []any {
		out := []any{}
		for _, id := range ids {
			e.mu.Lock()
			q := e.mu.queries[id]
			e.mu.Unlock()
			if q != nil {
				out = append(out, queryEntity(q))
			}
		}
		return out
	}
	parts, _, _ := e.be.topicPartitions(ctx, src.Topic)
	var window any
	if src.Window != "" {
		window = src.Window
	}
	var readerQueries []*persistentQuery
	e.mu.Lock()
	for _, id := range readers {
		if q := e.mu.queries[id]; q != nil {
			readerQueries = append(readerQueries, q)
		}
	}
	e.mu.Unlock()
	stats, errStats := "", ""
	if extended {
		stats, errStats = sourceStatistics(readerQueries)
	}
	return map[string]any{
		"name":                 src.Name,
		"windowType":           window,
		"readQueries":          qs(readers),
		"writeQueries":         qs(writers),
		"fields":               fields,
		"type":                 src.Kind.String(),
		"timestamp":            src.TimestampColumn,
		"statistics":           stats,
		"errorStats":           errStats,
		"extended":             extended,
		"keyFormat":            src.KeyFormat,
		"valueFormat":          src.ValueFormat,
		"topic":                src.Topic,
		"partitions":           parts,
		"replication":          1,
		"statement":            src.SQL,
		"queryOffsetSummaries": []any{},
		"sourceConstraints":    []any{},
	}
}

// schemaEntity is ksqlDB's SchemaInfo of a type.
func schemaEntity(t *types.Type) map[string]any {
	m := map[string]any{"type": ksqlTypeName(t), "fields": nil, "memberSchema": nil}
	switch t.Kind {
	case types.KindArray, types.KindMap:
		m["memberSchema"] = schemaEntity(t.Elem)
	case types.KindStruct:
		var fs []any
		for _, f := range t.Fields {
			fs = append(fs, map[string]any{"name": f.Name, "schema": schemaEntity(f.Type)})
		}
		m["fields"] = fs
	case types.KindDecimal:
		m["parameters"] = map[string]any{"precision": t.Precision, "scale": t.Scale}
	}
	return m
}

// ksqlTypeName is the SqlBaseType name ksqlDB's SchemaInfo carries.
func ksqlTypeName(t *types.Type) string {
	s := t.String()
	if i := strings.IndexAny(s, "(<"); i >= 0 {
		s = s[:i]
	}
	return s
}

func (e *Engine) explain(s *parser.Explain, text string, props map[string]string) (Entity, error) {
	if s.Statement == nil {
		e.mu.Lock()
		q, ok := e.mu.queries[strings.ToUpper(s.QueryID)]
		e.mu.Unlock()
		if !ok {
			return nil, &StatementError{Code: codeBadStatement, Message: "Query with id:" + strings.ToUpper(s.QueryID) + " does not exist, use SHOW QUERIES to view the full set of queries."}
		}
		return Entity{"@type": "queryDescription", "statementText": text, "queryDescription": queryDescription(q), "warnings": []any{}}, nil
	}
	an, err := e.analyzerFor(props).Analyze(s.Statement, text)
	if err != nil {
		return nil, err
	}
	pq, ok := an.(*analyzer.PersistentQuery)
	if !ok {
		return nil, &StatementError{Code: codeBadStatement, Message: "EXPLAIN is supported for queries only"}
	}
	q, err := e.newPersistentQuery("EXPLAIN", text, pq, props)
	if err != nil {
		return nil, err
	}
	return Entity{"@type": "queryDescription", "statementText": text, "queryDescription": queryDescription(q), "warnings": []any{}}, nil
}

func queryDescription(q *persistentQuery) map[string]any {
	st, _ := q.State()
	var fields []any
	for _, c := range q.sink.Schema.Columns {
		f := map[string]any{"name": c.Name, "schema": schemaEntity(c.Type)}
		if c.Namespace == types.NamespaceKey {
			f["type"] = "KEY"
		}
		fields = append(fields, f)
	}
	return map[string]any{
		"id":                   q.id,
		"statementText":        q.statement,
		"windowType":           nilIfEmpty(q.sink.Window),
		"fields":               fields,
		"sources":              q.sources,
		"sinks":                []string{q.sink.Name},
		"topology":             q.topo.Describe().String(),
		"executionPlan":        q.plan.String(),
		"overriddenProperties": q.props,
		"queryType":            q.kind,
		"state":                st,
		"ksqlHostQueryStatus":  map[string]string{},
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
