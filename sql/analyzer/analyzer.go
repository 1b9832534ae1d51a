package analyzer

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/seichedb/seiche/sql/expr"
	"github.com/seichedb/seiche/sql/format"
	"github.com/seichedb/seiche/sql/function"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// Analyzed is an analyzed statement.
type Analyzed interface{ analyzed() }

// CreateSource is an analyzed CREATE STREAM|TABLE without AS SELECT.
type CreateSource struct {
	Source      *ir.Source
	OrReplace   bool
	IfNotExists bool
}

// CreateType is an analyzed CREATE TYPE.
type CreateType struct {
	Name        string
	Type        *types.Type
	IfNotExists bool
}

// DropSource is an analyzed DROP STREAM|TABLE.
type DropSource struct {
	Source      *ir.Source // nil when it does not exist and IF EXISTS was given
	DeleteTopic bool
}

// DropType is an analyzed DROP TYPE.
type DropType struct {
	Name     string
	IfExists bool
}

// PersistentQuery is an analyzed CREATE ... AS SELECT or INSERT INTO ... SELECT: Query writes into Sink.
type PersistentQuery struct {
	Query *ir.Query
	Sink  *ir.Source
	// Insert is set for INSERT INTO (the sink exists); otherwise the statement creates Sink.
	Insert      bool
	OrReplace   bool
	IfNotExists bool
}

// TransientQuery is an analyzed bare SELECT (push or pull query).
type TransientQuery struct {
	Query *ir.Query
}

// InsertValues is an analyzed INSERT INTO ... VALUES: Values[i] is the value for Target.Schema.Columns[i]
// (nil when not given).
type InsertValues struct {
	Target *ir.Source
	Values []types.Value
	// Rowtime is the ROWTIME value given, when HasRowtime (a record's timestamp in milliseconds).
	Rowtime    int64
	HasRowtime bool
}

// Other is a statement that needs no analysis (SET, SHOW, DESCRIBE, TERMINATE, PRINT, ...).
type Other struct {
	Statement parser.Statement
}

func (*CreateSource) analyzed()    {}
func (*CreateType) analyzed()      {}
func (*DropSource) analyzed()      {}
func (*DropType) analyzed()        {}
func (*PersistentQuery) analyzed() {}
func (*TransientQuery) analyzed()  {}
func (*InsertValues) analyzed()    {}
func (*Other) analyzed()           {}

// Analyzer analyzes statements against a metastore.
type Analyzer struct {
	Meta  *Metastore
	Funcs *function.Registry
	// Props are the session properties (SET), by name.
	Props map[string]string
}

// New returns an analyzer over meta with the built-in functions.
func New(meta *Metastore) *Analyzer {
	return &Analyzer{Meta: meta, Funcs: function.Builtins(), Props: map[string]string{}}
}

func (a *Analyzer) typeLookup(name string) (*types.Type, bool) { return a.Meta.Type(name) }

