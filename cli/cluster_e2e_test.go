package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/engine"
	"github.com/seichedb/seiche/internal/testutil"
)

// terminate sends SIGTERM and waits for a clean exit.
func (p *serverProc) terminate(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.exitErr != nil {
			t.Errorf("server exited after SIGTERM with %v", p.exitErr)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("server did not stop within 60s of SIGTERM")
	}
}

// clusterTasks returns, from GET /clusterStatus, each alive host's partitions of query id.
func (p *serverProc) clusterTasks(id string) (map[string][]int32, error) {
	resp, err := http.Get(p.url + "/clusterStatus")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body engine.ClusterStatus
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	out := map[string][]int32{}
	for h, st := range body.ClusterStatus {
		if !st.HostAlive {
			continue
		}
		out[h] = nil
		for _, ap := range st.ActiveStandbyPerQuery[id].ActivePartitions {
			out[h] = append(out[h], ap.Partition)
		}
	}
	return out, nil
}

// pullClient is the pollers' client: a pull query waits while a failed server's partitions move.
var pullClient = &http.Client{Timeout: 90 * time.Second}

// pullCount asks srv for a key's count in window w; ok is false when the key has no row yet.
func pullCount(url, key string, w int64) (n int64, ok bool, err error) {
	body, _ := json.Marshal(map[string]any{"ksql": fmt.Sprintf("SELECT K, WINDOWSTART, N FROM COUNTS WHERE K='%s';", key)})
	resp, err := pullClient.Post(url+"/query", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, false, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, false, fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
	}
	return rowCount(raw, w)
}

// rowCount finds window w's count in a /query answer of rows [K, WINDOWSTART, N].
func rowCount(raw []byte, w int64) (int64, bool, error) {
	var elems []struct {
		Row *struct {
			Columns []any `json:"columns"`
		} `json:"row"`
		ErrorMessage any `json:"errorMessage"`
	}
	if err := json.Unmarshal(raw, &elems); err != nil {
		return 0, false, fmt.Errorf("%v: %s", err, raw)
	}
	for _, el := range elems {
		if el.ErrorMessage != nil {
			return 0, false, fmt.Errorf("error message %v", el.ErrorMessage)
		}
		if el.Row == nil || len(el.Row.Columns) != 3 {
			continue
		}
		if ws, _ := el.Row.Columns[1].(float64); int64(ws) == w {
			n, _ := el.Row.Columns[2].(float64)
			return int64(n), true, nil
		}
	}
	return 0, false, nil
}

