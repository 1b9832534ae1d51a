package planner_test

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql"
	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/planner"
)

func TestBuild(t *testing.T) {
	setup := []string{
		"CREATE STREAM S (ID INT KEY, A INT, ARR ARRAY<INT>) WITH (kafka_topic='s', value_format='JSON');",
		"CREATE TABLE T (ID INT PRIMARY KEY, B STRING) WITH (kafka_topic='t', value_format='JSON');",
	}
	for _, tc := range []struct{ sql, want string }{
		{"CREATE STREAM O AS SELECT ID, A + 1 AS X FROM S WHERE A > 0;", "Source(S) -> Filter -> Project -> Sink(O)"},
		{"CREATE STREAM O AS SELECT ID, EXPLODE(ARR) AS E FROM S;", "Source(S) -> TableFunction -> Project -> Sink(O)"},
		{"CREATE STREAM O AS SELECT A, ID FROM S PARTITION BY A;", "Source(S) -> Project -> Sink(O)"},
		{"CREATE TABLE O AS SELECT A, COUNT(*) AS N FROM S GROUP BY A HAVING COUNT(*) > 1;", "Source(S) -> Aggregate -> Having -> Project -> Sink(O)"},
		{"CREATE TABLE O AS SELECT A, COUNT(*) AS N FROM S WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY A EMIT FINAL;", "Source(S) -> Aggregate(TUMBLING) -> Suppress(FINAL) -> Project -> Sink(O)"},
		{"CREATE STREAM O AS SELECT S.ID, B FROM S JOIN T ON S.ID = T.ID;", "Source(S) -> Join(INNER T) -> Project -> Sink(O)"},
	} {
		meta := analyzer.NewMetastore()
		a := analyzer.New(meta)
		var ps parser.Parser
		var last analyzer.Analyzed
		for _, s := range append(append([]string{}, setup...), tc.sql) {
			parsed, err := ps.ParseScript(s)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			if last, err = a.Analyze(parsed[0].Statement, parsed[0].Text); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			a.Apply(last)
		}
		pq := last.(*analyzer.PersistentQuery)
		p, err := planner.Build(pq.Query, pq.Sink)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if got := p.String(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.sql, got, tc.want)
		}
	}
}

// TestRepartition checks which queries repartition, as ksqlDB's plans do: grouping or joining by the
// source's key columns reads the source's partitions as they are; grouping by anything else, or a
// join on a value column, writes a repartition topic first.
func TestRepartition(t *testing.T) {
	ddl := "CREATE STREAM S (ID INT KEY, A INT) WITH (kafka_topic='s', format='JSON');\n" +
		"CREATE TABLE T (ID INT PRIMARY KEY, B STRING) WITH (kafka_topic='t', format='JSON');\n"
	for _, tc := range []struct {
		sql         string
		repartition bool
	}{
		{"CREATE TABLE O AS SELECT ID, COUNT(*) AS N FROM S GROUP BY ID;", false},
		{"CREATE TABLE O AS SELECT ID, COUNT(*) AS N FROM S WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY ID;", false},
		{"CREATE TABLE O AS SELECT A, COUNT(*) AS N FROM S GROUP BY A;", true},
		{"CREATE TABLE O AS SELECT ID, A, COUNT(*) AS N FROM S GROUP BY ID, A;", true},
		{"CREATE STREAM O AS SELECT S.ID, B FROM S JOIN T ON S.ID = T.ID;", false},
		{"CREATE STREAM O AS SELECT T.ID, S.ID AS SID, B FROM S JOIN T ON S.A = T.ID;", true},
		{"CREATE TABLE O AS SELECT ID, B FROM T;", false},
	} {
		topo, err := sql.Compile(analyzer.NewMetastore(), ddl+tc.sql)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		desc := topo.Describe().String()
		if got := strings.Contains(desc, "-repartition"); got != tc.repartition {
			t.Errorf("%s: repartitions = %v, want %v\n%s", tc.sql, got, tc.repartition, desc)
		}
	}
}