// Analyze analyzes one statement. text is the statement's SQL, kept on created sources.
func (a *Analyzer) Analyze(stmt parser.Statement, text string) (Analyzed, error) {
	switch s := stmt.(type) {
	case *parser.CreateSource:
		return a.createSource(s, text)
	case *parser.CreateType:
		if _, exists := a.Meta.Type(s.Name.Name); exists && !s.IfNotExists {
			return nil, sqlerr.New(sqlerr.SourceExists, s.P, "Cannot register custom type '%s' since it is already registered with type: %s", s.Name.Name, mustType(a.Meta.Type(s.Name.Name)))
		}
		t, err := expr.ResolveType(s.Type, a.typeLookup)
		if err != nil {
			return nil, err
		}
		return &CreateType{Name: s.Name.Name, Type: t, IfNotExists: s.IfNotExists}, nil
	case *parser.DropType:
		if _, ok := a.Meta.Type(s.Name.Name); !ok && !s.IfExists {
			return nil, sqlerr.New(sqlerr.UnknownType, s.P, "Type %s does not exist.", s.Name.Name)
		}
		return &DropType{Name: s.Name.Name, IfExists: s.IfExists}, nil
	case *parser.DropSource:
		src, ok := a.Meta.Source(s.Name.Name)
		if !ok {
			if s.IfExists {
				return &DropSource{DeleteTopic: s.DeleteTopic}, nil
			}
			return nil, sqlerr.New(sqlerr.UnknownSource, s.P, "%s %s does not exist.", titleWord(s.Kind.String()), s.Name.Name)
		}
		if src.Kind != kindOf(s.Kind) {
			return nil, sqlerr.New(sqlerr.Semantic, s.P, "Incompatible data source type is %s, but statement was DROP %s", src.Kind, s.Kind)
		}
		if src.ReadOnly && s.DeleteTopic {
			return nil, sqlerr.New(sqlerr.Semantic, s.P, "Cannot delete topic for read-only source: %s", src.Name)
		}
		return &DropSource{Source: src, DeleteTopic: s.DeleteTopic}, nil
	case *parser.AlterSource:
		if src, ok := a.Meta.Source(s.Name.Name); ok && src.ReadOnly {
			kind := strings.ToLower(src.Kind.String())
			return nil, sqlerr.New(sqlerr.Semantic, s.P, "Cannot alter %s '%s': ALTER operations are not supported on source %ss.", kind, src.Name, kind)
		}
	case *parser.CreateAsSelect:
		return a.createAsSelect(s, text)
	case *parser.InsertInto:
		return a.insertInto(s)
	case *parser.InsertValues:
		return a.insertValues(s)
	case *parser.QueryStatement:
		q, err := a.AnalyzeQuery(s.Query, "")
		if err != nil {
			return nil, err
		}
		return &TransientQuery{Query: q}, nil
	case *parser.Explain:
		if s.Statement != nil {
			if _, err := a.Analyze(s.Statement, text); err != nil {
				return nil, err
			}
		}
		return &Other{Statement: stmt}, nil
	}
	return &Other{Statement: stmt}, nil
}

func mustType(t *types.Type, _ bool) *types.Type { return t }

// Apply records the effect of an analyzed statement on the metastore (sources and types created or dropped).
func (a *Analyzer) Apply(an Analyzed) {
	switch s := an.(type) {
	case *CreateSource:
		if _, exists := a.Meta.Source(s.Source.Name); exists && s.IfNotExists {
			return
		}
		a.Meta.PutSource(s.Source)
	case *CreateType:
		if _, exists := a.Meta.Type(s.Name); exists && s.IfNotExists {
			return
		}
		a.Meta.PutType(s.Name, s.Type)
	case *DropSource:
		if s.Source != nil {
			a.Meta.DeleteSource(s.Source.Name)
		}
	case *DropType:
		a.Meta.DeleteType(s.Name)
	case *PersistentQuery:
		if !s.Insert {
			if _, exists := a.Meta.Source(s.Sink.Name); exists && s.IfNotExists {
				return
			}
			a.Meta.PutSource(s.Sink)
		}
	case *Other:
		switch st := s.Statement.(type) {
		case *parser.SetProperty:
			a.Props[st.Name] = st.Value
		case *parser.UnsetProperty:
			delete(a.Props, st.Name)
		}
	}
}

func propString(props parser.Properties, name string) (string, bool) {
	l, ok := props.Get(name)
	if !ok || l.Kind == parser.LitNull {
		return "", false
	}
	return l.Value, true
}

// formats resolves KEY_FORMAT / VALUE_FORMAT / FORMAT, with ksqlDB's defaults (key KAFKA).
func (a *Analyzer) formats(props parser.Properties, pos sqlerr.Pos, valueRequired bool) (string, string, error) {
	f, hasFormat := propString(props, "FORMAT")
	kf, hasKey := propString(props, "KEY_FORMAT")
	vf, hasValue := propString(props, "VALUE_FORMAT")
	if hasFormat && (hasKey || hasValue) {
		which := "KEY_FORMAT"
		if hasValue {
			which = "VALUE_FORMAT"
		}
		return "", "", sqlerr.New(sqlerr.Property, pos, "Cannot supply both '%s' and 'FORMAT' properties, as 'FORMAT' sets both key and value formats. Either use just 'FORMAT', or use '%s' and '%s'.", which, "KEY_FORMAT", "VALUE_FORMAT")
	}
	if hasFormat {
		kf, vf = f, f
		hasKey, hasValue = true, true
	}
	if !hasKey {
		kf = a.Props["ksql.persistence.default.format.key"]
		if kf == "" {
			kf = "KAFKA"
		}
	}
	if !hasValue {
		vf = a.Props["ksql.persistence.default.format.value"]
		if vf == "" && valueRequired {
			return "", "", sqlerr.New(sqlerr.Property, pos, "Statement is missing the 'VALUE_FORMAT' property from the WITH clause. Either provide one or set a default via the 'ksql.persistence.default.format.value' config.")
		}
	}
	kf, vf = strings.ToUpper(kf), strings.ToUpper(vf)
	for _, x := range []string{kf, vf} {
		if x != "" && !format.Known(x) {
			return "", "", sqlerr.New(sqlerr.Property, pos, "Unknown format: %s", x)
		}
	}
	return kf, vf, nil
}

