package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files under testdata/ with the current output")

// golden compares got with testdata/<name>.golden, or writes it with -rewrite.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *rewrite {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -rewrite to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s (run with -rewrite to update it)\n--- got:\n%s\n--- want:\n%s", name, path, got, want)
	}
}

// checkWidth fails when a line of out is wider than w display cells.
func checkWidth(t *testing.T, out string, w int) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if n := width(line); n > w {
			t.Errorf("line is %d cells wide, more than %d: %q", n, w, line)
		}
	}
}

// checkAligned fails when the box-table lines of out do not all have the same width.
func checkAligned(t *testing.T, out string) {
	t.Helper()
	n := -1
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "|") && !strings.HasPrefix(line, "+") {
			continue
		}
		if n >= 0 && width(line) != n {
			t.Errorf("line is %d cells wide, the table's others %d: %q", width(line), n, line)
		}
		n = width(line)
	}
}

// Entities as engine/execute.go, engine/functions.go and engine/rest.go produce them.
var entityCases = []struct{ name, body string }{
	{"current_status", `[{"@type":"currentStatus","statementText":"CREATE STREAM S (ID BIGINT KEY, NAME STRING) WITH (KAFKA_TOPIC='s', VALUE_FORMAT='JSON', PARTITIONS=1);",
		"commandId":"stream/` + "`S`" + `/create","commandStatus":{"status":"SUCCESS","message":"Stream created","queryId":null},"commandSequenceNumber":2,"warnings":[]}]`},
	{"current_status_query", `[{"@type":"currentStatus","statementText":"CREATE TABLE T AS SELECT ID, COUNT(*) AS N FROM S GROUP BY ID;",
		"commandId":"table/` + "`T`" + `/create","commandStatus":{"status":"SUCCESS","message":"Created query with ID CTAS_T_3\nsecond line","queryId":"CTAS_T_3"},"commandSequenceNumber":3,"warnings":[]}]`},
	{"two_statements", `[{"@type":"currentStatus","statementText":"DROP STREAM A;","commandId":"stream/` + "`A`" + `/drop","commandStatus":{"status":"SUCCESS","message":"Source ` + "`A`" + ` (topic: a) was dropped.","queryId":null},"commandSequenceNumber":4,"warnings":[]},
		{"@type":"currentStatus","statementText":"DROP STREAM B;","commandId":"stream/` + "`B`" + `/drop","commandStatus":{"status":"SUCCESS","message":"Source ` + "`B`" + ` (topic: b) was dropped.","queryId":null},"commandSequenceNumber":5,"warnings":[{"message":"the topic was kept"}]}]`},
	{"streams", `[{"@type":"streams","statementText":"SHOW STREAMS;","streams":[
		{"type":"STREAM","name":"PAGEVIEWS","topic":"pageviews","keyFormat":"KAFKA","valueFormat":"JSON","isWindowed":false},
		{"type":"STREAM","name":"CLICKS","topic":"clicks","keyFormat":"KAFKA","valueFormat":"AVRO","isWindowed":false}],"warnings":[]}]`},
	{"streams_empty", `[{"@type":"streams","statementText":"SHOW STREAMS;","streams":[],"warnings":[]}]`},
	{"tables", `[{"@type":"tables","statementText":"SHOW TABLES;","tables":[
		{"type":"TABLE","name":"USERS","topic":"users","keyFormat":"KAFKA","valueFormat":"JSON","isWindowed":false},
		{"type":"TABLE","name":"COUNTS","topic":"COUNTS","keyFormat":"KAFKA","valueFormat":"JSON","isWindowed":true}],"warnings":[]}]`},
	{"queries", `[{"@type":"queries","statementText":"SHOW QUERIES;","queries":[
		{"queryString":"CREATE TABLE COUNTS AS SELECT ID, COUNT(*) AS N\nFROM PAGEVIEWS\nGROUP BY ID;","sinks":["COUNTS"],"sinkKafkaTopics":["COUNTS"],"id":"CTAS_COUNTS_1","statusCount":{"RUNNING":1},"queryType":"PERSISTENT","state":"RUNNING"},
		{"queryString":"SELECT * FROM PAGEVIEWS EMIT CHANGES;","sinks":[],"sinkKafkaTopics":[],"id":"transient_PAGEVIEWS_42","statusCount":{"RUNNING":1},"queryType":"PUSH","state":"RUNNING"}],"warnings":[]}]`},
	{"topics", `[{"@type":"kafka_topics","statementText":"SHOW TOPICS;","topics":[
		{"name":"clicks","replicaInfo":[1,1,1,1]},{"name":"pageviews","replicaInfo":[1]}],"warnings":[]}]`},
	{"properties", `[{"@type":"properties","statementText":"SHOW PROPERTIES;","properties":[
		{"name":"ksql.service.id","scope":"KSQL","value":"seiche_"},
		{"name":"auto.offset.reset","scope":"KSQL","value":"earliest"},
		{"name":"commit.interval.ms","scope":"KSQL","value":"100"}],"overwrittenProperties":[],"defaultProperties":[],"warnings":[]}]`},
	{"functions", `[{"@type":"function_names","statementText":"SHOW FUNCTIONS;","functions":[
		{"name":"UCASE","type":"SCALAR","category":""},{"name":"ABS","type":"SCALAR","category":""},
		{"name":"COUNT","type":"AGGREGATE","category":""},{"name":"EXPLODE","type":"TABLE","category":""}],"warnings":[]}]`},
	{"functions_categories", `[{"@type":"function_names","statementText":"SHOW FUNCTIONS;","functions":[
		{"name":"UCASE","type":"SCALAR","category":"STRING"},{"name":"ABS","type":"SCALAR","category":"MATHEMATICAL"},
		{"name":"LCASE","type":"SCALAR","category":"STRING"}],"warnings":[]}]`},
	{"describe_function", `[{"@type":"describe_function","statementText":"DESCRIBE FUNCTION ucase;","name":"UCASE",
		"type":"SCALAR","author":"Seiche","version":"","description":"","functions":[],"path":"internal","warnings":[]}]`},
	{"describe_function_variations", `[{"@type":"describe_function","statementText":"DESCRIBE FUNCTION SUBSTRING;","name":"substring",
		"type":"SCALAR","author":"Seiche","version":"1.0","description":"Returns the portion of a string.","path":"internal","warnings":[],
		"functions":[{"arguments":[{"name":"str","type":"VARCHAR","description":"The source string.","isVariadic":false},{"name":"pos","type":"INT","description":"","isVariadic":false}],
		"returnType":"VARCHAR","description":"Returns str from pos to its end."}]}]`},
	{"types", `[{"@type":"type_list","statementText":"SHOW TYPES;","types":{"ADDRESS":"STRUCT<STREET STRING, ZIP INTEGER>","MONEY":"DECIMAL(10, 2)"},"warnings":[]}]`},
	{"variables", `[{"@type":"variables","statementText":"SHOW VARIABLES;","variables":[],"warnings":[]}]`},
	{"describe", `[{"@type":"sourceDescription","statementText":"DESCRIBE PAGEVIEWS;","sourceDescription":` + pageviews(false) + `,"warnings":[]}]`},
	{"describe_extended", `[{"@type":"sourceDescription","statementText":"DESCRIBE PAGEVIEWS EXTENDED;","sourceDescription":` + pageviews(true) + `,"warnings":[]}]`},
	{"describe_windowed_table", `[{"@type":"sourceDescription","statementText":"DESCRIBE COUNTS;","sourceDescription":{
		"name":"COUNTS","windowType":"TUMBLING","readQueries":[],"writeQueries":[],"type":"TABLE","timestamp":"","statistics":"","errorStats":"","extended":false,
		"keyFormat":"KAFKA","valueFormat":"JSON","topic":"COUNTS","partitions":1,"replication":1,"statement":"","queryOffsetSummaries":[],"sourceConstraints":[],
		"fields":[{"name":"ID","schema":{"type":"BIGINT","fields":null,"memberSchema":null},"type":"KEY"},{"name":"N","schema":{"type":"BIGINT","fields":null,"memberSchema":null}}]},"warnings":[]}]`},
	{"source_descriptions", `[{"@type":"source_descriptions","statementText":"SHOW STREAMS EXTENDED;","sourceDescriptions":[` + pageviews(true) + `],"warnings":[]}]`},
	{"explain", `[{"@type":"queryDescription","statementText":"EXPLAIN CTAS_COUNTS_1;","queryDescription":{
		"id":"CTAS_COUNTS_1","statementText":"CREATE TABLE COUNTS AS SELECT ID, COUNT(*) AS N FROM PAGEVIEWS GROUP BY ID;","windowType":null,
		"fields":[{"name":"ID","schema":{"type":"BIGINT","fields":null,"memberSchema":null},"type":"KEY"},{"name":"N","schema":{"type":"BIGINT","fields":null,"memberSchema":null}}],
		"sources":["PAGEVIEWS"],"sinks":["COUNTS"],
		"topology":"Topologies:\n   Sub-topology: 0\n    Source: KSTREAM-SOURCE-0000000000 (topics: [pageviews])\n      --> Aggregate",
		"executionPlan":" > [ SINK ] | Schema: ID BIGINT KEY, N BIGINT\n\t\t > [ AGGREGATE ] | Schema: ID BIGINT KEY, N BIGINT",
		"overriddenProperties":{"auto.offset.reset":"earliest"},"queryType":"PERSISTENT","state":"RUNNING","ksqlHostQueryStatus":{}},"warnings":[]}]`},
	{"warning_entity", `[{"@type":"warning_entity","statementText":"LIST VARIABLES;","message":"No variables are defined","warnings":[]}]`},
	{"unknown_entity", `[{"@type":"connector_list","statementText":"SHOW CONNECTORS;","connectors":[]}]`},
}

