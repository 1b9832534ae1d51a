package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/seichedb/seiche/internal/testutil"
)

// testServer is an engine over a test broker with its REST API on an httptest server.
type testServer struct {
	e   *Engine
	srv *httptest.Server
	url string

	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// startServer starts an engine over the broker at addr, with its state in dir, and its REST API.
// It returns once the engine has replayed its command topic; the server is stopped at cleanup.
// Each of more is given the server's URL and returns an option (AdvertisedURL needs the URL).
func startServer(t *testing.T, addr, dir string, more ...func(url string) Opt) *testServer {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	opts := []Opt{Bootstrap(addr), DataDir(dir), CommitInterval(100 * time.Millisecond),
		Properties(map[string]string{"auto.offset.reset": "earliest"}), Logger(brokertest.Logger())}
	for _, m := range more {
		opts = append(opts, m("http://"+srv.Listener.Addr().String()))
	}
	e, err := New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &testServer{e: e, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- e.Run(ctx) }()
	select {
	case <-e.Ready():
	case err := <-s.done:
		t.Fatalf("engine stopped before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("engine not ready after 30s")
	}
	srv.Config.Handler = NewAPI(e)
	srv.Start()
	s.srv, s.url = srv, srv.URL
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop stops the engine (ending its push queries, so that their requests return) and then the HTTP
// server. It is idempotent.
func (s *testServer) stop(t *testing.T) {
	t.Helper()
	s.once.Do(func() {
		s.cancel()
		select {
		case err := <-s.done:
			if err != nil {
				t.Errorf("engine Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("engine did not stop within 30s")
		}
		if err := s.e.Close(); err != nil {
			t.Errorf("engine Close: %v", err)
		}
		s.srv.Close()
	})
}

// post sends body as JSON to path and returns the status and the whole response body.
func post(t testing.TB, url, path string, body any, header ...string) (int, []byte) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, url+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: reading the response: %v", path, err)
	}
	return resp.StatusCode, raw
}

// earliest is the streamsProperties a ksqlDB client sends to read topics from the start.
var earliest = map[string]any{"auto.offset.reset": "earliest"}

// ksqlTry runs statements through /ksql and returns the status and the decoded body.
func ksqlTry(t testing.TB, url, sql string) (int, any) {
	t.Helper()
	status, raw := post(t, url, "/ksql", map[string]any{"ksql": sql, "streamsProperties": earliest})
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("/ksql %q: HTTP %d, body not JSON: %v: %s", sql, status, err, raw)
	}
	return status, v
}

// ksql runs statements through /ksql and returns their entities; any failure fails the test.
func ksql(t testing.TB, url, sql string) []map[string]any {
	t.Helper()
	status, v := ksqlTry(t, url, sql)
	if status != http.StatusOK {
		t.Fatalf("/ksql %q: HTTP %d: %v", sql, status, v)
	}
	l, ok := v.([]any)
	if !ok {
		t.Fatalf("/ksql %q: not an array: %v", sql, v)
	}
	out := make([]map[string]any, len(l))
	for i, x := range l {
		if out[i], ok = x.(map[string]any); !ok {
			t.Fatalf("/ksql %q: entity %d is not an object: %v", sql, i, x)
		}
	}
	return out
}

// ksqlError runs a statement that must fail and returns the error body, checking its ksqlDB shape.
func ksqlError(t testing.TB, url, sql string, wantStatus int) map[string]any {
	t.Helper()
	status, v := ksqlTry(t, url, sql)
	m, ok := v.(map[string]any)
	if status != wantStatus || !ok {
		t.Fatalf("/ksql %q: HTTP %d %v, want HTTP %d and an error object", sql, status, v, wantStatus)
	}
	checkErrorShape(t, m)
	return m
}

// checkErrorShape checks a ksqlDB KsqlErrorMessage: "@type", a numeric "error_code", a "message".
func checkErrorShape(t testing.TB, m map[string]any) {
	t.Helper()
	typ, _ := m["@type"].(string)
	_, isNum := m["error_code"].(float64)
	msg, _ := m["message"].(string)
	if (typ != "generic_error" && typ != "statement_error") || !isNum || msg == "" {
		t.Fatalf("not a ksqlDB error message: %v", m)
	}
}

// queryResponse is a parsed /query answer.
type queryResponse struct {
	status  int
	queryID string
	schema  string
	rows    []string // each row's columns as compact JSON
	final   string   // finalMessage, if any
	errMsg  any      // errorMessage, if any
	raw     string
}

// query runs a query through /query and parses the whole (ended) answer.
func query(t testing.TB, url, sql string) queryResponse {
	t.Helper()
	status, raw := post(t, url, "/query", map[string]any{"ksql": sql, "streamsProperties": earliest})
	r := queryResponse{status: status, raw: string(raw)}
	if status != http.StatusOK {
		return r
	}
	var elems []json.RawMessage
	if err := json.Unmarshal(raw, &elems); err != nil {
		t.Fatalf("/query %q: not a JSON array: %v: %s", sql, err, raw)
	}
	for i, el := range elems {
		var m struct {
			Header *struct {
				QueryID string `json:"queryId"`
				Schema  string `json:"schema"`
			} `json:"header"`
			Row *struct {
				Columns json.RawMessage `json:"columns"`
			} `json:"row"`
			FinalMessage string `json:"finalMessage"`
			ErrorMessage any    `json:"errorMessage"`
		}
		if err := json.Unmarshal(el, &m); err != nil {
			t.Fatalf("/query %q: element %d: %v: %s", sql, i, err, el)
		}
		switch {
		case m.Header != nil:
			if i != 0 {
				t.Fatalf("/query %q: header at element %d: %s", sql, i, raw)
			}
			r.queryID, r.schema = m.Header.QueryID, m.Header.Schema
		case m.Row != nil:
			r.rows = append(r.rows, compact(t, m.Row.Columns))
		case m.FinalMessage != "":
			r.final = m.FinalMessage
		case m.ErrorMessage != nil:
			r.errMsg = m.ErrorMessage
		default:
			t.Fatalf("/query %q: unexpected element %s", sql, el)
		}
	}
	return r
}

func compact(t testing.TB, raw []byte) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("compacting %s: %v", raw, err)
	}
	return b.String()
}