// headersType is the type of a HEADERS column: every header of the record, in order.
var headersType = types.ArrayOf(types.StructOf(types.Field{Name: "KEY", Type: types.String}, types.Field{Name: "VALUE", Type: types.Bytes}))

var reservedColumnNames = map[string]bool{"ROWTIME": true, "ROWPARTITION": true, "ROWOFFSET": true,
	"WINDOWSTART": true, "WINDOWEND": true}

func propsMap(props parser.Properties) map[string]string {
	m := map[string]string{}
	for _, p := range props {
		m[p.Name] = p.Value.Value
	}
	return m
}

func (a *Analyzer) createSource(s *parser.CreateSource, text string) (Analyzed, error) {
	if existing, ok := a.Meta.Source(s.Name.Name); ok {
		if s.OrReplace && (existing.ReadOnly || s.Source) {
			return nil, sqlerr.New(sqlerr.Semantic, s.P, "Cannot add %s '%s': CREATE OR REPLACE is not supported on source %ss.",
				strings.ToLower(s.Kind.String()), s.Name.Name, strings.ToLower(s.Kind.String()))
		}
		if !s.OrReplace && !s.IfNotExists {
			return nil, sqlerr.New(sqlerr.SourceExists, s.P, "Cannot add %s '%s': A %s with the same name already exists",
				strings.ToLower(s.Kind.String()), s.Name.Name, strings.ToLower(existing.Kind.String()))
		}
	}
	if s.OrReplace && s.Source {
		return nil, sqlerr.New(sqlerr.Semantic, s.P, "Cannot add %s '%s': CREATE OR REPLACE is not supported on source %ss.",
			strings.ToLower(s.Kind.String()), s.Name.Name, strings.ToLower(s.Kind.String()))
	}
	topic, ok := propString(s.Props, "KAFKA_TOPIC")
	if !ok {
		return nil, sqlerr.New(sqlerr.Property, s.P, "Missing required property \"KAFKA_TOPIC\" which has no default value.")
	}
	kf, vf, err := a.formats(s.Props, s.P, true)
	if err != nil {
		return nil, err
	}
	if err := formatProps(s.Props, vf, s.P); err != nil {
		return nil, err
	}
	schema := &types.Schema{}
	seen := map[string]bool{}
	hasKey := false
	for _, el := range s.Elements {
		name := el.Name.Name
		if reservedColumnNames[name] {
			return nil, sqlerr.New(sqlerr.Semantic, el.Name.P, "'%s' is a reserved column name. You cannot use it as a name for a column.", name)
		}
		if seen[name] {
			return nil, sqlerr.New(sqlerr.Semantic, el.Name.P, "Duplicate column names: %s", name)
		}
		seen[name] = true
		t, err := expr.ResolveType(el.Type, a.typeLookup)
		if err != nil {
			return nil, err
		}
		col := types.Column{Name: name, Type: t}
		switch el.Constraint {
		case parser.ConstraintKey:
			if s.Kind == parser.Table {
				return nil, sqlerr.New(sqlerr.Semantic, el.Name.P, "Column `%s` is a 'KEY' column: please use 'PRIMARY KEY' for tables.\nTables have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no uniqueness or NON NULL constraints.", name)
			}
			col.Namespace = types.NamespaceKey
			hasKey = true
		case parser.ConstraintPrimaryKey:
			if s.Kind == parser.Stream {
				return nil, sqlerr.New(sqlerr.Semantic, el.Name.P, "Column `%s` is a 'PRIMARY KEY' column: please use 'KEY' for streams.\nTables have PRIMARY KEYs, which are unique and NON NULL.\nStreams have KEYs, which have no uniqueness or NON NULL constraints.", name)
			}
			col.Namespace = types.NamespaceKey
			hasKey = true
		case parser.ConstraintHeaders:
			if !t.Equal(headersType) {
				return nil, sqlerr.New(sqlerr.Type, el.Name.P, "Invalid type for HEADERS column: expected %s, got %s", headersType, t)
			}
			col.Namespace = types.NamespaceHeader
		case parser.ConstraintHeader:
			if t.Kind != types.KindBytes {
				return nil, sqlerr.New(sqlerr.Type, el.Name.P, "Invalid type for HEADER('%s') column: expected BYTES, got %s", el.HeaderKey, t)
			}
			col.Namespace, col.HeaderKey = types.NamespaceHeader, el.HeaderKey
		}
		schema.Columns = append(schema.Columns, col)
	}
	// Key columns first, as ksqlDB orders them.
	var keys, vals []types.Column
	for _, c := range schema.Columns {
		if c.Namespace == types.NamespaceKey {
			keys = append(keys, c)
		} else {
			vals = append(vals, c)
		}
	}
	schema.Columns = append(keys, vals...)
	if s.Kind == parser.Table && !hasKey && len(s.Elements) > 0 {
		return nil, sqlerr.New(sqlerr.Semantic, s.P, "Tables require a PRIMARY KEY. Please define the PRIMARY KEY.")
	}
	if err := format.ValidateKeySchema(kf, keys); err != nil {
		return nil, sqlerr.New(sqlerr.Property, s.P, "%v", err)
	}
	if err := format.ValidateSchema(vf, vals, false); err != nil {
		return nil, sqlerr.New(sqlerr.Property, s.P, "%v", err)
	}
	if err := wrapSingleValue(s.Props, vals, s.P); err != nil {
		return nil, err
	}
	src := &ir.Source{Name: s.Name.Name, Kind: kindOf(s.Kind), Schema: schema, Topic: topic, KeyFormat: kf, ValueFormat: vf,
		Props: propsMap(s.Props), ReadOnly: s.Source, SQL: text}
	if ts, ok := propString(s.Props, "TIMESTAMP"); ok {
		col := strings.ToUpper(ts)
		idx := schema.Index(col)
		if idx < 0 {
			return nil, sqlerr.New(sqlerr.Property, s.P, "The TIMESTAMP column set in the WITH clause does not exist in the schema: '%s'", col)
		}
		t := schema.Columns[idx].Type
		_, hasFmt := propString(s.Props, "TIMESTAMP_FORMAT")
		if t.Kind != types.KindBigint && t.Kind != types.KindTimestamp && !(t.Kind == types.KindString && hasFmt) {
			return nil, sqlerr.New(sqlerr.Property, s.P, "Timestamp column, `%s`, should be LONG(INT64), TIMESTAMP, or a String with a timestamp_format specified.", col)
		}
		src.TimestampColumn = col
	}
	if ws, ok := propString(s.Props, "WINDOW_TYPE"); ok {
		src.Window = strings.ToUpper(ws)
		if size, ok := propString(s.Props, "WINDOW_SIZE"); ok {
			if src.Window == "SESSION" {
				return nil, sqlerr.New(sqlerr.Property, s.P, "'WINDOW_SIZE' should not be set for SESSION windows.")
			}
			if _, err := ir.ParseDuration(size); err != nil {
				return nil, sqlerr.New(sqlerr.Property, s.P, "Configuration WINDOW_SIZE is invalid: %v", err)
			}
		}
	}
	return &CreateSource{Source: src, OrReplace: s.OrReplace, IfNotExists: s.IfNotExists}, nil
}