// pageviews is the SourceDescription engine.sourceDescription gives a stream read by one query.
func pageviews(extended bool) string {
	ext := "false"
	stats, errStats := "", ""
	if extended {
		ext = "true"
		stats, errStats = "consumer-messages-per-sec:         0 consumer-total-messages:         3", "consumer-failed-messages:         0"
	}
	return `{"name":"PAGEVIEWS","windowType":null,"type":"STREAM","timestamp":"VIEWTIME","statistics":"` + stats + `","errorStats":"` + errStats + `","extended":` + ext + `,
		"keyFormat":"KAFKA","valueFormat":"JSON","topic":"pageviews","partitions":4,"replication":1,
		"statement":"CREATE STREAM PAGEVIEWS (ID BIGINT KEY, VIEWTIME BIGINT, PAGE STRING) WITH (KAFKA_TOPIC='pageviews', VALUE_FORMAT='JSON', TIMESTAMP='VIEWTIME');",
		"queryOffsetSummaries":[],"sourceConstraints":[],"writeQueries":[],
		"readQueries":[{"queryString":"CREATE TABLE COUNTS AS SELECT ID, COUNT(*) AS N\nFROM PAGEVIEWS GROUP BY ID;","sinks":["COUNTS"],"sinkKafkaTopics":["COUNTS"],"id":"CTAS_COUNTS_1","statusCount":{"RUNNING":1},"queryType":"PERSISTENT","state":"RUNNING"}],
		"fields":[
			{"name":"ID","schema":{"type":"BIGINT","fields":null,"memberSchema":null},"type":"KEY"},
			{"name":"VIEWTIME","schema":{"type":"BIGINT","fields":null,"memberSchema":null}},
			{"name":"PAGE","schema":{"type":"STRING","fields":null,"memberSchema":null}},
			{"name":"PRICE","schema":{"type":"DECIMAL","fields":null,"memberSchema":null,"parameters":{"precision":10,"scale":2}}},
			{"name":"TAGS","schema":{"type":"ARRAY","fields":null,"memberSchema":{"type":"STRING","fields":null,"memberSchema":null}}},
			{"name":"ATTRS","schema":{"type":"MAP","fields":null,"memberSchema":{"type":"INTEGER","fields":null,"memberSchema":null}}},
			{"name":"ADDR","schema":{"type":"STRUCT","memberSchema":null,"fields":[{"name":"STREET","schema":{"type":"STRING","fields":null,"memberSchema":null}},{"name":"ZIP","schema":{"type":"INTEGER","fields":null,"memberSchema":null}}]}}]}`
}