// sameRows reports whether got and want hold the same rows, in any order.
func sameRows(got, want []string) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

// pullAnswers polls a pull query on a table until it answers want (in any order) with the given
// header schema.
func pullAnswers(t *testing.T, url, sql, schema string, want ...string) {
	t.Helper()
	pullAnswersFinal(t, url, sql, schema, "", want...)
}

// pullAnswersFinal is pullAnswers with a final message: a pull query on a stream ends as a push
// query does, with "Query Completed".
func pullAnswersFinal(t *testing.T, url, sql, schema, final string, want ...string) {
	t.Helper()
	testutil.CheckFor(t, 30*time.Second, func() error {
		r := query(t, url, sql)
		if r.status != http.StatusOK {
			return fmt.Errorf("%s: HTTP %d: %s", sql, r.status, r.raw)
		}
		if r.schema != schema {
			return fmt.Errorf("%s: schema %q, want %q", sql, r.schema, schema)
		}
		if r.final != final || r.errMsg != nil {
			return fmt.Errorf("%s: final message %q, want %q: %s", sql, r.final, final, r.raw)
		}
		if !sameRows(r.rows, want) {
			return fmt.Errorf("%s: rows %v, want %v", sql, r.rows, want)
		}
		return nil
	})
}

// list returns the list under key of the single entity statement sql answers.
func list(t testing.TB, url, sql, key string) []map[string]any {
	t.Helper()
	ents := ksql(t, url, sql)
	if len(ents) != 1 {
		t.Fatalf("%s: %d entities, want 1: %v", sql, len(ents), ents)
	}
	l, ok := ents[0][key].([]any)
	if !ok {
		t.Fatalf("%s: no %q list: %v", sql, key, ents[0])
	}
	out := make([]map[string]any, len(l))
	for i, x := range l {
		out[i], _ = x.(map[string]any)
	}
	return out
}

func names(l []map[string]any, key string) []string {
	var out []string
	for _, m := range l {
		out = append(out, fmt.Sprint(m[key]))
	}
	slices.Sort(out)
	return out
}