func (a *Analyzer) createAsSelect(s *parser.CreateAsSelect, text string) (Analyzed, error) {
	if existing, ok := a.Meta.Source(s.Name.Name); ok && !s.OrReplace && !s.IfNotExists {
		return nil, sqlerr.New(sqlerr.SourceExists, s.P, "Cannot add %s '%s': A %s with the same name already exists",
			strings.ToLower(s.Kind.String()), s.Name.Name, strings.ToLower(existing.Kind.String()))
	}
	if s.Query.Limit != parser.NoLimit {
		return nil, sqlerr.New(sqlerr.Semantic, s.P, "CREATE %s AS SELECT statements don't support LIMIT clause.", s.Kind)
	}
	qa, planErr, err := a.analyzeQuery(s.Query, s.Name.Name)
	if err != nil {
		return nil, err
	}
	q := qa.q
	if planErr != nil {
		if ts, ok := propString(s.Props, "TIMESTAMP"); ok && q.Output.Index(strings.ToUpper(ts)) < 0 {
			return nil, sqlerr.New(sqlerr.Property, s.P, "The TIMESTAMP column set in the WITH clause does not exist in the schema: '%s'", strings.ToUpper(ts))
		}
		return nil, planErr
	}
	if s.Kind == parser.Table && len(q.GroupBy) == 0 && len(q.Aggregates) > 0 {
		var calls []string
		for _, ag := range q.Aggregates {
			calls = append(calls, ag.Text)
		}
		return nil, sqlerr.New(sqlerr.Semantic, s.P, "CREATE TABLE AS SELECT statement does not support aggregate function [%s] without a GROUP BY clause.", strings.Join(calls, ", "))
	}
	if s.Kind == parser.Table && !q.IsTable {
		return nil, sqlerr.New(sqlerr.Semantic, s.P, "Invalid result type. Your SELECT query produces a STREAM. Please use CREATE STREAM AS SELECT statement instead.")
	}
	if s.Kind == parser.Stream && q.IsTable {
		return nil, sqlerr.New(sqlerr.Semantic, s.P, "Invalid result type. Your SELECT query produces a TABLE. Please use CREATE TABLE AS SELECT statement instead.")
	}
	if err := tableRepartition(q, s.Query); err != nil {
		return nil, err
	}
	first := q.Sources[0].Source
	kf, vf := first.KeyFormat, first.ValueFormat
	if _, ok := propString(s.Props, "FORMAT"); ok {
		kf, vf, err = a.formats(s.Props, s.P, false)
		if err != nil {
			return nil, err
		}
	} else {
		if x, ok := propString(s.Props, "KEY_FORMAT"); ok {
			kf = strings.ToUpper(x)
		}
		if x, ok := propString(s.Props, "VALUE_FORMAT"); ok {
			vf = strings.ToUpper(x)
		}
		for _, f := range []string{kf, vf} {
			if !format.Known(f) {
				return nil, sqlerr.New(sqlerr.Property, s.P, "Unknown format: %s", f)
			}
		}
	}
	_, keyGiven := propString(s.Props, "KEY_FORMAT")
	_, formatGiven := propString(s.Props, "FORMAT")
	if x, ok := propString(s.Props, "KEY_FORMAT"); ok && len(q.Output.Key()) == 0 && !strings.EqualFold(x, "NONE") {
		return nil, sqlerr.New(sqlerr.Property, s.P, "Key format specified for stream without key columns.")
	}
	if kf == "NONE" && !keyGiven && !formatGiven && len(q.Output.Key()) > 0 {
		kf = inheritedKeyFormat(q, vf, a.Props["ksql.persistence.default.format.key"])
	}
	topic, ok := propString(s.Props, "KAFKA_TOPIC")
	if !ok {
		topic = a.Props["ksql.output.topic.name.prefix"] + s.Name.Name
	}
	if err := format.ValidateKeySchema(kf, q.Output.Key()); err != nil {
		e := sqlerr.New(sqlerr.Property, s.P, "%v", err)
		e.Statement = qa.statementText(s)
		return nil, e
	}
	if err := format.ValidateSchema(vf, q.Output.Value(), false); err != nil {
		e := sqlerr.New(sqlerr.Property, s.P, "%v", err)
		e.Statement = qa.statementText(s)
		return nil, e
	}
	if err := wrapSingleValue(s.Props, q.Output.Value(), s.P); err != nil {
		return nil, err
	}
	sink := &ir.Source{Name: s.Name.Name, Kind: kindOf(s.Kind), Schema: q.Output, Topic: topic, KeyFormat: kf, ValueFormat: vf,
		Props: propsMap(s.Props), SQL: text}
	// A format the sink inherits from its first source comes with that source's delimiter.
	_, valueGiven := propString(s.Props, "VALUE_FORMAT")
	for _, inh := range []struct {
		prop   string
		given  bool
		fm, of string
	}{{"KEY_DELIMITER", keyGiven || formatGiven, kf, first.KeyFormat}, {"VALUE_DELIMITER", valueGiven || formatGiven, vf, first.ValueFormat}} {
		d, ok := first.Props[inh.prop]
		if _, set := sink.Props[inh.prop]; ok && !set && !inh.given && inh.fm == inh.of {
			sink.Props[inh.prop] = d
		}
	}
	if ts, ok := propString(s.Props, "TIMESTAMP"); ok {
		col := strings.ToUpper(ts)
		idx := q.Output.Index(col)
		if idx < 0 {
			return nil, sqlerr.New(sqlerr.Property, s.P, "The TIMESTAMP column set in the WITH clause does not exist in the schema: '%s'", col)
		}
		t := q.Output.Columns[idx].Type
		_, hasFmt := propString(s.Props, "TIMESTAMP_FORMAT")
		if t.Kind != types.KindBigint && t.Kind != types.KindTimestamp && !(t.Kind == types.KindString && hasFmt) {
			return nil, sqlerr.New(sqlerr.Property, s.P, "Timestamp column, `%s`, should be LONG(INT64), TIMESTAMP, or a String with a timestamp_format specified.", col)
		}
		sink.TimestampColumn = col
	}
	if q.Window != nil {
		sink.Window = q.Window.Kind.String()
		if q.Window.Kind != ir.Session {
			// Readers of the sink's topic need the size to compute each row's WINDOWEND.
			sink.Props["WINDOW_SIZE"] = ir.Millis(q.Window.Size)
		}
	} else if first.Window != "" && len(q.GroupBy) == 0 {
		sink.Window = first.Window
		if ws, ok := first.Props["WINDOW_SIZE"]; ok {
			sink.Props["WINDOW_SIZE"] = ws
		}
	}
	return &PersistentQuery{Query: q, Sink: sink, OrReplace: s.OrReplace, IfNotExists: s.IfNotExists}, nil
}