// TestClusterFailover is issue 13's acceptance test: one broker and three SQL servers of one service
// id as child processes; a windowed count (CTAS) and a filter (CSAS) deployed once; 200,000 records in
// two rounds. In the first round one server is killed with SIGKILL and a fourth joins; in the second
// one is stopped with SIGTERM. Throughout, pollers ask every live server for the counts of random
// keys, and every answer must come. At-least-once: no input is lost; counts exceed the truth only for
// keys whose tasks the SIGKILL moved, and the SIGTERM moves tasks without any excess; the filter's
// output holds every matching input.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the seiche binary and runs a cluster of child processes; skipped with -short")
	}
	const (
		keys       = 1000
		perRound   = 100 // records per key and round
		partitions = 6
		service    = "e2e"
	)
	bin := buildSeiche(t)
	brk := startSeicheRole(t, bin, t.TempDir(), true, false, "--http-listen", "")
	config := filepath.Join(t.TempDir(), "server.properties")
	if err := os.WriteFile(config, []byte("ksql.streams.auto.offset.reset=earliest\n"+
		"ksql.streams.commit.interval.ms=500\nksql.streams.session.timeout.ms=6000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	server := func() *serverProc {
		return startSeicheRole(t, bin, t.TempDir(), false, true, "--bootstrap", brk.brokerAddr, "--service-id", service, "--config", config)
	}
	servers := []*serverProc{server(), server(), server()}

	cl, err := kgo.NewClient(kgo.SeedBrokers(brk.brokerAddr), kgo.DefaultProduceTopic("events"), kgo.RequiredAcks(kgo.AllISRAcks()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, "events"); err != nil {
		t.Fatal(err)
	}
	servers[0].ksql(t, "CREATE STREAM EVENTS (K STRING KEY, ID BIGINT, V INT) WITH (KAFKA_TOPIC='events', VALUE_FORMAT='JSON');", nil)
	ents := servers[1].ksql(t, "CREATE TABLE COUNTS AS SELECT K, COUNT(*) AS N FROM EVENTS WINDOW TUMBLING (SIZE 1 HOUR) GROUP BY K;", nil)
	st, _ := ents[0]["commandStatus"].(map[string]any)
	countID, _ := st["queryId"].(string)
	servers[2].ksql(t, "CREATE STREAM MATCHES WITH (KAFKA_TOPIC='matches') AS SELECT K, ID FROM EVENTS WHERE V = 0;", nil)
	testutil.CheckFor(t, 60*time.Second, func() error {
		tasks, err := servers[0].clusterTasks(countID)
		if err != nil {
			return err
		}
		if len(tasks) != 3 {
			return fmt.Errorf("%d servers alive, want 3: %v", len(tasks), tasks)
		}
		for h, ps := range tasks {
			if len(ps) != 2 {
				return fmt.Errorf("%s runs %v of %s, want two partitions", h, ps, countID)
			}
		}
		return nil
	})

	// Pollers: every live server answers pull queries for random keys throughout.
	var live sync.Map // url → *serverProc
	var answers, pollErrs atomic.Int64
	var firstErr atomic.Value
	stopPolls := make(chan struct{})
	var pollers sync.WaitGroup
	poll := func(s *serverProc) {
		live.Store(s.url, s)
		pollers.Add(1)
		go func() {
			defer pollers.Done()
			for {
				select {
				case <-stopPolls:
					return
				default:
				}
				if _, ok := live.Load(s.url); !ok {
					return
				}
				_, _, err := pullCount(s.url, fmt.Sprintf("k%03d", rand.IntN(keys)), 0)
				if _, ok := live.Load(s.url); !ok {
					return // stopped while asking
				}
				if err != nil {
					pollErrs.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s: %v", s.url, err))
					continue
				}
				answers.Add(1)
			}
		}()
	}
	for _, s := range servers {
		poll(s)
	}

	hour := time.Now().Truncate(time.Hour).Add(-3 * time.Hour)
	produceRound := func(round int, at func(fraction float64)) {
		t.Helper()
		base := hour.Add(time.Duration(round) * time.Hour)
		next := 0.0
		for seq := range perRound {
			var recs []*kgo.Record
			for k := range keys {
				id := int64(round*keys*perRound + seq*keys + k)
				recs = append(recs, &kgo.Record{Key: fmt.Appendf(nil, "k%03d", k), Value: fmt.Appendf(nil, `{"ID":%d,"V":%d}`, id, id%10),
					Timestamp: base.Add(time.Duration(seq) * time.Second)})
			}
			if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			if f := float64(seq+1) / perRound; f >= next {
				at(f)
				next += 0.1
			}
			time.Sleep(20 * time.Millisecond) // the servers process while the input arrives
		}
	}
	partitionOf := func(key string) int32 {
		return int32(kgo.StickyKeyPartitioner(nil).ForTopic("").Partition(&kgo.Record{Key: []byte(key)}, partitions))
	}

	// Round 1: SIGKILL a server at 30%, start a fourth at 60%.
	moved := map[int32]bool{}
	victim := servers[2]
	produceRound(0, func(f float64) {
		switch {
		case f >= 0.3 && f < 0.4:
			tasks, err := servers[0].clusterTasks(countID)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tasks[strings.TrimPrefix(victim.url, "http://")] {
				moved[p] = true
			}
			live.Delete(victim.url)
			victim.kill()
			t.Logf("killed %s, which ran partitions %v of %s", victim.url, moved, countID)
		case f >= 0.6 && f < 0.7:
			s4 := server()
			servers = append(servers, s4)
			poll(s4)
		}
	})
	if len(moved) == 0 {
		t.Fatal("the killed server ran no partitions of the count")
	}
	survivors := []*serverProc{servers[0], servers[1], servers[3]}
	// Every key's first-round count is at least the truth, and exactly it unless its task moved.
	countsAre := func(s *serverProc, w int64, exactAll bool) func() error {
		return func() error {
			rows, _, err := s.query(t, "SELECT K, WINDOWSTART, N FROM COUNTS;", nil)
			if err != nil {
				return err
			}
			got := map[string]int64{}
			for _, r := range rows {
				var cols []any
				if err := json.Unmarshal([]byte(r), &cols); err != nil || len(cols) != 3 {
					return fmt.Errorf("row %s", r)
				}
				if ws, _ := cols[1].(float64); int64(ws) == w {
					n, _ := cols[2].(float64)
					got[cols[0].(string)] = int64(n)
				}
			}
			var excess []string
			for k := range keys {
				key := fmt.Sprintf("k%03d", k)
				n := got[key]
				if n < perRound {
					return fmt.Errorf("%s: %s counts %d of %d so far", s.url, key, n, perRound)
				}
				if n > perRound {
					if exactAll || !moved[partitionOf(key)] {
						excess = append(excess, fmt.Sprintf("%s=%d (partition %d)", key, n, partitionOf(key)))
					}
				}
			}
			if len(excess) > 0 {
				t.Fatalf("%s: counts above the truth for keys no SIGKILL moved: %v", s.url, excess)
			}
			return nil
		}
	}
	for _, s := range survivors {
		testutil.CheckFor(t, 3*time.Minute, countsAre(s, hour.UnixMilli(), false))
	}

	// Round 2: SIGTERM a server halfway: its tasks move without any excess.
	produceRound(1, func(f float64) {
		if f >= 0.5 && f < 0.6 {
			live.Delete(servers[0].url)
			servers[0].terminate(t)
		}
	})
	for _, s := range survivors[1:] {
		testutil.CheckFor(t, 3*time.Minute, countsAre(s, hour.Add(time.Hour).UnixMilli(), true))
	}
	close(stopPolls)
	pollers.Wait()
	if n := pollErrs.Load(); n > 0 {
		t.Errorf("%d pull queries to live servers failed (of %d); the first: %v", n, n+answers.Load(), firstErr.Load())
	}
	t.Logf("%d pull queries answered by live servers during the run", answers.Load())

	// The filter's output holds every matching input.
	want := map[int64]bool{}
	for id := range int64(2 * keys * perRound) {
		if id%10 == 0 {
			want[id] = true
		}
	}
	mc, err := kgo.NewClient(kgo.SeedBrokers(brk.brokerAddr), kgo.ConsumeTopics("matches"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer mc.Close()
	var dups int
	deadline := time.Now().Add(2 * time.Minute)
	for len(want) > 0 && time.Now().Before(deadline) {
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		fs := mc.PollFetches(pctx)
		pcancel()
		fs.EachRecord(func(r *kgo.Record) {
			var v struct{ ID int64 }
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Fatalf("matches record %s: %v", r.Value, err)
			}
			if want[v.ID] {
				delete(want, v.ID)
			} else {
				dups++
			}
		})
	}
	if len(want) > 0 {
		t.Fatalf("the filter's output lacks %d matching inputs", len(want))
	}
	t.Logf("the filter's output holds every matching input (%d duplicates from the SIGKILL)", dups)
}