// persistentQueries returns "ID STATE" of SHOW QUERIES' persistent queries, sorted.
func persistentQueries(t testing.TB, url string) []string {
	t.Helper()
	var out []string
	for _, q := range list(t, url, "SHOW QUERIES;", "queries") {
		if q["queryType"] == "PERSISTENT" {
			out = append(out, fmt.Sprint(q["id"], " ", q["state"]))
		}
	}
	slices.Sort(out)
	return out
}

// The pull queries on the stream's tables and their expected rows, after the first five inserts.
const (
	schemaC = "`ID` STRING KEY, `CNT` BIGINT, `TOTAL` INTEGER"
	schemaW = "`ID` STRING KEY, `WINDOWSTART` BIGINT KEY, `WINDOWEND` BIGINT KEY, `CNT` BIGINT"
)

func checkTables(t *testing.T, url string) {
	t.Helper()
	pullAnswers(t, url, "SELECT * FROM C;", schemaC, `["a",3,9]`, `["b",1,2]`, `["c",1,4]`)
	pullAnswers(t, url, "SELECT * FROM C WHERE ID = 'a';", schemaC, `["a",3,9]`)
	pullAnswers(t, url, "SELECT * FROM C WHERE ID = 'nope';", schemaC)
	pullAnswers(t, url, "SELECT ID, CNT FROM C WHERE TOTAL > 3;", "`ID` STRING KEY, `CNT` BIGINT", `["a",3]`, `["c",1]`)
	pullAnswers(t, url, "SELECT ID, WINDOWSTART, WINDOWEND, CNT FROM W;", schemaW,
		`["a",60000,120000,1]`, `["b",60000,120000,1]`, `["a",120000,180000,1]`, `["c",120000,180000,1]`, `["a",180000,240000,1]`)
	pullAnswers(t, url, "SELECT ID, WINDOWSTART, WINDOWEND, CNT FROM W WHERE ID = 'a' AND WINDOWSTART >= 120000;", schemaW,
		`["a",120000,180000,1]`, `["a",180000,240000,1]`)
	pullAnswers(t, url, "SELECT ID, WINDOWSTART, WINDOWEND, CNT FROM W WHERE WINDOWSTART >= 60000 AND WINDOWSTART < 120000;", schemaW,
		`["a",60000,120000,1]`, `["b",60000,120000,1]`)
	pullAnswers(t, url, "SELECT ID, WINDOWSTART, WINDOWEND, CNT FROM W WHERE ID = 'c' AND WINDOWSTART > 120000;", schemaW)
	// LIMIT: any two of the three rows.
	testutil.CheckFor(t, 30*time.Second, func() error {
		r := query(t, url, "SELECT * FROM C LIMIT 2;")
		all := []string{`["a",3,9]`, `["b",1,2]`, `["c",1,4]`}
		if r.status != http.StatusOK || len(r.rows) != 2 || r.rows[0] == r.rows[1] ||
			!slices.Contains(all, r.rows[0]) || !slices.Contains(all, r.rows[1]) {
			return fmt.Errorf("LIMIT 2: HTTP %d %v, want two of %v", r.status, r.rows, all)
		}
		return nil
	})
}