func (a *Analyzer) insertInto(s *parser.InsertInto) (Analyzed, error) {
	target, ok := a.Meta.Source(s.Target.Name)
	if !ok {
		return nil, sqlerr.New(sqlerr.UnknownSource, s.Target.P, "Source `%s` does not exist.", s.Target.Name)
	}
	if target.Kind == ir.Table {
		return nil, sqlerr.New(sqlerr.Semantic, s.P, "INSERT INTO can only be used to insert into a stream. %s is a table.", target.Name)
	}
	if target.ReadOnly {
		return nil, sqlerr.New(sqlerr.Semantic, s.P, "Cannot insert into read-only %s: %s", strings.ToLower(target.Kind.String()), target.Name)
	}
	for _, c := range target.Schema.Columns {
		if c.Namespace == types.NamespaceHeader {
			return nil, sqlerr.New(sqlerr.Semantic, s.P, "Cannot insert into %s because it has header columns", target.Name)
		}
	}
	q, err := a.AnalyzeQuery(s.Query, s.Target.Name)
	if err != nil {
		return nil, err
	}
	if len(q.Output.Columns) != len(target.Schema.Columns) {
		return nil, sqlerr.New(sqlerr.Semantic, s.P, "Incompatible schema between results and sink.\nResult schema is %s\nSink schema is %s", q.Output, target.Schema)
	}
	for i, c := range q.Output.Columns {
		tc := target.Schema.Columns[i]
		if c.Name != tc.Name || !c.Type.Equal(tc.Type) || (c.Namespace == types.NamespaceKey) != (tc.Namespace == types.NamespaceKey) {
			return nil, sqlerr.New(sqlerr.Semantic, s.P, "Incompatible schema between results and sink.\nResult schema is %s\nSink schema is %s", q.Output, target.Schema)
		}
	}
	return &PersistentQuery{Query: q, Sink: target, Insert: true}, nil
}

