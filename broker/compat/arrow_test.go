package compat

import (
	"bufio"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/seichedb/seiche/engine"
	"github.com/seichedb/seiche/engine/arrowrows"
	"github.com/seichedb/seiche/sql/types"
)

// TestArrowNode reads the Arrow IPC streams of engine/arrowrows, Seiche's Arrow output for query
// results, with the npm apache-arrow package through testdata/arrow_read.mjs. apache-arrow is installed
// into broker/compat/node_modules from package.json (npm ci).
func TestArrowNode(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not found: apt-get install nodejs, then cd broker/compat && npm ci (what .ci/run does)")
	}
	resolve := exec.Command(node, "--input-type=module", "-e", "await import('apache-arrow')")
	resolve.Dir = "testdata"
	if err := resolve.Run(); err != nil {
		t.Skip("apache-arrow not found from broker/compat/testdata: cd broker/compat && npm ci (what .ci/run does)")
	}
	t.Run("types", func(t *testing.T) { t.Parallel(); testArrowTypes(t, node) })
	t.Run("push", func(t *testing.T) { t.Parallel(); testArrowPush(t, node) })
	t.Run("server", func(t *testing.T) { t.Parallel(); testArrowServer(t, node) })
}

func arrowDec(s string) *apd.Decimal {
	d, err := types.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// arrowColumns has a column of every SQL type, and nested types inside each other.
var arrowColumns = []types.Column{
	{Name: "B", Type: types.Boolean},
	{Name: "I", Type: types.Int},
	{Name: "L", Type: types.Bigint},
	{Name: "D", Type: types.Double},
	{Name: "DEC", Type: types.DecimalOf(38, 4)},
	{Name: "S", Type: types.String},
	{Name: "BY", Type: types.Bytes},
	{Name: "DT", Type: types.Date},
	{Name: "T", Type: types.Time},
	{Name: "TS", Type: types.Timestamp},
	{Name: "ARR", Type: types.ArrayOf(types.Int)},
	{Name: "M", Type: types.MapOf(types.String, types.DecimalOf(5, 2))},
	{Name: "ST", Type: types.StructOf(
		types.Field{Name: "A", Type: types.String},
		types.Field{Name: "inner", Type: types.StructOf(types.Field{Name: "X", Type: types.Bigint})},
	)},
	{Name: "nested", Type: types.ArrayOf(types.MapOf(types.Int, types.ArrayOf(types.StructOf(
		types.Field{Name: "TS", Type: types.Timestamp},
		types.Field{Name: "BY", Type: types.Bytes},
	))))},
	{Name: "lower case, spaces", Type: types.String},
}

func arrowRows() []types.Row {
	st := func(a, x types.Value) *types.Struct {
		return &types.Struct{Vals: []types.Value{a, &types.Struct{Vals: []types.Value{x}}}}
	}
	return []types.Row{
		{
			true, int32(-7), int64(math.MaxInt64), 1.5, arrowDec("-1234567890123456789012345678901234.5678"),
			"héllo", []byte{0, 1, 255}, types.DateValue(-1), types.TimeValue(86399999),
			types.TimestampValue(1700000000123), []types.Value{int32(1), nil, int32(3)},
			types.NewMap([]types.Value{"z", "a", "c", "n"},
				[]types.Value{arrowDec("1.50"), arrowDec("-999.99"), arrowDec("-0.05"), nil}),
			st("a", int64(42)),
			[]types.Value{
				types.NewMap([]types.Value{int32(2), int32(1)}, []types.Value{
					[]types.Value{&types.Struct{Vals: []types.Value{types.TimestampValue(-1), []byte("x")}}, nil},
					nil,
				}),
				nil,
				types.NewMap(nil, nil),
			},
			"",
		},
		make(types.Row, len(arrowColumns)),
		{
			false, int32(math.MinInt32), int64(math.MinInt64), math.Inf(-1), arrowDec("0.0000"), "", []byte{},
			types.DateValue(19000), types.TimeValue(0), types.TimestampValue(0), []types.Value{},
			types.NewMap(nil, nil), st(nil, nil),
			[]types.Value{nil, types.NewMap([]types.Value{int32(0)}, []types.Value{[]types.Value{}})},
			"x",
		},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, []types.Value{nil}, nil,
			&types.Struct{Vals: []types.Value{"b", nil}}, []types.Value{}, nil},
	}
}