func TestEntities(t *testing.T) {
	for _, c := range entityCases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Entities(&b, []byte(c.body), Options{}); err != nil {
				t.Fatal(err)
			}
			golden(t, "entity_"+c.name, b.String())
		})
	}
}

func TestEntitiesNarrow(t *testing.T) {
	for _, c := range entityCases {
		t.Run(c.name, func(t *testing.T) {
			for _, w := range []int{20, 30, 40} {
				var b bytes.Buffer
				if err := Entities(&b, []byte(c.body), Options{Width: w}); err != nil {
					t.Fatal(err)
				}
				if c.name == "streams" && w == 40 {
					golden(t, "entity_streams_width40", b.String())
				}
				// Tables keep within the terminal; free text (statements, plans) wraps as the terminal
				// wraps it.
				var table strings.Builder
				for _, line := range strings.Split(b.String(), "\n") {
					if strings.Contains(line, " | ") && !strings.Contains(line, "Schema:") || strings.HasPrefix(line, "---") {
						table.WriteString(line + "\n")
					}
				}
				checkWidth(t, table.String(), w)
			}
		})
	}
}

func TestEntitiesJSON(t *testing.T) {
	var b bytes.Buffer
	if err := Entities(&b, []byte(entityCases[0].body), Options{Format: JSON}); err != nil {
		t.Fatal(err)
	}
	golden(t, "entity_json", b.String())
}