func (a *Analyzer) insertValues(s *parser.InsertValues) (Analyzed, error) {
	target, ok := a.Meta.Source(s.Target.Name)
	if !ok {
		return nil, sqlerr.New(sqlerr.UnknownSource, s.Target.P, "Cannot insert values into an unknown stream/table: `%s`%s", s.Target.Name, a.caseHint(s.Target))
	}
	if target.ReadOnly {
		return nil, sqlerr.New(sqlerr.Semantic, s.P, "Cannot insert values into read-only %s: %s", strings.ToLower(target.Kind.String()), target.Name)
	}
	var cols []int
	if s.Columns == nil {
		// Without a column list the values are for every column, headers included, which cannot be
		// written.
		var headers []string
		for i, c := range target.Schema.Columns {
			if c.Namespace == types.NamespaceHeader {
				headers = append(headers, c.Name)
			} else {
				cols = append(cols, i)
			}
		}
		if len(headers) > 0 {
			return nil, sqlerr.New(sqlerr.Semantic, s.P, "Cannot insert into HEADER columns: %s", strings.Join(headers, ", "))
		}
	} else {
		var headers []string
		for _, c := range s.Columns {
			idx := target.Schema.Index(c.Name)
			if idx < 0 {
				if c.Name == "ROWTIME" {
					cols = append(cols, -1)
					continue
				}
				if c.Name == "ROWPARTITION" || c.Name == "ROWOFFSET" {
					return nil, sqlerr.New(sqlerr.Semantic, c.P, "Inserting into column `%s` is not allowed.", c.Name)
				}
				return nil, sqlerr.New(sqlerr.UnknownColumn, c.P, "Column name %s does not exist.", c.Name)
			}
			if target.Schema.Columns[idx].Namespace == types.NamespaceHeader {
				headers = append(headers, c.Name)
			}
			cols = append(cols, idx)
		}
		if len(headers) > 0 {
			return nil, sqlerr.New(sqlerr.Semantic, s.P, "Cannot insert into HEADER columns: %s", strings.Join(headers, ", "))
		}
	}
	if len(cols) != len(s.Values) {
		if s.Columns != nil {
			return nil, sqlerr.New(sqlerr.Semantic, s.P, "Expected number columns and values to match: %d, %d", len(cols), len(s.Values))
		}
		return nil, sqlerr.New(sqlerr.Semantic, s.P, "Expected a value for each column. Expected Columns: %v. Got %v", len(cols), len(s.Values))
	}
	out := make([]types.Value, len(target.Schema.Columns))
	var rowtime int64
	var hasRowtime bool
	c := &expr.Compiler{Scope: &expr.Scope{}, Funcs: a.Funcs, Types: a.typeLookup}
	for i, ve := range s.Values {
		ce, err := c.Compile(ve)
		if err != nil {
			return nil, err
		}
		v, err := ce.Eval(nil)
		if err != nil {
			return nil, sqlerr.New(sqlerr.Eval, ve.Position(), "%v", err)
		}
		if cols[i] < 0 {
			if v != nil {
				t, ok := types.ToFloat(v)
				if !ok {
					return nil, sqlerr.New(sqlerr.Type, ve.Position(), "Expected type BIGINT for field ROWTIME but got %s(%s)", ce.Type, types.Format(v))
				}
				rowtime, hasRowtime = int64(t), true
			}
			continue
		}
		col := target.Schema.Columns[cols[i]]
		if v != nil && !ce.Type.Equal(col.Type) {
			conv, err := types.Caster(ce.Type, col.Type)
			if err != nil || (!types.CanWiden(ce.Type, col.Type) && ce.Type.Kind != types.KindString) {
				return nil, sqlerr.New(sqlerr.Type, ve.Position(), "Expected type %s for field %s but got %s(%s)", col.Type, col.Name, ce.Type, types.Format(v))
			}
			if v, err = conv(v); err != nil {
				return nil, sqlerr.New(sqlerr.Type, ve.Position(), "%v", err)
			}
		}
		out[cols[i]] = v
	}
	return &InsertValues{Target: target, Values: out, Rowtime: rowtime, HasRowtime: hasRowtime}, nil
}

