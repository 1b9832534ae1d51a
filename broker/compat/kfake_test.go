package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/engine"
)

// sqlServer is an engine and its REST API in this process, over some Kafka cluster.
type sqlServer struct {
	url string
}

func startSQLServer(t *testing.T, bootstrap []string) *sqlServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	logger := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	e, err := engine.New(append(engine.TestOpts(), engine.Bootstrap(bootstrap...), engine.DataDir(t.TempDir()),
		engine.ServiceID("on-kfake"), engine.AdvertisedURL(url), engine.Logger(logger))...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { e.Run(ctx); done <- struct{}{} }()
	go func() { engine.NewAPI(e).Serve(ctx, ln); done <- struct{}{} }()
	t.Cleanup(func() {
		cancel()
		<-done
		<-done
		e.Close()
	})
	select {
	case <-e.Ready():
	case <-time.After(60 * time.Second):
		t.Fatal("engine not ready after 60s")
	}
	return &sqlServer{url: url}
}

func (s *sqlServer) post(t *testing.T, path, sql string) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"ksql": sql, "streamsProperties": map[string]any{"auto.offset.reset": "earliest"}})
	resp, err := http.Post(s.url+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, raw
}

// pullRows runs a pull query and returns its rows as compact JSON, sorted.
func (s *sqlServer) pullRows(t *testing.T, sql string) ([]string, error) {
	status, raw := s.post(t, "/query", sql)
	if status != http.StatusOK {
		return nil, fmt.Errorf("%s: HTTP %d: %s", sql, status, raw)
	}
	var elems []struct {
		Row *struct {
			Columns json.RawMessage `json:"columns"`
		} `json:"row"`
	}
	if err := json.Unmarshal(raw, &elems); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", sql, err, raw)
	}
	var rows []string
	for _, el := range elems {
		if el.Row != nil {
			var b bytes.Buffer
			_ = json.Compact(&b, el.Row.Columns)
			rows = append(rows, b.String())
		}
	}
	sort.Strings(rows)
	return rows, nil
}

// TestSQLOnKfake deploys a CSAS and a CTAS on two Seiche SQL servers whose Kafka cluster is franz-go's
// kfake, not Seiche's broker: the command topic, the queries' consumer groups, changelogs and
// repartition topics, the heartbeats and the routed pull queries all go through the Kafka protocol
// alone, as they would against any external Kafka cluster.
func TestSQLOnKfake(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close) // after the servers' cleanups, which run first
	servers := []*sqlServer{startSQLServer(t, c.ListenAddrs()), startSQLServer(t, c.ListenAddrs())}

	for _, stmt := range []string{
		"CREATE STREAM ORDERS (CUSTOMER STRING KEY, AMOUNT INT) WITH (KAFKA_TOPIC='orders', PARTITIONS=4, VALUE_FORMAT='JSON');",
		"CREATE STREAM BIG_ORDERS AS SELECT CUSTOMER, AMOUNT FROM ORDERS WHERE AMOUNT >= 50;",
		"CREATE TABLE TOTALS AS SELECT CUSTOMER, COUNT(*) AS N, SUM(AMOUNT) AS TOTAL FROM ORDERS GROUP BY CUSTOMER;",
	} {
		if status, raw := servers[0].post(t, "/ksql", stmt); status != http.StatusOK {
			t.Fatalf("%s: HTTP %d: %s", stmt, status, raw)
		}
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic("orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	type total struct{ n, sum int }
	want := map[string]total{}
	bigWant := 0
	var recs []*kgo.Record
	for i := range 400 {
		cust, amount := fmt.Sprintf("c%02d", i%40), i%100
		recs = append(recs, &kgo.Record{Key: []byte(cust), Value: fmt.Appendf(nil, `{"AMOUNT":%d}`, amount)})
		w := want[cust]
		want[cust] = total{w.n + 1, w.sum + amount}
		if amount >= 50 {
			bigWant++
		}
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	var wantRows []string
	for cust, w := range want {
		wantRows = append(wantRows, fmt.Sprintf(`[%q,%d,%d]`, cust, w.n, w.sum))
	}
	sort.Strings(wantRows)
	for _, s := range servers {
		deadline := time.Now().Add(90 * time.Second)
		for {
			rows, err := s.pullRows(t, "SELECT * FROM TOTALS;")
			if err == nil && strings.Join(rows, " ") == strings.Join(wantRows, " ") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: TOTALS = %v (%v), want %v", s.url, rows, err, wantRows)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// A key lookup, answered by whichever server holds the key.
		rows, err := s.pullRows(t, "SELECT * FROM TOTALS WHERE CUSTOMER='c07';")
		if w := want["c07"]; err != nil || len(rows) != 1 || rows[0] != fmt.Sprintf(`["c07",%d,%d]`, w.n, w.sum) {
			t.Fatalf("%s: key lookup: %v %v", s.url, rows, err)
		}
	}

	// The CSAS's output topic holds every big order.
	oc, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ConsumeTopics("BIG_ORDERS"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer oc.Close()
	got := 0
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for got < bigWant && ctx.Err() == nil {
		got += oc.PollFetches(ctx).NumRecords()
	}
	if got != bigWant {
		t.Fatalf("BIG_ORDERS holds %d records, want %d", got, bigWant)
	}
}