func TestEntitiesErrorBody(t *testing.T) {
	body := `{"@type":"statement_error","error_code":40001,"message":"Line: 1, Col: 10: Could not find STREAM/TABLE 'NOPE' in the Metastore","statementText":"DESCRIBE NOPE;","entities":[]}`
	var b bytes.Buffer
	err := Entities(&b, []byte(body), Options{})
	if !errors.Is(err, ErrServerError) {
		t.Fatalf("err = %v, want ErrServerError", err)
	}
	golden(t, "entity_error", b.String())
	if err := Entities(&b, []byte("not json"), Options{}); err == nil {
		t.Fatal("no error for a body that is not JSON")
	}
}

func TestError(t *testing.T) {
	cases := []struct {
		name, message, statement string
		o                        Options
	}{
		{"syntax_line2", "line 2:8: Syntax Error\nexpected one of WHERE, GROUP, EMIT but found 'WHER'\nStatement: SELECT *\nFROM S WHER ID = 1;",
			"SELECT *\nFROM S WHER ID = 1;", Options{}},
		{"col_words", "Line: 1, Col: 22: Could not find STREAM/TABLE 'NOPE' in the Metastore", "SELECT * FROM S JOIN NOPE ON S.ID = NOPE.ID;", Options{}},
		{"tab_and_cjk", "Line: 1, Col: 9: unknown column", "SELECT\t'日本', X FROM S;", Options{}},
		{"pull_where", "2:16: Error in WHERE expression: WHERE column 'EMIT' cannot be resolved.\nStatement: EMIT",
			"SELECT * FROM\n  orders WHERE EMIT;", Options{}},
		{"insert_values", "Failed to prepare statement: Cannot insert 'x' into INTEGER column N (line 1:36)",
			"INSERT INTO S (ID, N) VALUES (1, 2, 'x');", Options{}},
		{"no_position", "Path not found: /nope", "", Options{}},
		{"position_outside", "line 3:1: Syntax Error", "SELECT 1;", Options{}},
		{"color", "line 1:8: Syntax Error", "SELECT FROM S;", Options{Color: true}},
		{"long_line_narrow", "Line: 1, Col: 73: Could not find column 'NOPE'",
			"SELECT ID, NAME, PAGE, VIEWTIME, PRICE, TAGS, ATTRS, ADDR, ID * 2 AS X, NOPE FROM PAGEVIEWS;", Options{Width: 40}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			Error(&b, c.message, c.statement, c.o)
			golden(t, "error_"+c.name, b.String())
			if c.o.Width > 0 {
				checkWidth(t, b.String(), max(c.o.Width, naturalWidth(c.message)))
			}
		})
	}
}