// caseHint suggests, for a source name that does not exist, the source whose name differs only in case.
func (a *Analyzer) caseHint(name parser.Ident) string {
	for _, src := range a.Meta.Sources() {
		if src.Name == name.Name || !strings.EqualFold(src.Name, name.Name) {
			continue
		}
		if name.Quoted {
			return fmt.Sprintf("\nDid you mean %s? Hint: try removing double quotes from the source name.", src.Name)
		}
		return fmt.Sprintf("\nDid you mean \"%s\"? Hint: wrap the source name in double quotes to make it case-sensitive.", src.Name)
	}
	return ""
}

func itoa(i int) string { return strconv.Itoa(i) }

// inheritedKeyFormat is the key format of a query result that has key columns although its first source
// has none (key format NONE): a joined source's key format, else the session's default key format
// (ksql.persistence.default.format.key) when set, else the value format when it can hold the key, else
// KAFKA.
func inheritedKeyFormat(q *ir.Query, vf, def string) string {
	for _, s := range q.Sources[1:] {
		if s.Source.KeyFormat != "NONE" {
			return s.Source.KeyFormat
		}
	}
	// No source has a key format to pass on: the session's default key format applies when set.
	if def = strings.ToUpper(def); def != "" && format.Known(def) && format.ValidateKeySchema(def, q.Output.Key()) == nil {
		return def
	}
	if format.ValidateKeySchema(vf, q.Output.Key()) == nil {
		return vf
	}
	return "KAFKA"
}