// TestServerREST drives the engine through its REST API as a ksqlDB client would: DDL, INSERT VALUES,
// persistent queries, pull and push queries, SHOW, DESCRIBE, EXPLAIN, TERMINATE, DROP, and a restart
// that replays the command topic.
func TestServerREST(t *testing.T) {
	b := brokertest.Start(t)
	dir := t.TempDir()
	s := startServer(t, b.Addr(), dir)
	url := s.url

	ents := ksql(t, url, "CREATE STREAM S (ID STRING KEY, V INT, NAME STRING) WITH (KAFKA_TOPIC='s', PARTITIONS=2, VALUE_FORMAT='JSON');")
	if len(ents) != 1 || ents[0]["@type"] != "currentStatus" || ents[0]["commandId"] != "stream/`S`/create" {
		t.Fatalf("CREATE STREAM: %v", ents)
	}
	if st, _ := ents[0]["commandStatus"].(map[string]any); st["status"] != "SUCCESS" || st["message"] != "Stream created" {
		t.Fatalf("CREATE STREAM status: %v", ents[0])
	}
	inserts := []string{
		"INSERT INTO S (ROWTIME, ID, V, NAME) VALUES (60000, 'a', 1, 'x');",
		"INSERT INTO S (ROWTIME, ID, V, NAME) VALUES (61000, 'b', 2, 'y');",
		"INSERT INTO S (ROWTIME, ID, V, NAME) VALUES (125000, 'a', 3, 'x');",
		"INSERT INTO S (ROWTIME, ID, V, NAME) VALUES (130000, 'c', 4, 'z');",
		"INSERT INTO S (ROWTIME, ID, V, NAME) VALUES (185000, 'a', 5, 'w');",
	}
	if ents := ksql(t, url, strings.Join(inserts, "\n")); len(ents) != 0 {
		t.Fatalf("INSERT VALUES answered entities: %v", ents)
	}
	queryIDOf := func(ents []map[string]any) string {
		t.Helper()
		st, _ := ents[0]["commandStatus"].(map[string]any)
		id, _ := st["queryId"].(string)
		return id
	}
	if id := queryIDOf(ksql(t, url, "CREATE TABLE C AS SELECT ID, COUNT(*) AS CNT, SUM(V) AS TOTAL FROM S GROUP BY ID;")); id != "CTAS_C_2" {
		t.Fatalf("CTAS C: query id %q, want CTAS_C_2", id)
	}
	if id := queryIDOf(ksql(t, url, "CREATE TABLE W AS SELECT ID, COUNT(*) AS CNT FROM S WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY ID;")); id != "CTAS_W_3" {
		t.Fatalf("CTAS W: query id %q, want CTAS_W_3", id)
	}
	checkTables(t, url)

	// A pull query on a stream scans its topic.
	pullAnswersFinal(t, url, "SELECT * FROM S WHERE V > 3;", "`ID` STRING, `V` INTEGER, `NAME` STRING", "Query Completed", `["c",4,"z"]`, `["a",5,"w"]`)

	// A push query from the start of the stream, ended by its LIMIT.
	streamRows := []string{`["a",1,"x"]`, `["b",2,"y"]`, `["a",3,"x"]`, `["c",4,"z"]`, `["a",5,"w"]`}
	r := query(t, url, "SELECT * FROM S EMIT CHANGES LIMIT 3;")
	if r.status != http.StatusOK || !strings.HasPrefix(r.queryID, "transient_S_") || r.schema != "`ID` STRING, `V` INTEGER, `NAME` STRING" ||
		len(r.rows) != 3 || r.final != "Limit Reached" {
		t.Fatalf("push query: %+v", r)
	}
	for _, row := range r.rows {
		if !slices.Contains(streamRows, row) {
			t.Fatalf("push query row %s is not an input row %v", row, streamRows)
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(r.rows)))) != 3 {
		t.Fatalf("push query rows repeat: %v", r.rows)
	}

	// /query-stream, as a JSON array.
	status, raw := post(t, url, "/query-stream", map[string]any{"sql": "SELECT * FROM C WHERE ID = 'b';"}, "Accept", "application/json")
	var arr []json.RawMessage
	if err := json.Unmarshal(raw, &arr); status != http.StatusOK || err != nil || len(arr) != 2 {
		t.Fatalf("/query-stream JSON: HTTP %d %v: %s", status, err, raw)
	}
	var meta struct {
		QueryID     string   `json:"queryId"`
		ColumnNames []string `json:"columnNames"`
		ColumnTypes []string `json:"columnTypes"`
	}
	if err := json.Unmarshal(arr[0], &meta); err != nil || meta.QueryID == "" ||
		!slices.Equal(meta.ColumnNames, []string{"ID", "CNT", "TOTAL"}) || !slices.Equal(meta.ColumnTypes, []string{"STRING", "BIGINT", "INTEGER"}) {
		t.Fatalf("/query-stream JSON metadata: %v %s", err, arr[0])
	}
	if got := compact(t, arr[1]); got != `["b",1,2]` {
		t.Fatalf("/query-stream JSON row %s, want [\"b\",1,2]", got)
	}

	// /query-stream, delimited: a metadata line, then one line per row.
	status, raw = post(t, url, "/query-stream", map[string]any{"sql": "SELECT * FROM S EMIT CHANGES LIMIT 2;", "properties": earliest},
		"Accept", "application/vnd.ksqlapi.delimited.v1")
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if status != http.StatusOK || len(lines) != 3 {
		t.Fatalf("/query-stream delimited: HTTP %d: %q", status, raw)
	}
	if err := json.Unmarshal([]byte(lines[0]), &meta); err != nil || !strings.HasPrefix(meta.QueryID, "transient_S_") ||
		!slices.Equal(meta.ColumnNames, []string{"ID", "V", "NAME"}) || !slices.Equal(meta.ColumnTypes, []string{"STRING", "INTEGER", "STRING"}) {
		t.Fatalf("/query-stream delimited metadata: %v %s", err, lines[0])
	}
	for _, l := range lines[1:] {
		if !slices.Contains(streamRows, compact(t, []byte(l))) {
			t.Fatalf("/query-stream delimited row %s is not an input row %v", l, streamRows)
		}
	}
	status, raw = post(t, url, "/query-stream", map[string]any{"sql": "SELECT ID, CNT FROM C WHERE ID = 'c';"}, "Accept", "application/vnd.ksqlapi.delimited.v1")
	lines = strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if status != http.StatusOK || len(lines) != 2 || lines[1] != `["c",1]` {
		t.Fatalf("/query-stream delimited pull: HTTP %d: %q", status, raw)
	}

	// SHOW and DESCRIBE.
	if got := names(list(t, url, "SHOW STREAMS;", "streams"), "name"); !slices.Equal(got, []string{"S", "SEICHE_PROCESSING_LOG"}) {
		t.Fatalf("SHOW STREAMS: %v", got)
	}
	tables := list(t, url, "SHOW TABLES;", "tables")
	if got := names(tables, "name"); !slices.Equal(got, []string{"C", "W"}) {
		t.Fatalf("SHOW TABLES: %v", got)
	}
	for _, tb := range tables {
		if tb["isWindowed"] != (tb["name"] == "W") || tb["topic"] != tb["name"] || tb["type"] != "TABLE" {
			t.Fatalf("SHOW TABLES: %v", tb)
		}
	}
	if got := persistentQueries(t, url); !slices.Equal(got, []string{"CTAS_C_2 RUNNING", "CTAS_W_3 RUNNING"}) {
		t.Fatalf("SHOW QUERIES: %v", got)
	}
	topics := names(list(t, url, "SHOW TOPICS;", "topics"), "name")
	for _, want := range []string{"s", "C", "W"} {
		if !slices.Contains(topics, want) {
			t.Fatalf("SHOW TOPICS: %v, want %s", topics, want)
		}
	}
	for _, tp := range topics {
		if strings.HasPrefix(tp, "_") {
			t.Fatalf("SHOW TOPICS lists an internal topic: %v", topics)
		}
	}
	desc := ksql(t, url, "DESCRIBE S;")[0]["sourceDescription"].(map[string]any)
	if desc["name"] != "S" || desc["topic"] != "s" || desc["partitions"] != 2.0 || desc["type"] != "STREAM" {
		t.Fatalf("DESCRIBE S: %v", desc)
	}
	var reads []string
	for _, q := range desc["readQueries"].([]any) {
		reads = append(reads, q.(map[string]any)["id"].(string))
	}
	if slices.Sort(reads); !slices.Equal(reads, []string{"CTAS_C_2", "CTAS_W_3"}) {
		t.Fatalf("DESCRIBE S: read queries %v", reads)
	}
	var fields []string
	for _, f := range desc["fields"].([]any) {
		f := f.(map[string]any)
		fields = append(fields, fmt.Sprint(f["name"], " ", f["schema"].(map[string]any)["type"], " ", f["type"]))
	}
	if want := []string{"ID STRING KEY", "V INTEGER <nil>", "NAME STRING <nil>"}; !slices.Equal(fields, want) {
		t.Fatalf("DESCRIBE S fields: %v, want %v", fields, want)
	}
	desc = ksql(t, url, "DESCRIBE W;")[0]["sourceDescription"].(map[string]any)
	if desc["windowType"] != "TUMBLING" || fmt.Sprint(desc["writeQueries"].([]any)[0].(map[string]any)["id"]) != "CTAS_W_3" {
		t.Fatalf("DESCRIBE W: %v", desc)
	}
	qd := ksql(t, url, "EXPLAIN CTAS_C_2;")[0]["queryDescription"].(map[string]any)
	if qd["id"] != "CTAS_C_2" || fmt.Sprint(qd["sources"]) != "[S]" || fmt.Sprint(qd["sinks"]) != "[C]" || qd["state"] != "RUNNING" ||
		!strings.Contains(fmt.Sprint(qd["statementText"]), "CREATE TABLE C AS SELECT") || qd["topology"] == "" {
		t.Fatalf("EXPLAIN CTAS_C_2: %v", qd)
	}

	// DROP is refused while a query reads the source, and allowed once the query is terminated.
	ksql(t, url, "CREATE STREAM D (ID STRING KEY, V INT) WITH (KAFKA_TOPIC='d', PARTITIONS=1, VALUE_FORMAT='JSON');")
	dq := queryIDOf(ksql(t, url, "CREATE STREAM D2 AS SELECT * FROM D;"))
	if dq != "CSAS_D2_5" {
		t.Fatalf("CSAS D2: query id %q, want CSAS_D2_5", dq)
	}
	e := ksqlError(t, url, "DROP STREAM D;", http.StatusBadRequest)
	if want := "Cannot drop D.\nThe following queries read from this source: [CSAS_D2_5].\nThe following queries write into this source: [].\nYou need to terminate them before dropping D."; e["message"] != want ||
		e["@type"] != "statement_error" || e["error_code"] != 40001.0 || e["statementText"] != "DROP STREAM D;" {
		t.Fatalf("DROP STREAM D: %v, want message %q", e, want)
	}
	ents = ksql(t, url, "TERMINATE CSAS_D2_5;")
	if ents[0]["commandId"] != "terminate/CSAS_D2_5/execute" || ents[0]["commandStatus"].(map[string]any)["message"] != "Query terminated." {
		t.Fatalf("TERMINATE: %v", ents)
	}
	ksql(t, url, "DROP STREAM D;")
	ksql(t, url, "DROP STREAM D2;")
	if got := names(list(t, url, "SHOW STREAMS;", "streams"), "name"); !slices.Equal(got, []string{"S", "SEICHE_PROCESSING_LOG"}) {
		t.Fatalf("SHOW STREAMS after DROP: %v", got)
	}
	if got := persistentQueries(t, url); !slices.Equal(got, []string{"CTAS_C_2 RUNNING", "CTAS_W_3 RUNNING"}) {
		t.Fatalf("SHOW QUERIES after TERMINATE: %v", got)
	}

	// Restart: a new engine on the same broker and data dir replays the command topic, resumes the
	// queries from their state and committed offsets, and answers alike.
	s.stop(t)
	s = startServer(t, b.Addr(), dir)
	url = s.url
	if got := persistentQueries(t, url); !slices.Equal(got, []string{"CTAS_C_2 RUNNING", "CTAS_W_3 RUNNING"}) {
		t.Fatalf("SHOW QUERIES after restart: %v", got)
	}
	if got := names(list(t, url, "SHOW STREAMS;", "streams"), "name"); !slices.Equal(got, []string{"S", "SEICHE_PROCESSING_LOG"}) {
		t.Fatalf("SHOW STREAMS after restart: %v", got)
	}
	checkTables(t, url)
	// The resumed queries count new input once.
	ksql(t, url, "INSERT INTO S (ROWTIME, ID, V, NAME) VALUES (190000, 'b', 10, 'v');")
	pullAnswers(t, url, "SELECT * FROM C;", schemaC, `["a",3,9]`, `["b",2,12]`, `["c",1,4]`)
	pullAnswers(t, url, "SELECT ID, WINDOWSTART, WINDOWEND, CNT FROM W WHERE WINDOWSTART >= 180000;", schemaW,
		`["a",180000,240000,1]`, `["b",180000,240000,1]`)
}