// arrowTypesOut is what arrow_read.mjs prints for arrowRows in batches of two.
const arrowTypesOut = `
{"schema": [
  {"name": "B", "type": "Bool", "nullable": true},
  {"name": "I", "type": "Int32", "nullable": true},
  {"name": "L", "type": "Int64", "nullable": true},
  {"name": "D", "type": "Float64", "nullable": true},
  {"name": "DEC", "type": "Decimal(38, 4)", "nullable": true},
  {"name": "S", "type": "Utf8", "nullable": true},
  {"name": "BY", "type": "Binary", "nullable": true},
  {"name": "DT", "type": "Date(DAY)", "nullable": true},
  {"name": "T", "type": "Time32(MILLISECOND)", "nullable": true},
  {"name": "TS", "type": "Timestamp(MILLISECOND, UTC)", "nullable": true},
  {"name": "ARR", "type": "List<item: Int32>", "nullable": true},
  {"name": "M", "type": "Map<key: Utf8 not null, value: Decimal(5, 2)>", "nullable": true},
  {"name": "ST", "type": "Struct<A: Utf8, inner: Struct<X: Int64>>", "nullable": true},
  {"name": "nested", "type": "List<item: Map<key: Int32 not null, value: List<item: Struct<TS: Timestamp(MILLISECOND, UTC), BY: Binary>>>>", "nullable": true},
  {"name": "lower case, spaces", "type": "Utf8", "nullable": true}]}
{"rows": [
  [true, -7, "9223372036854775807", 1.5, "-1234567890123456789012345678901234.5678", "héllo", "0001ff",
   "1969-12-31", 86399999, "2023-11-14T22:13:20.123Z", [1, null, 3],
   [["z", "1.50"], ["a", "-999.99"], ["c", "-0.05"], ["n", null]],
   {"A": "a", "inner": {"X": "42"}},
   [[[2, [{"TS": "1969-12-31T23:59:59.999Z", "BY": "78"}, null]], [1, null]], null, []],
   ""],
  [null, null, null, null, null, null, null, null, null, null, null, null, null, null, null]]}
{"rows": [
  [false, -2147483648, "-9223372036854775808", "-Infinity", "0.0000", "", "",
   "2022-01-08", 0, "1970-01-01T00:00:00.000Z", [], [],
   {"A": null, "inner": {"X": null}},
   [null, [[0, []]]],
   "x"],
  [null, null, null, null, null, null, null, null, null, null, [null], null,
   {"A": "b", "inner": null}, [], null]]}
{"end": true}
`

// testArrowTypes writes every SQL type, NULLs at every level and nested types to a file, and checks the
// schema and values apache-arrow reads from it.
func testArrowTypes(t *testing.T, node string) {
	path := filepath.Join(t.TempDir(), "rows.arrows")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := arrowrows.NewWriter(f, arrowColumns, arrowrows.BatchRows(2))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range arrowRows() {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(node, "arrow_read.mjs", path)
	cmd.Dir = "testdata"
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("arrow_read.mjs: %v\n%s", err, stderr.String())
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := jsonValues(t, arrowTypesOut)
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), out)
	}
	for i, line := range got {
		var g any
		if err := json.Unmarshal([]byte(line), &g); err != nil {
			t.Fatalf("line %d: %v: %s", i+1, err, line)
		}
		if !reflect.DeepEqual(g, want[i]) {
			w, _ := json.Marshal(want[i])
			t.Errorf("line %d:\n got %s\nwant %s", i+1, line, w)
		}
	}
}