// wrapSingleValue refuses WRAP_SINGLE_VALUE, true or false, for a value of other than one column (header
// columns are not in the value), as ksqlDB's SerdeFeaturesFactory does: only a single column can be
// written wrapped or bare.
func wrapSingleValue(props parser.Properties, vals []types.Column, pos sqlerr.Pos) error {
	if _, ok := propString(props, "WRAP_SINGLE_VALUE"); !ok {
		return nil
	}
	n := 0
	for _, c := range vals {
		if c.Namespace != types.NamespaceHeader {
			n++
		}
	}
	if n != 1 {
		return sqlerr.New(sqlerr.Property, pos, "'WRAP_SINGLE_VALUE' is only valid for single-field value schemas")
	}
	return nil
}

// formatProps checks the WITH properties that configure the value format, with ksqlDB's messages.
func formatProps(props parser.Properties, vf string, pos sqlerr.Pos) error {
	if d, ok := propString(props, "VALUE_DELIMITER"); ok {
		if vf != "DELIMITED" {
			return sqlerr.New(sqlerr.Property, pos, "%s does not support the following configs: [delimiter]", vf)
		}
		switch up := strings.ToUpper(d); {
		case up == "TAB" || up == "SPACE":
		case strings.TrimSpace(d) == "":
			return sqlerr.New(sqlerr.Property, pos, "Failed to prepare statement: Configuration VALUE_DELIMITER is invalid: Delimiter cannot be empty, if you meant to have a tab or space for delimiter, please use the special values 'TAB' or 'SPACE'\nExample valid value: ';'")
		case len([]rune(d)) != 1:
			return sqlerr.New(sqlerr.Property, pos, "Failed to prepare statement: Configuration VALUE_DELIMITER is invalid: Invalid delimiter value: '%s'. Delimiter must be a single character or TAB,SPACE\nExample valid value: ';'", d)
		}
	}
	if _, ok := propString(props, "VALUE_AVRO_SCHEMA_FULL_NAME"); ok && vf != "AVRO" {
		return sqlerr.New(sqlerr.Property, pos, "%s does not support the following configs: [fullSchemaName]", vf)
	}
	if w, ok := propString(props, "WRAP_SINGLE_VALUE"); ok && vf == "DELIMITED" && strings.EqualFold(w, "true") {
		return sqlerr.New(sqlerr.Property, pos, "Format 'DELIMITED' does not support 'WRAP_SINGLE_VALUE' set to 'true'.")
	}
	return nil
}

// titleWord writes an ASCII keyword such as STREAM as ksqlDB's messages do: "Stream".
func titleWord(w string) string {
	if w == "" {
		return w
	}
	return w[:1] + strings.ToLower(w[1:])
}

// tableRepartition is ksqlDB's refusal, when it builds the physical plan, to re-key a table: PARTITION BY
// over a table source (without a join or GROUP BY) must name exactly the table's key column.
func tableRepartition(q *ir.Query, pq *parser.Query) error {
	if len(pq.PartitionBy) == 0 || len(q.Joins) > 0 || len(pq.GroupBy) > 0 || q.Sources[0].Source.Kind != ir.Table {
		return nil
	}
	src := q.Sources[0]
	keys := src.Source.Schema.Key()
	same := len(keys) == len(pq.PartitionBy)
	var exprs []string
	for i, pb := range pq.PartitionBy {
		cr, ok := pb.(*parser.ColumnRef)
		if !ok || (cr.Qualifier != nil && cr.Qualifier.Name != src.Alias) || i >= len(keys) || cr.Name.Name != keys[i].Name {
			same = false
		}
		e := parser.FormatExpr(pb)
		e = strings.ReplaceAll(e, parser.FormatIdent(src.Alias)+".", "")
		exprs = append(exprs, e)
	}
	switch {
	case same:
		return nil
	case len(keys) > 1:
		return sqlerr.New(sqlerr.Unsupported, pq.PartitionBy[0].Position(), "Cannot repartition a TABLE source. If this is a join, joins on tables with multiple columns is not yet supported.")
	case len(keys) == 0:
		return nil
	}
	return sqlerr.New(sqlerr.Unsupported, pq.PartitionBy[0].Position(), "Cannot repartition a TABLE source. If this is a join, make sure that the criteria uses the TABLE's key column %s instead of %s",
		keys[0].Name, strings.Join(exprs, ", "))
}
