package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"

	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/seichedb/seiche/internal/testutil"
)

// arrowCell renders element i of a as text, independently of the writer: lists as [..], maps as
// {k:v ...}, structs as {field:v ...}, timestamps as RFC 3339 in UTC.
func arrowCell(t *testing.T, a arrow.Array, i int) string {
	t.Helper()
	if a.IsNull(i) {
		return "null"
	}
	switch a := a.(type) {
	case *array.Boolean:
		return fmt.Sprint(a.Value(i))
	case *array.Int32:
		return fmt.Sprint(a.Value(i))
	case *array.Int64:
		return fmt.Sprint(a.Value(i))
	case *array.Float64:
		return fmt.Sprint(a.Value(i))
	case *array.String:
		return fmt.Sprintf("%q", a.Value(i))
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Timestamp:
		return time.UnixMilli(int64(a.Value(i))).UTC().Format(time.RFC3339Nano)
	case *array.Map: // before *array.List, which it embeds
		start, end := a.ValueOffsets(i)
		var kv []string
		for k := int(start); k < int(end); k++ {
			kv = append(kv, arrowCell(t, a.Keys(), k)+":"+arrowCell(t, a.Items(), k))
		}
		return "{" + strings.Join(kv, " ") + "}"
	case *array.List:
		start, end := a.ValueOffsets(i)
		var vs []string
		for k := int(start); k < int(end); k++ {
			vs = append(vs, arrowCell(t, a.ListValues(), k))
		}
		return "[" + strings.Join(vs, " ") + "]"
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		var fs []string
		for f := 0; f < a.NumField(); f++ {
			fs = append(fs, st.Field(f).Name+":"+arrowCell(t, a.Field(f), i))
		}
		return "{" + strings.Join(fs, " ") + "}"
	}
	t.Fatalf("unexpected Arrow array %T", a)
	return ""
}

// readArrow reads an Arrow IPC stream to its end and returns its schema and rows, each row its cells
// joined by " | ".
func readArrow(t *testing.T, r io.Reader) (*arrow.Schema, []string) {
	t.Helper()
	rd, err := ipc.NewReader(r)
	if err != nil {
		t.Fatalf("ipc.NewReader: %v", err)
	}
	defer rd.Release()
	var rows []string
	for rd.Next() {
		rec := rd.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			var cells []string
			for _, col := range rec.Columns() {
				cells = append(cells, arrowCell(t, col, i))
			}
			rows = append(rows, strings.Join(cells, " | "))
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatalf("reading the Arrow stream: %v", err)
	}
	return rd.Schema(), rows
}