// TestErrorCaret checks the caret lands under the named column on line 2 of a statement.
func TestErrorCaret(t *testing.T) {
	var b bytes.Buffer
	Error(&b, "line 2:8: Syntax Error", "SELECT *\nFROM S WHER ID = 1;", Options{})
	lines := strings.Split(b.String(), "\n")
	if len(lines) < 3 {
		t.Fatalf("output %q", b.String())
	}
	src, car := lines[1], lines[2]
	if !strings.HasPrefix(src, "LINE 2: ") || strings.Index(car, "^") != len("LINE 2: ")+7 || src[strings.Index(car, "^"):][:4] != "WHER" {
		t.Errorf("caret not under column 8 of line 2:\n%s\n%s", src, car)
	}
}

func rowsOf(t *testing.T, lines ...string) [][]any {
	t.Helper()
	var rows [][]any
	for _, l := range lines {
		r, err := DecodeRow([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, r)
	}
	return rows
}

func TestTable(t *testing.T) {
	cols := []Column{{"ID", "BIGINT"}, {"NAME", "STRING"}, {"PRICE", "DECIMAL(10, 2)"}, {"ADDR", "STRUCT<`STREET` STRING, `ZIP` INTEGER>"}, {"OK", "BOOLEAN"}}
	rows := rowsOf(t,
		`[1, "alice", 12.50, {"STREET":"Main St","ZIP":12345}, true]`,
		`[12345678901234567890, null, 0.10, null, false]`,
		`[3, "bob \"the builder\"", 1e3, {"ZIP":1,"STREET":"z"}, null]`,
	)
	var b bytes.Buffer
	Table(&b, cols, rows, Options{})
	golden(t, "table", b.String())
	checkAligned(t, b.String())
}

func TestTableWide(t *testing.T) {
	cols := []Column{{"ID", "BIGINT"}, {"DESCRIPTION", "STRING"}, {"CITY", "STRING"}, {"AMOUNT", "DOUBLE"}}
	rows := rowsOf(t,
		`[1, "a rather long description that cannot fit in forty columns", "Paris", 3.25]`,
		`[2, "short", "Rio de Janeiro", -1.5]`,
	)
	var b bytes.Buffer
	Table(&b, cols, rows, Options{Width: 40})
	golden(t, "table_width40", b.String())
	checkWidth(t, b.String(), 40)
	checkAligned(t, b.String())

	// Too many columns for 20 cells: the middle ones are left out behind a "…" column.
	b.Reset()
	Table(&b, cols, rows, Options{Width: 20})
	golden(t, "table_width20", b.String())
	checkWidth(t, b.String(), 20)
	checkAligned(t, b.String())
}

func TestTableUnicode(t *testing.T) {
	cols := []Column{{"名前", "STRING"}, {"EMOJI", "STRING"}, {"N", "INTEGER"}}
	rows := rowsOf(t,
		`["東京", "👍🏽 ok", 1]`,
		`["Zürich", "👨‍👩‍👧", 22]`,
		`["tab\there", "bell\u0007", 333]`,
	)
	var b bytes.Buffer
	Table(&b, cols, rows, Options{})
	golden(t, "table_unicode", b.String())
	checkAligned(t, b.String())

	b.Reset()
	Table(&b, cols, rowsOf(t, `["東京東京東京東京東京東京東京東京", "x", 1]`), Options{Width: 22})
	golden(t, "table_unicode_wrap", b.String())
	checkWidth(t, b.String(), 22)
	checkAligned(t, b.String())
}

func TestTableJSON(t *testing.T) {
	cols := []Column{{"ID", "BIGINT"}, {"NAME", "STRING"}, {"ADDR", "STRUCT"}, {"X", "DOUBLE"}}
	rows := rowsOf(t, `[12345678901234567890, "a<b>", {"Z":1,"A":2}, 1.10]`, `[2, null, null, 1e400]`)
	var b bytes.Buffer
	Table(&b, cols, rows, Options{Format: JSON})
	want := `{"ID":12345678901234567890,"NAME":"a<b>","ADDR":{"Z":1,"A":2},"X":1.10}` + "\n" +
		`{"ID":2,"NAME":null,"ADDR":null,"X":1e400}` + "\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("not JSON: %s", line)
		}
	}
}