// TestNullKeys checks null Kafka keys and values: a multi-column key passed through from a null key is
// written back as null, a table source skips records without a key, and PARTITION BY gives a null value a
// null key.
func TestNullKeys(t *testing.T) {
	type rec struct{ k, v string } // "" is null
	multi := []rec{{`{"K1":1,"K2":2}`, `{"V":1}`}, {"", `{"V":2}`}, {`{"K1":null,"K2":3}`, `{"V":3}`}}
	for _, tc := range []struct {
		script string
		in     []rec
		want   []string // "key|value" of each output record, "<nil>" for null
	}{
		{"CREATE STREAM I (K1 INT KEY, K2 INT KEY, V INT) WITH (kafka_topic='in', format='JSON');\n" +
			"CREATE STREAM O WITH (kafka_topic='out') AS SELECT * FROM I;",
			multi, []string{`{"K1":1,"K2":2}|{"V":1}`, `<nil>|{"V":2}`, `{"K1":null,"K2":3}|{"V":3}`}},
		{"CREATE TABLE I (K1 INT PRIMARY KEY, K2 INT PRIMARY KEY, V INT) WITH (kafka_topic='in', format='JSON');\n" +
			"CREATE TABLE O WITH (kafka_topic='out') AS SELECT * FROM I;",
			multi, []string{`{"K1":1,"K2":2}|{"V":1}`, `{"K1":null,"K2":3}|{"V":3}`}},
		{"CREATE STREAM I (ID INT KEY, NAME STRING) WITH (kafka_topic='in', format='JSON');\n" +
			"CREATE STREAM O WITH (kafka_topic='out') AS SELECT * FROM I PARTITION BY (NAME IS NULL);",
			[]rec{{"1", ""}, {"2", `{"NAME":null}`}}, []string{`<nil>|<nil>`, `true|{"NAME":null,"ID":2}`}},
	} {
		topo, err := sql.Compile(analyzer.NewMetastore(), tc.script)
		if err != nil {
			t.Fatal(err)
		}
		drv, err := runtime.NewTestDriver(topo, runtime.ApplicationID("planner-test"))
		if err != nil {
			t.Fatal(err)
		}
		bytesOf := func(s string) []byte {
			if s == "" {
				return nil
			}
			return []byte(s)
		}
		for i, in := range tc.in {
			if err := drv.PipeInput("in", bytesOf(in.k), bytesOf(in.v), int64(i)); err != nil {
				t.Fatal(err)
			}
		}
		text := func(b []byte) string {
			if b == nil {
				return "<nil>"
			}
			return string(b)
		}
		var got []string
		for {
			r, ok := drv.ReadOutput("out")
			if !ok {
				break
			}
			got = append(got, text(r.Key)+"|"+text(r.Value))
		}
		drv.Close()
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tc.script, got, tc.want)
		}
	}
}