// TestAbandonedPushQueriesReleaseEverything opens 200 push queries without a limit, abandons them
// after their header, and checks that the engine releases what they held: its record of them, their
// state directories, their consumer groups, and their goroutines.
func TestAbandonedPushQueriesReleaseEverything(t *testing.T) {
	const n = 200
	b := brokertest.Start(t)
	dir := t.TempDir()
	s := startServer(t, b.Addr(), dir)
	url := s.url
	adm, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	admin := kadm.NewClient(adm)

	ksql(t, url, "CREATE STREAM S (ID STRING KEY, V INT) WITH (KAFKA_TOPIC='s', PARTITIONS=2, VALUE_FORMAT='JSON');")
	ksql(t, url, "INSERT INTO S (ID, V) VALUES ('a', 1); INSERT INTO S (ID, V) VALUES ('b', 2);")

	tr := &http.Transport{MaxIdleConnsPerHost: n}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	// open starts a push query and returns once its header has arrived.
	open := func(ctx context.Context) (*http.Response, error) {
		body := `{"ksql":"SELECT * FROM S EMIT CHANGES;","streamsProperties":{"auto.offset.reset":"earliest"}}`
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/query", strings.NewReader(body))
		if err != nil {
			return nil, err
		}
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
		}
		line, err := bufio.NewReader(resp.Body).ReadString('\n')
		if err != nil || !strings.Contains(line, `"header"`) {
			resp.Body.Close()
			return nil, fmt.Errorf("no header: %q %v", line, err)
		}
		return resp, nil
	}
	noneLeft := func() error {
		if p := s.e.pushQueries(); len(p) != 0 {
			return fmt.Errorf("%d push queries still registered", len(p))
		}
		return nil
	}

	// Warm up the paths every push query shares (HTTP connections, the engine's clients), so that
	// the goroutine baseline holds only what stays.
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	testutil.CheckFor(t, 30*time.Second, noneLeft)
	tr.CloseIdleConnections()
	var baseline int
	testutil.CheckFor(t, 30*time.Second, func() error {
		// Settle: two equal readings in a row.
		a := goruntime.NumGoroutine()
		time.Sleep(50 * time.Millisecond)
		baseline = goruntime.NumGoroutine()
		if a != baseline {
			return fmt.Errorf("goroutines still changing: %d, %d", a, baseline)
		}
		return nil
	})

	start := time.Now()
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	resps := make([]*http.Response, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := range resps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			resp, err := open(ctx)
			if err != nil {
				errs <- fmt.Errorf("push query %d: %w", i, err)
				return
			}
			resps[i] = resp
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	opened := time.Since(start)
	var push int
	for _, q := range list(t, url, "SHOW QUERIES;", "queries") {
		if q["queryType"] == "PUSH" {
			push++
		}
	}
	if push != n {
		t.Fatalf("SHOW QUERIES lists %d push queries, want %d", push, n)
	}

	// Abandon them all: the requests' contexts end and their connections close.
	cancel()
	for _, r := range resps {
		r.Body.Close()
	}
	tr.CloseIdleConnections()

	testutil.CheckFor(t, 45*time.Second, noneLeft)
	testutil.CheckFor(t, 10*time.Second, func() error {
		for _, q := range list(t, url, "SHOW QUERIES;", "queries") {
			if q["queryType"] == "PUSH" {
				return fmt.Errorf("SHOW QUERIES still lists %v", q["id"])
			}
		}
		return nil
	})
	testutil.CheckFor(t, 10*time.Second, func() error {
		ents, err := os.ReadDir(filepath.Join(dir, "transient"))
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		if len(ents) != 0 {
			return fmt.Errorf("%d state directories left under transient/, e.g. %s", len(ents), ents[0].Name())
		}
		return nil
	})
	testutil.CheckFor(t, 20*time.Second, func() error {
		groups, err := admin.ListGroups(context.Background())
		if err != nil {
			return err
		}
		var left []string
		for _, g := range groups.Groups() {
			if strings.Contains(g, "transient_") {
				left = append(left, g)
			}
		}
		if len(left) != 0 {
			return fmt.Errorf("%d consumer groups of push queries left, e.g. %s", len(left), left[0])
		}
		return nil
	})
	const margin = 10
	testutil.CheckFor(t, 20*time.Second, func() error {
		tr.CloseIdleConnections()
		if g := goruntime.NumGoroutine(); g > baseline+margin {
			return fmt.Errorf("%d goroutines, baseline %d", g, baseline)
		}
		return nil
	})
	t.Logf("opened %d push queries in %v; released in %v", n, opened.Round(time.Millisecond), (time.Since(start) - opened).Round(time.Millisecond))
}