// TestTableDecodedAny renders rows decoded by encoding/json with UseNumber, as a caller that does not
// use DecodeRow gives them.
func TestTableDecodedAny(t *testing.T) {
	d := json.NewDecoder(strings.NewReader(`[7, "x", {"B":1,"A":[1,2]}]`))
	d.UseNumber()
	var row []any
	if err := d.Decode(&row); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	Table(&b, []Column{{Name: "N"}, {Name: "S"}, {Name: "M"}}, [][]any{row}, Options{})
	want := "+---+---+-------------------+\n" +
		"| N | S | M                 |\n" +
		"+---+---+-------------------+\n" +
		"| 7 | x | {\"A\":[1,2],\"B\":1} |\n" +
		"+---+---+-------------------+\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// flushRecorder records what was written at each Flush.
type flushRecorder struct {
	bytes.Buffer
	flushes []string
}

func (f *flushRecorder) Flush() error {
	f.flushes = append(f.flushes, f.String())
	return nil
}

func TestStream(t *testing.T) {
	cols := []Column{{"ID", "BIGINT"}, {"NAME", "STRING"}, {"TS", "TIMESTAMP"}, {"OK", "BOOLEAN"}}
	var w flushRecorder
	s := NewStream(&w, cols, Options{Width: 80})
	if len(w.flushes) != 1 || !strings.Contains(w.flushes[0], "| ID ") {
		t.Fatalf("the header was not flushed at once: %q", w.flushes)
	}
	for _, r := range rowsOf(t,
		`[1, "alice", "2024-01-31T23:59:59.999", true]`,
		`[2, "a name much longer than the width the stream chose for its column, which wraps", "2024-02-01T00:00:00.000", null]`,
	) {
		s.Row(r)
	}
	if len(w.flushes) != 3 {
		t.Errorf("%d flushes after two rows, want 3", len(w.flushes))
	}
	s.Close()
	s.Close()
	s.Row([]any{"after close"})
	golden(t, "stream_width80", w.String())
	checkWidth(t, w.String(), 80)
	checkAligned(t, w.String())

	var narrow bytes.Buffer
	s = NewStream(&narrow, cols, Options{Width: 30})
	s.Row(rowsOf(t, `[1, "alice", "2024-01-31T23:59:59.999", true]`)[0])
	s.Close()
	golden(t, "stream_width30", narrow.String())
	checkWidth(t, narrow.String(), 30)
	checkAligned(t, narrow.String())

	var unlimited bytes.Buffer
	s = NewStream(&unlimited, []Column{{"K", "STRING"}, {"V", "DECIMAL(4, 2)"}}, Options{})
	s.Row(rowsOf(t, `["k", 12.34]`)[0])
	s.Close()
	golden(t, "stream_unlimited", unlimited.String())
	checkAligned(t, unlimited.String())
}

func TestStreamJSON(t *testing.T) {
	var b bytes.Buffer
	s := NewStream(&b, []Column{{"ID", "BIGINT"}, {"V", "STRING"}}, Options{Format: JSON, Width: 80})
	s.Row([]any{json.Number("1"), "x"})
	s.Row([]any{json.Number("2")})
	s.Close()
	want := `{"ID":1,"V":"x"}` + "\n" + `{"ID":2,"V":null}` + "\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestFormatString(t *testing.T) {
	if Tabular.String() != "TABULAR" || JSON.String() != "JSON" {
		t.Errorf("Format names %s, %s", Tabular, JSON)
	}
}

// TestFitNeverOverflows lays out tables of many shapes at every narrow width and checks every line
// fits and the frame stays aligned.
func TestFitNeverOverflows(t *testing.T) {
	long := strings.Repeat("word ", 30)
	for ncols := 1; ncols <= 8; ncols++ {
		cols := make([]Column, ncols)
		row := make([]any, ncols)
		for i := range cols {
			cols[i] = Column{Name: strings.Repeat("C", i+1), Type: "STRING"}
			row[i] = long[:5*(i+1)]
		}
		for w := 12; w <= 60; w++ {
			var b bytes.Buffer
			Table(&b, cols, [][]any{row}, Options{Width: w})
			checkWidth(t, b.String(), w)
			checkAligned(t, b.String())
			b.Reset()
			s := NewStream(&b, cols, Options{Width: w})
			s.Row(row)
			s.Close()
			checkWidth(t, b.String(), w)
			checkAligned(t, b.String())
		}
	}
}