// testArrowPush streams rows to apache-arrow reading standard input, as a push query's client reads
// them: the schema arrives before any row, and each Flush delivers a batch while the stream stays open.
func testArrowPush(t *testing.T, node string) {
	cmd := exec.Command(node, "arrow_read.mjs")
	cmd.Dir = "testdata"
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		for range lines { // unblock the reader, which ends when the pipe closes
		}
		_ = cmd.Wait()
	})
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatalf("arrow_read.mjs exited, want %s\n%s", want, stderr.String())
			}
			if line != want {
				t.Fatalf("got  %s\nwant %s", line, want)
			}
		case <-time.After(time.Minute):
			t.Fatalf("no line from arrow_read.mjs after a minute, want %s\n%s", want, stderr.String())
		}
	}

	cols := []types.Column{{Name: "ID", Type: types.Bigint}, {Name: "NAME", Type: types.String}}
	w, err := arrowrows.NewWriter(stdin, cols, arrowrows.BatchRows(100))
	if err != nil {
		t.Fatal(err)
	}
	expect(`{"schema":[{"name":"ID","type":"Int64","nullable":true},{"name":"NAME","type":"Utf8","nullable":true}]}`)
	if err := w.Write(types.Row{int64(1), "one"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	expect(`{"rows":[["1","one"]]}`)
	for _, r := range []types.Row{{int64(2), nil}, {nil, "three"}} {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	expect(`{"rows":[["2",null],[null,"three"]]}`)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	expect(`{"end":true}`)
	if err := stdin.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-lines; ok {
		t.Fatal("output after the end of the stream")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("arrow_read.mjs: %v\n%s", err, stderr.String())
	}
}

// jsonValues decodes a sequence of JSON values.
func jsonValues(t *testing.T, s string) []any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	var out []any
	for dec.More() {
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// testArrowServer reads a pull query's answer from a running Seiche server's /query-stream with
// Accept: application/vnd.apache.arrow.stream, as a pyarrow or apache-arrow user does, and checks what
// apache-arrow makes of its schema and values.
func testArrowServer(t *testing.T, node string) {
	srv, err := engine.StartEmbedded(engine.EmbeddedConfig{DataDir: t.TempDir(), Opts: engine.TestOpts()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	post := func(path, body, accept string) *http.Response {
		t.Helper()
		req, err := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			t.Fatalf("POST %s %s: HTTP %d %s", path, body, resp.StatusCode, b)
		}
		return resp
	}
	ksql := func(stmt string) {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"ksql": stmt})
		resp := post("/ksql", string(b), "application/json")
		resp.Body.Close()
	}
	ksql("CREATE STREAM A (ID INT KEY, B BIGINT, D DOUBLE, S STRING, OK BOOLEAN, M DECIMAL(10, 2), " +
		"L ARRAY<INT>, P MAP<STRING, INT>, R STRUCT<X INT>) WITH (KAFKA_TOPIC='arrow_a', PARTITIONS=1, VALUE_FORMAT='JSON');")
	ksql("INSERT INTO A (ID, B, D, S, OK, M, L, P, R) VALUES (1, 9007199254740993, 1.5, 'one', true, 12.34, " +
		"ARRAY[1, 2], MAP('k' := 3), STRUCT(X := 4));")
	ksql("INSERT INTO A (ID, S) VALUES (2, 'two');")

	resp := post("/query-stream", `{"sql": "SELECT * FROM A;"}`, "application/vnd.apache.arrow.stream")
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.apache.arrow.stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	cmd := exec.Command(node, "arrow_read.mjs")
	cmd.Dir = "testdata"
	cmd.Stdin = resp.Body
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("arrow_read.mjs: %v\n%s", err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var schema struct {
		Schema []struct{ Name, Type string }
	}
	if err := json.Unmarshal([]byte(lines[0]), &schema); err != nil {
		t.Fatalf("schema line: %v: %s", err, lines[0])
	}
	var got []string
	for _, f := range schema.Schema {
		got = append(got, f.Name+" "+f.Type)
	}
	want := []string{"ID Int32", "B Int64", "D Float64", "S Utf8", "OK Bool", "M Decimal(10, 2)",
		"L List<item: Int32>", "P Map<key: Utf8 not null, value: Int32>", "R Struct<X: Int32>"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("schema:\n got %q\nwant %q", got, want)
	}
	var rows [][]any
	for _, line := range lines[1:] {
		var batch struct{ Rows [][]any }
		if err := json.Unmarshal([]byte(line), &batch); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		rows = append(rows, batch.Rows...)
	}
	if len(rows) != 2 {
		t.Fatalf("got %d rows, want 2:\n%s", len(rows), out)
	}
	first, _ := json.Marshal(rows[0])
	if want := `[1,"9007199254740993",1.5,"one",true,"12.34",[1,2],[["k",3]],{"X":4}]`; string(first) != want {
		t.Errorf("first row:\n got %s\nwant %s", first, want)
	}
	second, _ := json.Marshal(rows[1])
	if want := `[2,null,null,"two",null,null,null,null,null]`; string(second) != want {
		t.Errorf("second row:\n got %s\nwant %s", second, want)
	}
}