// TestWindowedJoinMatchesWindows checks that rows of windowed streams join only within the same window.
func TestWindowedJoinMatchesWindows(t *testing.T) {
	topo, err := sql.Compile(analyzer.NewMetastore(),
		"CREATE STREAM S1 (ID INT KEY, V BIGINT) WITH (kafka_topic='l', value_format='JSON', WINDOW_TYPE='SESSION');\n"+
			"CREATE STREAM S2 (ID INT KEY, V BIGINT) WITH (kafka_topic='r', value_format='JSON', WINDOW_TYPE='SESSION');\n"+
			"CREATE STREAM O WITH (kafka_topic='out') AS SELECT S1.ID, S1.V, S2.V FROM S1 JOIN S2 WITHIN 1 MINUTE ON S1.ID = S2.ID;")
	if err != nil {
		t.Fatal(err)
	}
	drv, err := runtime.NewTestDriver(topo, runtime.ApplicationID("planner-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	// A session-windowed KAFKA key: the INT key, then the window end and start.
	key := func(id int32, start, end int64) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(id))
		b = binary.BigEndian.AppendUint64(b, uint64(end))
		return binary.BigEndian.AppendUint64(b, uint64(start))
	}
	for _, in := range []struct {
		topic      string
		start, end int64
		v          string
	}{{"l", 234, 765, `{"V":1}`}, {"r", 234, 567, `{"V":2}`}, {"r", 234, 765, `{"V":3}`}} {
		if err := drv.PipeInput(in.topic, key(1, in.start, in.end), []byte(in.v), in.end); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for {
		r, ok := drv.ReadOutput("out")
		if !ok {
			break
		}
		got = append(got, string(r.Value))
	}
	if want := []string{`{"S1_V":1,"S2_V":3}`}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestTimestampError checks that an unreadable TIMESTAMP column reaches the processing error handler as a
// *TimestampError, so that a handler can fail the query on it.
func TestTimestampError(t *testing.T) {
	topo, err := sql.Compile(analyzer.NewMetastore(),
		"CREATE STREAM S (K STRING KEY, TS STRING) WITH (kafka_topic='in', value_format='JSON', timestamp='ts', timestamp_format='yy-MM-dd HH:mm:ssX');\n"+
			"CREATE STREAM O WITH (kafka_topic='out') AS SELECT * FROM S;")
	if err != nil {
		t.Fatal(err)
	}
	drv, err := runtime.NewTestDriver(topo, runtime.ApplicationID("planner-test"), runtime.OnProcessingError(runtime.LogAndFail))
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	err = drv.PipeInput("in", nil, []byte(`{"TS":"!!!"}`), 0)
	var te *planner.TimestampError
	if !errors.As(err, &te) {
		t.Fatalf("got %v, want a *TimestampError", err)
	}
}

// TestTableJoinKeyFormats checks a table-table join of tables whose key formats differ: updates on either
// side find the other's row.
func TestTableJoinKeyFormats(t *testing.T) {
	topo, err := sql.Compile(analyzer.NewMetastore(),
		"CREATE TABLE T1 (ID INT PRIMARY KEY, V BIGINT) WITH (kafka_topic='l', key_format='KAFKA', value_format='JSON');\n"+
			"CREATE TABLE T2 (ID INT PRIMARY KEY, V BIGINT) WITH (kafka_topic='r', key_format='DELIMITED', value_format='JSON');\n"+
			"CREATE TABLE O WITH (kafka_topic='out') AS SELECT T1.ID, T1.V, T2.V FROM T1 JOIN T2 ON T1.ID = T2.ID;")
	if err != nil {
		t.Fatal(err)
	}
	drv, err := runtime.NewTestDriver(topo, runtime.ApplicationID("planner-test"))
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	for i, in := range []struct{ topic, k, v string }{
		{"l", "\x00\x00\x00\x00", `{"V":1}`}, {"r", "0", `{"V":2}`}, {"l", "\x00\x00\x00\x00", `{"V":3}`},
	} {
		if err := drv.PipeInput(in.topic, []byte(in.k), []byte(in.v), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for {
		r, ok := drv.ReadOutput("out")
		if !ok {
			break
		}
		got = append(got, string(r.Value))
	}
	if want := []string{`{"T1_V":1,"T2_V":2}`, `{"T1_V":3,"T2_V":2}`}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestUnreadColumns checks the columns a query does not read: they are not decoded for it, yet a
// record whose unread column is malformed fails as it does for a query that reads every column, with
// the same processing log entry, and the TIMESTAMP column is read though the query does not select it.
func TestUnreadColumns(t *testing.T) {
	ddl := "CREATE STREAM I (ID STRING KEY, A BIGINT, B BIGINT, C STRING, D DECIMAL(4, 2), TS BIGINT) " +
		"WITH (kafka_topic='in', value_format='JSON', timestamp='ts');\n"
	in := []string{
		`{"A":1,"B":2,"C":"x","D":1.5,"TS":100}`,
		`{"A":2,"B":"two","C":"x","D":1.5,"TS":101}`, // B does not convert
		`{"A":3,"B":3,"C":{"z":[1]},"D":1.5,"TS":102}`,
		`{"A":4,"B":4,"C":"x","D":123.45,"TS":103}`,      // D out of range
		`{"A":5,"B":5,"C":"x","D":1.5,"TS":104,"E":[1,}`, // malformed
		`{"A":6,"TS":"105"}`,
	}
	run := func(query string) (out, log []string) {
		topo, err := sql.Compile(analyzer.NewMetastore(), ddl+query)
		if err != nil {
			t.Fatal(err)
		}
		drv, err := runtime.NewTestDriver(topo, runtime.ApplicationID("planner-test"), runtime.ProcessingLogTopic("plog"))
		if err != nil {
			t.Fatal(err)
		}
		defer drv.Close()
		for i, v := range in {
			if err := drv.PipeInput("in", []byte(strconv.Itoa(i)), []byte(v), 0); err != nil {
				t.Fatal(err)
			}
		}
		for r, ok := drv.ReadOutput("out"); ok; r, ok = drv.ReadOutput("out") {
			out = append(out, fmt.Sprintf("%s@%d", r.Value, r.Timestamp))
		}
		for r, ok := drv.ReadOutput("plog"); ok; r, ok = drv.ReadOutput("plog") {
			var e runtime.ProcessingLogEntry
			if err := json.Unmarshal(r.Value, &e); err != nil {
				t.Fatal(err)
			}
			log = append(log, fmt.Sprintf("%s %s offset %d: %s", e.Type, e.Node, e.Offset, e.Message))
		}
		return out, log
	}
	out, log := run("CREATE STREAM O WITH (kafka_topic='out') AS SELECT ID, A FROM I WHERE A > 0;")
	if want := []string{`{"A":1}@100`, `{"A":3}@102`, `{"A":6}@105`}; !slices.Equal(out, want) {
		t.Errorf("output: got %q, want %q", out, want)
	}
	allOut, allLog := run("CREATE STREAM O WITH (kafka_topic='out') AS SELECT * FROM I WHERE A > 0;")
	if len(allOut) != len(out) {
		t.Errorf("reading every column: %q", allOut)
	}
	if len(log) != 3 || !slices.Equal(log, allLog) {
		t.Errorf("processing log:\n%s\nreading every column:\n%s", strings.Join(log, "\n"), strings.Join(allLog, "\n"))
	}
}

// TestInputRowReused: a stream read by a filter and the projection only decodes every record into
// one Input row (SourceNode.RowDies), and a persistent query's projection writes every value into
// one row (ProjectNode.RowDies). No value of a record reaches the next one, whether the record
// before it had more fields, failed half-decoded, or was filtered out; the other queries keep an
// Input row per record.
func TestInputRowReused(t *testing.T) {
	ddl := "CREATE STREAM I (ID STRING KEY, A BIGINT, B BIGINT, C STRING) WITH (kafka_topic='in', value_format='JSON');\n"
	in := []string{
		`{"A":1,"B":2,"C":"x"}`,
		`{"A":2}`,
		`{"C":"y","A":3,"B":"three"}`, // B does not convert: the record fails after C and A are decoded
		`{"B":4}`,
		`{"A":-5,"B":5,"C":"z"}`, // filtered out
		`{"C":"w"}`,
	}
	for _, tc := range []struct {
		query  string
		reused bool
		want   []string
	}{
		{"CREATE STREAM O WITH (kafka_topic='out') AS SELECT * FROM I WHERE A IS NULL OR A > 0;", true,
			[]string{`{"A":1,"B":2,"C":"x"}`, `{"A":2,"B":null,"C":null}`, `{"A":null,"B":4,"C":null}`, `{"A":null,"B":null,"C":"w"}`}},
		{"CREATE STREAM O WITH (kafka_topic='out') AS SELECT ID, C, A FROM I;", true,
			[]string{`{"C":"x","A":1}`, `{"C":null,"A":2}`, `{"C":null,"A":null}`, `{"C":"z","A":-5}`, `{"C":"w","A":null}`}},
		{"CREATE TABLE O WITH (kafka_topic='out') AS SELECT ID, COUNT(*) AS N FROM I GROUP BY ID;", false, nil},
	} {
		stmts := ddl + tc.query
		a := analyzer.New(analyzer.NewMetastore())
		var ps parser.Parser
		var last analyzer.Analyzed
		parsed, err := ps.ParseScript(stmts)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range parsed {
			if last, err = a.Analyze(st.Statement, st.Text); err != nil {
				t.Fatalf("%s: %v", st.Text, err)
			}
			a.Apply(last)
		}
		pq := last.(*analyzer.PersistentQuery)
		p, err := planner.Build(pq.Query, pq.Sink)
		if err != nil {
			t.Fatal(err)
		}
		if got := p.Nodes[0].(*planner.SourceNode).RowDies; got != tc.reused {
			t.Errorf("%s: RowDies %v, want %v", tc.query, got, tc.reused)
		}
		// A persistent query's projection feeds only its sink, which serializes the row.
		if pn := p.Nodes[len(p.Nodes)-2].(*planner.ProjectNode); !pn.RowDies {
			t.Errorf("%s: the projection's RowDies is false", tc.query)
		}
		if tc.want == nil {
			continue
		}
		topo, err := sql.Compile(analyzer.NewMetastore(), stmts)
		if err != nil {
			t.Fatal(err)
		}
		drv, err := runtime.NewTestDriver(topo, runtime.ApplicationID("planner-test"))
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range in {
			if err := drv.PipeInput("in", []byte(strconv.Itoa(i)), []byte(v), 0); err != nil {
				t.Fatal(err)
			}
		}
		var got []string
		for r, ok := drv.ReadOutput("out"); ok; r, ok = drv.ReadOutput("out") {
			got = append(got, string(r.Value))
		}
		drv.Close()
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s:\n got %q\nwant %q", tc.query, got, tc.want)
		}
	}
}
