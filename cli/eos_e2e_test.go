package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/internal/testutil"
)

// TestExactlyOnceQuerySurvivesSIGKILL runs a CTAS count with SET 'processing.guarantee' =
// 'exactly_once_v2' on a `seiche server` (the SQL engine, against a broker in a process of its
// own), kills the server with SIGKILL ten times while input keeps arriving and restarts it on its
// data directory each time. A read_committed reader of the table's topic sees every key's count go
// 1, 2, 3, ... (each update once: nothing counted twice, nothing lost) up to the true count.
func TestExactlyOnceQuerySurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the seiche binary and runs it as child processes; skipped with -short")
	}
	bin := buildSeiche(t)
	brk := startSeicheRole(t, bin, t.TempDir(), true, false, "--http-listen", "")
	config := filepath.Join(t.TempDir(), "server.properties")
	// A short session timeout: the group moves a killed server's tasks to its successor quickly.
	if err := os.WriteFile(config, []byte("ksql.streams.auto.offset.reset=earliest\nksql.streams.session.timeout.ms=2000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	engine := func() *serverProc {
		return startSeicheRole(t, bin, dir, false, true, "--bootstrap", brk.brokerAddr, "--config", config)
	}
	srv := engine()

	cl, err := kgo.NewClient(kgo.SeedBrokers(brk.brokerAddr), kgo.DefaultProduceTopic("clicks"), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, "clicks"); err != nil {
		t.Fatal(err)
	}
	srv.ksql(t, "CREATE STREAM CLICKS (USER_ID STRING KEY, PAGE STRING) WITH (KAFKA_TOPIC='clicks', VALUE_FORMAT='JSON');", nil)
	// Record caching off: every update of a count is written, so a count applied twice or lost
	// shows as a step other than +1 (with the default cache a key's updates coalesce per commit).
	ents := srv.ksql(t, "SET 'processing.guarantee'='exactly_once_v2'; SET 'commit.interval.ms'='100';"+
		" SET 'cache.max.bytes.buffering'='0';"+
		" CREATE TABLE CLICK_COUNTS AS SELECT USER_ID, COUNT(*) AS N FROM CLICKS GROUP BY USER_ID;", nil)
	st, _ := ents[len(ents)-1]["commandStatus"].(map[string]any)
	queryID, _ := st["queryId"].(string)
	if queryID == "" {
		t.Fatalf("CTAS: %v", ents)
	}
	group := "_seiche-seiche-query-" + queryID

	truth := map[string]int64{}
	stop, produced := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(produced)
		for i := 0; ; {
			select {
			case <-stop:
				return
			default:
			}
			var batch []*kgo.Record
			for range 10 {
				user := fmt.Sprintf("u%d", i%8)
				truth[user]++
				batch = append(batch, &kgo.Record{Key: []byte(user), Value: fmt.Appendf(nil, `{"PAGE":"/p/%d"}`, i)})
				i++
			}
			if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
				t.Errorf("produce: %v", err)
				return
			}
			time.Sleep(20 * time.Millisecond) // clicks keep arriving while the server dies and restarts
		}
	}()
	committed := func() int64 { return testutil.CommittedOffsets(ctx, adm, group) }

	// Each server is killed once its query has committed input of its own, with more arriving.
	var last int64
	for round := range 10 {
		testutil.CheckFor(t, 90*time.Second, func() error {
			if n := committed(); n <= last {
				return fmt.Errorf("round %d: %d clicks committed, no progress since the last kill", round, n)
			}
			return nil
		})
		srv.kill()
		last = committed()
		srv = engine()
	}
	close(stop)
	<-produced
	t.Logf("10 kills; %d clicks committed at the last one", last)

	rd, err := kgo.NewClient(kgo.SeedBrokers(brk.brokerAddr), kgo.ConsumeTopics("CLICK_COUNTS"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	got := map[string]int64{}
	reached := func() bool {
		for user, n := range truth {
			if got[user] < n {
				return false
			}
		}
		return true
	}
	for !reached() {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("the committed counts %v did not reach the true counts %v", got, truth)
		}
		fs.EachRecord(func(r *kgo.Record) {
			var v struct{ N int64 }
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Fatalf("%s: %v", r.Value, err)
			}
			user := string(r.Key)
			if v.N != got[user]+1 {
				t.Errorf("%s: committed count %d after %d", user, v.N, got[user])
			}
			got[user] = v.N
		})
	}
	for user, n := range truth {
		if got[user] != n {
			t.Errorf("%s: count %d, true count %d", user, got[user], n)
		}
	}
	t.Logf("counts %v, all exact", got)
}
