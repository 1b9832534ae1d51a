package dsl_test

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

const restartChildEnv = "SEICHE_DSL_RESTART_CHILD"

// TestRestartChild is the application TestAggregationRestoresAfterSIGKILL runs in a child process:
// a count per key, with a short commit interval, until the process is killed.
func TestRestartChild(t *testing.T) {
	if os.Getenv(restartChildEnv) == "" {
		t.Skip("runs only as the child of TestAggregationRestoresAfterSIGKILL")
	}
	b := dsl.NewBuilder()
	dsl.Source(b, "in", serde.String(), serde.String()).GroupByKey().Count(dsl.Materialized("counts")).ToStream().To("out")
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	app, err := runtime.New(topo, runtime.ApplicationID("restart"), runtime.Bootstrap(os.Getenv("SEICHE_BOOTSTRAP")),
		runtime.StateDir(os.Getenv("SEICHE_STATE_DIR")), runtime.CommitInterval(100*time.Millisecond),
		runtime.GroupInstanceID("restart-instance"), runtime.SessionTimeout(6*time.Second), runtime.HeartbeatInterval(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// An aggregation killed with SIGKILL mid-stream and restarted on an empty state directory restores
// its store from the changelog topic and continues counting from there: with at-least-once
// processing, no key's final count is below the number of records produced for it (records
// processed after the last commit may be counted twice, never lost).
func TestAggregationRestoresAfterSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker and two child processes")
	}
	br := brokertest.Start(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	adm := kadm.NewClient(cl)
	if resp, err := adm.CreateTopics(ctx, 2, 1, nil, "in", "out"); err != nil || resp.Error() != nil {
		t.Fatalf("create topics: %v %v", err, resp.Error())
	}

	const keys, total = 10, 20000
	truth := map[string]int64{}
	var produced atomic.Int64
	produce := func(from, to int) {
		var batch []*kgo.Record
		for i := from; i < to; i++ {
			k := "k" + strconv.Itoa(i%keys)
			truth[k]++
			batch = append(batch, &kgo.Record{Topic: "in", Key: []byte(k), Value: []byte("v")})
			if len(batch) == 200 || i == to-1 {
				if err := cl.ProduceSync(ctx, batch...).FirstErr(); err != nil {
					t.Fatalf("produce: %v", err)
				}
				produced.Add(int64(len(batch)))
				batch = batch[:0]
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	start := func(stateDir string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRestartChild$", "-test.v")
		cmd.Env = append(os.Environ(), restartChildEnv+"=1", "SEICHE_BOOTSTRAP="+br.Addr(), "SEICHE_STATE_DIR="+stateDir)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		return cmd
	}
	outEnds := func() map[int32]int64 {
		ends, err := adm.ListEndOffsets(ctx, "out")
		if err != nil {
			t.Fatal(err)
		}
		m := map[int32]int64{}
		ends.Each(func(o kadm.ListedOffset) { m[o.Partition] = o.Offset })
		return m
	}
	committed := func() int64 {
		offs, err := adm.FetchOffsets(ctx, "restart")
		if err != nil {
			return 0
		}
		var n int64
		offs.Each(func(o kadm.OffsetResponse) {
			if o.Err == nil {
				n += o.At
			}
		})
		return n
	}

	produce(0, total/4)
	child := start(t.TempDir())
	// Produce the rest while the first instance runs; kill it once it has committed part of the
	// input and while input is still arriving.
	done := make(chan struct{})
	go func() { defer close(done); produce(total/4, total) }()
	deadline := time.Now().Add(30 * time.Second)
	for committed() < total/5 {
		if time.Now().After(deadline) {
			t.Fatal("the first instance committed nothing within 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	killedAt := produced.Load()
	endsAtKill := outEnds()
	t.Logf("killed the first instance with %d input records committed, %d of %d produced", committed(), killedAt, total)
	if killedAt == total {
		t.Logf("warning: all input was produced before the kill")
	}

	start(t.TempDir()) // a new, empty state directory: the store must come from the changelog
	<-done

	// Read the output until every key's latest count reaches the true count.
	rd, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ConsumeTopics("out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	latest := map[string]int64{}
	firstAfter := map[string]int64{}
	rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	reached := func() bool {
		for k, n := range truth {
			if latest[k] < n {
				return false
			}
		}
		return true
	}
	for !reached() {
		fs := rd.PollFetches(rctx)
		if rctx.Err() != nil {
			t.Fatalf("counts did not reach the true counts: got %v, want at least %v", latest, truth)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n := int64(binary.BigEndian.Uint64(r.Value))
			k := string(r.Key)
			latest[k] = n
			if r.Offset >= endsAtKill[r.Partition] {
				if _, ok := firstAfter[k]; !ok {
					firstAfter[k] = n
				}
			}
		})
	}
	for k, n := range truth {
		if latest[k] < n || latest[k] > 2*n {
			t.Errorf("key %s: final count %d, true count %d", k, latest[k], n)
		}
	}
	var restored int
	for _, n := range firstAfter {
		if n > 1 {
			restored++
		}
	}
	if restored == 0 {
		t.Errorf("the restarted instance counted from zero: first counts %v", firstAfter)
	}
	t.Logf("final counts %v (true %v); first counts of the restarted instance %v", latest, truth, firstAfter)
}
