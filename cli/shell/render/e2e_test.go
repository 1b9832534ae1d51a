package render_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seichedb/seiche/cli/shell/render"
	"github.com/seichedb/seiche/engine"
)

// TestRealServer renders the answers of a real server (broker, engine and REST API in-process) to
// every statement kind the shell sends to /ksql, and a pull query's /query-stream answer.
func TestRealServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	x, err := engine.StartEmbedded(engine.EmbeddedConfig{DataDir: t.TempDir(), Opts: engine.TestOpts()})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()

	post := func(path, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest("POST", x.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}
	ksql := func(stmt string) string {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"ksql": stmt})
		status, body := post("/ksql", string(b))
		var out bytes.Buffer
		err := render.Entities(&out, body, render.Options{Width: 100})
		if status != http.StatusOK {
			if !errors.Is(err, render.ErrServerError) {
				t.Fatalf("%s: status %d, Entities error %v, body %s", stmt, status, err, body)
			}
		} else if err != nil {
			t.Fatalf("%s: %v (body %s)", stmt, err, body)
		}
		return out.String()
	}
	expect := func(stmt string, fragments ...string) {
		t.Helper()
		out := ksql(stmt)
		for _, f := range fragments {
			if !strings.Contains(out, f) {
				t.Errorf("%s: no %q in\n%s", stmt, f, out)
			}
		}
	}

	expect("CREATE STREAM PAGEVIEWS (ID BIGINT KEY, PAGE STRING, ADDR STRUCT<ZIP INT>) WITH (KAFKA_TOPIC='pageviews', VALUE_FORMAT='JSON', PARTITIONS=2);",
		" Message\n", " Stream created\n")
	created := ksql("CREATE TABLE COUNTS AS SELECT ID, COUNT(*) AS N FROM PAGEVIEWS GROUP BY ID;")
	_, qid, ok := strings.Cut(created, " Created query with ID ")
	if !ok {
		t.Fatalf("CREATE TABLE AS SELECT rendered\n%s", created)
	}
	qid = strings.Fields(qid)[0]
	expect("INSERT INTO PAGEVIEWS (ID, PAGE, ADDR) VALUES (1, 'home', STRUCT(ZIP := 75001));")
	expect("SHOW STREAMS;", " Stream Name ", " | Kafka Topic ", " | Key Format | Value Format | Windowed\n", " PAGEVIEWS ")
	expect("SHOW TABLES;", " Table Name | Kafka Topic | Key Format | Value Format | Windowed\n", " COUNTS ")
	expect("SHOW QUERIES;", " Query ID ", "CTAS_COUNTS_", "For detailed information on a Query run: EXPLAIN <Query ID>;")
	expect("SHOW TOPICS;", " Kafka Topic | Partitions | Partition Replicas\n", " pageviews   | 2          | 1\n")
	expect("SHOW PROPERTIES;", " Property ", " ksql.service.id ")
	expect("SHOW FUNCTIONS;", " Function Name ", "DESCRIBE FUNCTION <Function Name>;")
	expect("DESCRIBE FUNCTION UCASE;", "Name        : UCASE\n", "Type        : SCALAR\n")
	expect("SHOW TYPES;", " Type Name | Schema\n")
	expect("SHOW VARIABLES;", " Variable Name | Value\n")
	expect("DESCRIBE PAGEVIEWS;", "Name                 : PAGEVIEWS\n", " ID    | BIGINT           (key)\n", " ADDR  | STRUCT<ZIP INTEGER>\n")
	expect("DESCRIBE COUNTS EXTENDED;", "Type                 : TABLE\n", "(primary key)", "Queries that write from this TABLE", "Local runtime statistics")
	expect("DESCRIBE STREAMS;", "Name                 : PAGEVIEWS\n")
	expect("SHOW TABLES EXTENDED;", "Name                 : COUNTS\n")
	expect("EXPLAIN "+qid+";", "ID                   : "+qid+"\n", "Sources that this query reads from:\n", "Execution plan\n", "Processing topology\n")
	expect("EXPLAIN CREATE STREAM P2 AS SELECT * FROM PAGEVIEWS;", "Query Type           : ", " ADDR  | STRUCT<ZIP INTEGER>\n")
	expect("DESCRIBE NOPE;", "Could not find STREAM/TABLE 'NOPE'", "LINE 1: DESCRIBE NOPE;\n                 ^\n")
	expect("SELECT * FROM PAGEVIEWS;", "should be issued to the websocket endpoint")

	// A pull query's /query-stream answer: a header object, then one array per row.
	var rows [][]any
	var cols []render.Column
	// The table materializes asynchronously (commit interval 100ms): poll until the row is there.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		_, body := post("/query-stream", `{"sql":"SELECT * FROM COUNTS WHERE ID = 1;"}`)
		var answer []json.RawMessage
		if err := json.Unmarshal(body, &answer); err != nil || len(answer) == 0 {
			t.Fatalf("/query-stream answered %s", body)
		}
		var head struct {
			ColumnNames []string `json:"columnNames"`
			ColumnTypes []string `json:"columnTypes"`
		}
		if err := json.Unmarshal(answer[0], &head); err != nil {
			t.Fatal(err)
		}
		cols = cols[:0]
		for i, n := range head.ColumnNames {
			cols = append(cols, render.Column{Name: n, Type: head.ColumnTypes[i]})
		}
		rows = rows[:0]
		for _, r := range answer[1:] {
			row, err := render.DecodeRow(r)
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, row)
		}
		if len(rows) > 0 {
			break
		}
	}
	var out bytes.Buffer
	render.Table(&out, cols, rows, render.Options{Width: 80})
	want := "+----+---+\n| ID | N |\n+----+---+\n|  1 | 1 |\n+----+---+\n"
	if out.String() != want {
		t.Errorf("pull query rendered\n%s\nwant\n%s", out.String(), want)
	}
}
