package resttest

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker/brokertest"
)

// fakeServer answers the REST API the way ksqlDB does for the few statements the tests below use,
// over a real broker: CREATE STREAM registers a stream, INSERT INTO produces a record, SELECT * reads
// the stream's topic (KAFKA INT keys, JSON values) and answers it as a pull query on a stream.
type fakeServer struct {
	t         *testing.T
	bootstrap string

	mu struct {
		sync.Mutex
		streams  map[string]string // name → topic
		requests []string
		// lagging makes the next pull query answer without rows, as a server that has not caught up.
		lagging int
	}
}

var (
	createRE = regexp.MustCompile(`^CREATE STREAM (\w+) .*kafka_topic='([^']+)'`)
	dropRE   = regexp.MustCompile("^DROP STREAM `(\\w+)`;$")
)

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req struct {
		KSQL              string         `json:"ksql"`
		StreamsProperties map[string]any `json:"streamsProperties"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.mu.requests = append(f.mu.requests, r.URL.Path+" "+req.KSQL)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.URL.Path {
	case "/ksql":
		f.ksql(w, req.KSQL)
	case "/query":
		if req.StreamsProperties["auto.offset.reset"] != "earliest" {
			f.t.Errorf("query without auto.offset.reset=earliest: %v", req.StreamsProperties)
		}
		f.query(w, req.KSQL)
	default:
		http.NotFound(w, r)
	}
}

func statementError(w http.ResponseWriter, stmt, msg string) {
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]any{"@type": "statement_error", "error_code": 40001, "message": msg, "statementText": stmt, "entities": []any{}})
}

func (f *fakeServer) ksql(w http.ResponseWriter, sql string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ents []any
	for _, stmt := range strings.Split(sql, "\n") {
		switch {
		case stmt == "TERMINATE ALL;":
		case stmt == "SHOW QUERIES;":
			ents = append(ents, map[string]any{"@type": "queries", "statementText": stmt, "queries": []any{}})
		case stmt == "SHOW STREAMS;":
			list := []any{}
			for _, n := range sortedNames(f.mu.streams) {
				list = append(list, map[string]any{"type": "STREAM", "name": n, "topic": f.mu.streams[n], "keyFormat": "KAFKA", "valueFormat": "JSON"})
			}
			ents = append(ents, map[string]any{"@type": "streams", "statementText": stmt, "streams": list})
		case stmt == "SHOW TABLES;":
			ents = append(ents, map[string]any{"@type": "tables", "statementText": stmt, "tables": []any{}})
		case dropRE.MatchString(stmt):
			delete(f.mu.streams, dropRE.FindStringSubmatch(stmt)[1])
			ents = append(ents, currentStatus(stmt, "Source dropped"))
		case createRE.MatchString(stmt):
			m := createRE.FindStringSubmatch(stmt)
			if _, ok := f.mu.streams[m[1]]; ok {
				statementError(w, stmt, "Cannot add stream '"+m[1]+"': A stream with the same name already exists")
				return
			}
			f.mu.streams[m[1]] = m[2]
			ents = append(ents, currentStatus(stmt, "Stream created"))
		case strings.HasPrefix(stmt, "INSERT INTO TEST "):
			// The one INSERT of the tests: key 'key', ID 10 at 1234. INSERT VALUES returns no entity.
			f.produce(&kgo.Record{Topic: f.mu.streams["TEST"], Key: []byte("key"), Value: []byte(`{"ID":10}`), Timestamp: time.UnixMilli(1234)})
		default:
			statementError(w, stmt, "line 1:1: Syntax Error")
			return
		}
	}
	if ents == nil {
		ents = []any{}
	}
	json.NewEncoder(w).Encode(ents)
}

func currentStatus(stmt, msg string) map[string]any {
	return map[string]any{"@type": "currentStatus", "statementText": stmt, "commandId": "x",
		"commandStatus": map[string]any{"status": "SUCCESS", "message": msg}, "commandSequenceNumber": 1, "warnings": []any{}}
}

func sortedNames(m map[string]string) []string {
	var out []string
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (f *fakeServer) produce(rec *kgo.Record) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.bootstrap))
	if err != nil {
		f.t.Error(err)
		return
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, rec).FirstErr(); err != nil {
		f.t.Errorf("fake server: produce: %v", err)
	}
}

func (f *fakeServer) query(w http.ResponseWriter, sql string) {
	m := regexp.MustCompile(`^SELECT \* FROM (\w+);$`).FindStringSubmatch(sql)
	f.mu.Lock()
	topic := ""
	if m != nil {
		topic = f.mu.streams[m[1]]
	}
	lagging := f.mu.lagging > 0
	f.mu.lagging--
	f.mu.Unlock()
	if topic == "" {
		statementError(w, sql, "Pull queries don't support this: "+sql)
		return
	}
	var rows []string
	if !lagging {
		cl, err := kgo.NewClient(kgo.SeedBrokers(f.bootstrap), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			f.t.Error(err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			var v map[string]any
			json.Unmarshal(r.Value, &v)
			rows = append(rows, fmt.Sprintf(`{"row":{"columns":[%d,%v]}}`, int32(binary.BigEndian.Uint32(r.Key)), v["myvalue"]))
		})
		cancel()
		cl.Close()
	}
	// ksqlDB's streamed form: a JSON array, one row per line.
	lines := append([]string{"[{\"header\":{\"queryId\":\"query_1\",\"schema\":\"`MYKEY` INTEGER, `MYVALUE` INTEGER\"}}"}, rows...)
	lines = append(lines, `{"finalMessage":"Query Completed"}]`)
	fmt.Fprint(w, strings.Join(lines, ",\n")+"\n")
}

const runTestFile = `{"tests": [
  {
    "name": "insert",
    "statements": [
      "CREATE STREAM TEST (K STRING KEY, ID INT) WITH (kafka_topic='test_topic', value_format='JSON');",
      "INSERT INTO TEST (ROWTIME, K, ID) VALUES (1234, 'key', 10);"
    ],
    "outputs": [{"topic": "test_topic", "timestamp": 1234, "key": "key", "value": {"ID": 10}}],
    "responses": [{"admin": {"@type": "currentStatus"}}]
  },
  {
    "name": "pull",
    "statements": [
      "CREATE STREAM S1 (MYKEY INT KEY, MYVALUE INT) WITH (kafka_topic='test_topic', value_format='JSON');",
      "SELECT * FROM S1;"
    ],
    "topics": [{"name": "test_topic", "partitions": 1}],
    "inputs": [
      {"topic": "test_topic", "timestamp": 12365, "key": 10, "value": {"myvalue": 1}},
      {"topic": "test_topic", "timestamp": 12366, "key": 11, "value": {"myvalue": 2}}
    ],
    "responses": [
      {"admin": {"@type": "currentStatus"}},
      {"query": [
        {"header": {"schema": "` + "`MYKEY` INTEGER, `MYVALUE` INTEGER" + `"}},
        {"row": {"columns": [11, 2]}},
        {"row": {"columns": [10, 1]}},
        {"finalMessage": "Query Completed"}
      ]}
    ]
  },
  {
    "name": "wrong rows",
    "statements": [
      "CREATE STREAM S1 (MYKEY INT KEY, MYVALUE INT) WITH (kafka_topic='test_topic', value_format='JSON');",
      "SELECT * FROM S1;"
    ],
    "inputs": [{"topic": "test_topic", "timestamp": 1, "key": 10, "value": {"myvalue": 1}}],
    "responses": [
      {"admin": {"@type": "currentStatus"}},
      {"query": [{"header": {"schema": "` + "`MYKEY` INTEGER, `MYVALUE` INTEGER" + `"}}, {"row": {"columns": [10, 5]}}, {"finalMessage": "Query Completed"}]}
    ]
  },
  {
    "name": "expected error",
    "statements": [
      "CREATE STREAM S1 (MYKEY INT KEY, MYVALUE INT) WITH (kafka_topic='test_topic', value_format='JSON');",
      "SELECT MYKEY FROM S1 WINDOW TUMBLING (SIZE 1 SECOND);"
    ],
    "expectedError": {
      "type": "io.confluent.ksql.rest.entity.KsqlStatementErrorMessage",
      "message": "Pull queries don't support",
      "status": 400
    }
  },
  {
    "name": "expected error never comes",
    "statements": ["CREATE STREAM S1 (MYKEY INT KEY, MYVALUE INT) WITH (kafka_topic='test_topic', value_format='JSON');"],
    "expectedError": {"status": 400}
  },
  {
    "name": "avro",
    "statements": ["CREATE STREAM S1 (MYKEY INT KEY, MYVALUE INT) WITH (kafka_topic='test_topic', value_format='AVRO');"]
  }
]}`

// TestRun runs cases end to end against a real broker and a fake server, checking the runner's
// orchestration: cleanup of what was left on the server, topics recreated empty, inputs produced in
// the source's formats, a lagging pull query retried, outputs read back, errors matched.
func TestRun(t *testing.T) {
	b := brokertest.Start(t)
	f := &fakeServer{t: t, bootstrap: b.Addr()}
	f.mu.streams = map[string]string{"LEFTOVER": "leftover_topic"}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	target := Target{HTTP: srv.URL, Bootstrap: b.Addr(), Timeout: 3 * time.Second}

	// A topic of an earlier case with records in it, and the topic of a source left on the server.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, n := range []string{"test_topic", "leftover_topic"} {
		if _, err := adm.CreateTopic(ctx, 1, 1, nil, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "test_topic", Key: []byte{0, 0, 0, 99}, Value: []byte(`{"myvalue":99}`)}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	cases, err := Parse("run.json", []byte(runTestFile))
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Case{}
	for _, c := range cases {
		byName[c.Name] = c
	}
	run := func(name string) Result {
		t.Helper()
		r := Run(ctx, target, byName[name])
		t.Logf("%s: %s %s", name, r.Status, r.Reason)
		return r
	}

	if r := run("insert"); r.Status != Pass {
		t.Fatalf("insert: %s: %s\n%s", r.Status, r.Reason, r.Detail)
	}
	f.mu.Lock()
	reqs := strings.Join(f.mu.requests, "\n")
	_, leftover := f.mu.streams["LEFTOVER"]
	f.mu.Unlock()
	for _, want := range []string{"/ksql TERMINATE ALL;", "/ksql SHOW STREAMS;", "/ksql SHOW TABLES;", "/ksql DROP STREAM `LEFTOVER`;",
		"/ksql CREATE STREAM TEST (K STRING KEY, ID INT) WITH (kafka_topic='test_topic', value_format='JSON');\nINSERT INTO TEST"} {
		if !strings.Contains(reqs, want) {
			t.Errorf("requests do not contain %q:\n%s", want, reqs)
		}
	}
	if leftover {
		t.Error("the stream left on the server was not dropped")
	}
	k, err := newKafka(b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer k.close()
	topics, err := k.existingTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if topics["leftover_topic"] || topics["test_topic"] {
		t.Errorf("topics left after the case: %v", topics)
	}

	f.mu.Lock()
	f.mu.lagging = 2
	f.mu.Unlock()
	f.mu.Lock()
	f.mu.requests = nil
	f.mu.Unlock()
	if r := run("pull"); r.Status != Pass {
		t.Fatalf("pull: %s: %s\n%s", r.Status, r.Reason, r.Detail)
	}
	f.mu.Lock()
	queries := strings.Count(strings.Join(f.mu.requests, "\n"), "/query SELECT * FROM S1;")
	f.mu.Unlock()
	if queries != 3 {
		t.Errorf("the pull query was sent %d times, want 3 (twice lagging, then right)", queries)
	}

	start := time.Now()
	r := run("wrong rows")
	if r.Status != Fail || !strings.Contains(r.Detail, "expected [10,5], got [10,1]") {
		t.Errorf("wrong rows: %s: %s\n%s", r.Status, r.Reason, r.Detail)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("a wrong response took %v to report", d)
	}

	if r := run("expected error"); r.Status != Pass {
		t.Errorf("expected error: %s: %s\n%s", r.Status, r.Reason, r.Detail)
	}
	if r := run("expected error never comes"); r.Status != Fail || !strings.Contains(r.Reason, "every statement succeeded") {
		t.Errorf("expected error never comes: %s: %s", r.Status, r.Reason)
	}
	if r := run("avro"); r.Status != Skip || !strings.Contains(r.Reason, "AVRO") {
		t.Errorf("avro: %s: %s", r.Status, r.Reason)
	}
}

// TestCorpusAgainstServer runs the whole REST corpus against a live server when
// SEICHE_RESTTEST_HTTP (the server's URL) and SEICHE_RESTTEST_BOOTSTRAP (its Kafka) are set, and
// reports each case's outcome. It checks nothing by itself: it is how to see where a server stands.
func TestCorpusAgainstServer(t *testing.T) {
	httpURL, bootstrap := os.Getenv("SEICHE_RESTTEST_HTTP"), os.Getenv("SEICHE_RESTTEST_BOOTSTRAP")
	if httpURL == "" || bootstrap == "" {
		t.Skip("set SEICHE_RESTTEST_HTTP and SEICHE_RESTTEST_BOOTSTRAP to run ksqlDB's REST tests against a server")
	}
	cases, err := Load(corpus(t))
	if err != nil {
		t.Fatal(err)
	}
	if filter := os.Getenv("SEICHE_RESTTEST_CASE"); filter != "" {
		var some []Case
		for _, c := range cases {
			if strings.Contains(c.ID, filter) {
				some = append(some, c)
			}
		}
		cases = some
	}
	counts := map[Status]int{}
	for _, c := range cases {
		r := Run(context.Background(), Target{HTTP: httpURL, Bootstrap: bootstrap}, c)
		counts[r.Status]++
		t.Logf("%s\t%s\t%s", r.Status, c.ID, r.Reason)
		if r.Status == Fail && testing.Verbose() {
			t.Logf("%s", r.Detail)
		}
	}
	t.Logf("%d passed, %d failed, %d skipped", counts[Pass], counts[Fail], counts[Skip])
}

// TestGroupsCaughtUp checks the wait for persistent queries against a real broker: a query's
// consumer group is behind until it has committed the end of its partitions.
func TestGroupsCaughtUp(t *testing.T) {
	b := brokertest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	k, err := newKafka(b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer k.close()
	if err := k.createTopics(ctx, map[string]int32{"in": 2}, time.Now().Add(10*time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := k.groupsCaughtUp(ctx, nil); err != nil {
		t.Fatalf("no queries, no groups: %v", err)
	}
	if err := k.groupsCaughtUp(ctx, []string{"CTAS_AGG_1"}); err == nil {
		t.Fatal("a query without a group yet counted as caught up")
	}
	var recs []*kgo.Record
	for i := 0; i < 6; i++ {
		recs = append(recs, &kgo.Record{Topic: "in", Key: []byte{byte(i)}, Value: []byte("v")})
	}
	if err := k.produce(ctx, recs); err != nil {
		t.Fatal(err)
	}

	// The query's group, named like ksqlDB's application ids, consuming without committing yet.
	group := "_confluent-ksql-default_query_CTAS_AGG_1"
	cons, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ConsumerGroup(group), kgo.ConsumeTopics("in"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.DisableAutoCommit())
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var got int
	for got < len(recs) {
		fs := cons.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatal(err)
		}
		got += fs.NumRecords()
	}
	err = pollUntil(ctx, time.Now().Add(10*time.Second), 20*time.Millisecond, func() error {
		err := k.groupsCaughtUp(ctx, []string{"CTAS_AGG_1"})
		if err == nil {
			return fmt.Errorf("caught up before committing")
		}
		if !strings.Contains(err.Error(), "behind") {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("before the commit: %v", err)
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatal(err)
	}
	if err := pollUntil(ctx, time.Now().Add(10*time.Second), 20*time.Millisecond, func() error {
		return k.groupsCaughtUp(ctx, []string{"CTAS_AGG_1"})
	}); err != nil {
		t.Fatalf("after the commit: %v", err)
	}
	// A group of another name is not this query's, and does not satisfy it.
	if err := k.groupsCaughtUp(ctx, []string{"CTAS_AGG_1", "CSAS_OTHER_2"}); err != nil && !strings.Contains(err.Error(), "CSAS_OTHER_2") {
		t.Errorf("two queries, one group: %v", err)
	}

	// Once the consumer has left, its group is stale over the deleted topic and gets deleted.
	cons.Close()
	if err := pollUntil(ctx, time.Now().Add(10*time.Second), 20*time.Millisecond, func() error {
		if err := k.deleteStaleGroups(ctx, map[string]bool{"in": true}); err != nil {
			return err
		}
		listed, err := k.adm.ListGroups(ctx)
		if err != nil {
			return err
		}
		if _, ok := listed[group]; ok {
			return fmt.Errorf("group %s still there", group)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}