// TestQueryStreamArrow asks /query-stream for Arrow IPC and reads the answer with arrow-go: a pull
// query and a push query with a LIMIT over a stream with columns of many types.
func TestQueryStreamArrow(t *testing.T) {
	b := brokertest.Start(t)
	s := startServer(t, b.Addr(), t.TempDir())
	url := s.url

	ksql(t, url, `CREATE STREAM T (K STRING KEY, I INT, B BIGINT, D DOUBLE, S STRING, F BOOLEAN, DEC DECIMAL(10,2),
		A ARRAY<INT>, M MAP<STRING, INT>, ST STRUCT<A INT>, TS TIMESTAMP) WITH (KAFKA_TOPIC='t', PARTITIONS=1, VALUE_FORMAT='JSON');`)
	ksql(t, url, `INSERT INTO T (K, I, B, D, S, F, DEC, A, M, ST, TS) VALUES ('k1', 1, 10000000000, 1.5, 'one', true, 12.34,
		ARRAY[1, 2, 3], MAP('x' := 1, 'y' := 2), STRUCT(A := 7), '2024-01-02T03:04:05.678');
		INSERT INTO T (K, I, B, D, S, F, DEC, A, M, ST, TS) VALUES ('k2', -2, -3, -0.25, '', false, -0.05,
		ARRAY[-1], MAP('z' := 26), STRUCT(A := -1), '1970-01-01T00:00:00.001');
		INSERT INTO T (K, I) VALUES ('k3', 3);`)
	want := []string{
		`"k1" | 1 | 10000000000 | 1.5 | "one" | true | 12.34 | [1 2 3] | {"x":1 "y":2} | {A:7} | 2024-01-02T03:04:05.678Z`,
		`"k2" | -2 | -3 | -0.25 | "" | false | -0.05 | [-1] | {"z":26} | {A:-1} | 1970-01-01T00:00:00.001Z`,
		`"k3" | 3 | null | null | null | null | null | null | null | null | null`,
	}
	wantTypes := []string{"K utf8", "I int32", "B int64", "D float64", "S utf8", "F bool", "DEC decimal(10, 2)",
		"A list<item: int32, nullable>", "M map<utf8, int32, items_nullable>", "ST struct<A: int32 nullable>", "TS timestamp[ms, tz=UTC]"}

	arrowQuery := func(sql string) (*arrow.Schema, []string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"sql": sql, "properties": earliest})
		req, err := http.NewRequest(http.MethodPost, url+"/query-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/vnd.apache.arrow.stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "application/vnd.apache.arrow.stream" {
			raw, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s: HTTP %d, Content-Type %q: %s", sql, resp.StatusCode, ct, raw)
		}
		return readArrow(t, resp.Body)
	}
	checkSchema := func(sql string, schema *arrow.Schema) {
		t.Helper()
		var got []string
		for _, f := range schema.Fields() {
			got = append(got, f.Name+" "+f.Type.String())
		}
		if !slices.Equal(got, wantTypes) {
			t.Fatalf("%s: Arrow schema\n%v\nwant\n%v", sql, strings.Join(got, "\n"), strings.Join(wantTypes, "\n"))
		}
	}

	// The pull query scans the topic, which INSERT VALUES has written to by the time it returned.
	sql := "SELECT * FROM T;"
	schema, rows := arrowQuery(sql)
	checkSchema(sql, schema)
	if !slices.Equal(rows, want) {
		t.Fatalf("%s: rows\n%s\nwant\n%s", sql, strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	sql = "SELECT * FROM T WHERE I < 0;"
	if _, rows = arrowQuery(sql); !slices.Equal(rows, want[1:2]) {
		t.Fatalf("%s: rows %q, want %q", sql, rows, want[1:2])
	}

	sql = "SELECT * FROM T EMIT CHANGES LIMIT 3;"
	schema, rows = arrowQuery(sql)
	checkSchema(sql, schema)
	if !slices.Equal(rows, want) {
		t.Fatalf("%s: rows\n%s\nwant\n%s", sql, strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}

// TestBadRequests sends what a broken or hostile client might, and checks each answer is a
// ksqlDB-shaped error with the right status, and that the server keeps answering.
func TestBadRequests(t *testing.T) {
	b := brokertest.Start(t)
	s := startServer(t, b.Addr(), t.TempDir())
	url := s.url
	ksql(t, url, "CREATE STREAM S (ID STRING KEY, V INT) WITH (KAFKA_TOPIC='s', PARTITIONS=1, VALUE_FORMAT='JSON');")

	// raw posts body to path as is and returns the status and the error object it answered.
	raw := func(path, contentType string, body io.Reader) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(url+path, contentType, body)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("POST %s: HTTP %d, not a JSON object: %s", path, resp.StatusCode, b)
		}
		checkErrorShape(t, m)
		return resp.StatusCode, m
	}
	alive := func() {
		t.Helper()
		if got := names(list(t, url, "SHOW STREAMS;", "streams"), "name"); !slices.Equal(got, []string{"S", "SEICHE_PROCESSING_LOG"}) {
			t.Fatalf("SHOW STREAMS after a bad request: %v", got)
		}
	}

	for _, path := range []string{"/ksql", "/query", "/query-stream", "/close-query"} {
		status, m := raw(path, "application/json", strings.NewReader(`{"ksql": "SHOW STREAMS;`))
		if status != http.StatusBadRequest || m["error_code"] != 40000.0 || !strings.Contains(m["message"].(string), "Invalid JSON") {
			t.Fatalf("malformed JSON to %s: HTTP %d %v", path, status, m)
		}
		alive()
	}
	status, m := raw("/ksql", "application/json", strings.NewReader(`["SHOW STREAMS;"]`))
	if status != http.StatusBadRequest {
		t.Fatalf("a JSON array to /ksql: HTTP %d %v", status, m)
	}
	status, m = raw("/ksql", "application/json", strings.NewReader(`{}`))
	if status != http.StatusBadRequest || !strings.Contains(m["message"].(string), "ksql") {
		t.Fatalf("no ksql field: HTTP %d %v", status, m)
	}
	alive()

	status, m = raw("/no-such-endpoint", "application/json", strings.NewReader(`{}`))
	if status != http.StatusNotFound || m["error_code"] != 40400.0 || m["@type"] != "generic_error" {
		t.Fatalf("unknown endpoint: HTTP %d %v", status, m)
	}
	alive()

	// A body over 8 MiB, inside a well-formed JSON string so that only its size is wrong.
	big := io.MultiReader(strings.NewReader(`{"ksql":"`), strings.NewReader(strings.Repeat("a", 9<<20)), strings.NewReader(`"}`))
	status, m = raw("/ksql", "application/json", big)
	if status != http.StatusRequestEntityTooLarge || m["error_code"] != 40000.0 {
		t.Fatalf("a 9 MiB body: HTTP %d %v", status, m)
	}
	alive()

	// A syntax error names its line and column; nothing of the request runs.
	e := ksqlError(t, url, "CREATE STREAM Y (A INT) WITH (KAFKA_TOPIC='y', PARTITIONS=1, VALUE_FORMAT='JSON');\nCREATE STREAM X (A INT) WITH (KAFKA_TOPIC='x' PARTITIONS=1);", http.StatusBadRequest)
	if msg := e["message"].(string); e["@type"] != "statement_error" || e["error_code"] != 40001.0 ||
		!strings.Contains(msg, "line 2:47") || !strings.Contains(msg, "Syntax Error") {
		t.Fatalf("syntax error: %v", e)
	}
	if r := query(t, url, "SELECT * FROM S WHER V = 1;"); r.status != http.StatusBadRequest ||
		!regexp.MustCompile(`line 1:\d+`).MatchString(r.raw) {
		t.Fatalf("syntax error in a query: HTTP %d %s", r.status, r.raw)
	}
	alive()

	e = ksqlError(t, url, "SELECT * FROM S;", http.StatusBadRequest)
	if e["error_code"] != 40002.0 || !strings.Contains(e["message"].(string), "'/query'") || e["statementText"] != "SELECT * FROM S;" {
		t.Fatalf("SELECT to /ksql: %v", e)
	}
	e = ksqlError(t, url, "TERMINATE NO_SUCH_QUERY_7;", http.StatusBadRequest)
	if e["error_code"] != 40001.0 || e["message"] != "Unknown queryId: NO_SUCH_QUERY_7" {
		t.Fatalf("TERMINATE of an unknown query: %v", e)
	}
	e = ksqlError(t, url, "DESCRIBE NOPE;", http.StatusBadRequest)
	if !strings.Contains(e["message"].(string), "NOPE") {
		t.Fatalf("DESCRIBE of an unknown source: %v", e)
	}
	if r := query(t, url, "SELECT * FROM NOPE;"); r.status != http.StatusBadRequest || !strings.Contains(r.raw, "NOPE does not exist") {
		t.Fatalf("a query of an unknown source: HTTP %d %s", r.status, r.raw)
	}
	alive()

	status, m = raw("/close-query", "application/json", strings.NewReader(`{"queryId":"nope"}`))
	if status != http.StatusBadRequest || m["message"] != "No query with id nope" {
		t.Fatalf("/close-query of an unknown id: HTTP %d %v", status, m)
	}
	alive()

	// /close-query of a running push query ends its stream.
	body, _ := json.Marshal(map[string]any{"sql": "SELECT * FROM S EMIT CHANGES;", "properties": earliest})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/query-stream", bytes.NewReader(body))
	req.Header.Set("Accept", "application/vnd.ksqlapi.delimited.v1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	var meta struct {
		QueryID string `json:"queryId"`
	}
	if err != nil || json.Unmarshal([]byte(line), &meta) != nil || meta.QueryID == "" {
		t.Fatalf("push query metadata: %q %v", line, err)
	}
	if status, raw := post(t, url, "/close-query", map[string]any{"queryId": meta.QueryID}); status != http.StatusOK {
		t.Fatalf("/close-query %s: HTTP %d %s", meta.QueryID, status, raw)
	}
	if rest, err := io.ReadAll(br); err != nil || strings.TrimSpace(string(rest)) != "" {
		t.Fatalf("push query after /close-query: %q %v", rest, err)
	}
	testutil.CheckFor(t, 10*time.Second, func() error {
		if p := s.e.pushQueries(); len(p) != 0 {
			return fmt.Errorf("%d push queries still running after /close-query", len(p))
		}
		return nil
	})
	alive()
}
