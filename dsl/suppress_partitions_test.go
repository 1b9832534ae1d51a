package dsl_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/internal/testutil"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// Stream time is per task: a record of partition 1 far in the future does not close the windows of
// partition 0's task, so a record of partition 0 still counts in its open window, and partition 0's
// window closes only when partition 0's own stream time passes its end + grace.
func TestSuppressStreamTimeIsPerPartition(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	br := brokertest.Start(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ProducerLinger(0), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ConsumeTopics("final"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if resp, err := kadm.NewClient(cl).CreateTopics(ctx, 2, 1, nil, "in", "final"); err != nil || resp.Error() != nil {
		t.Fatalf("create topics: %v %v", err, resp.Error())
	}

	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.String())
	counts := dsl.WindowedCount(in.GroupByKey().WindowedBy(dsl.TumblingWindows(10*time.Millisecond, 0)))
	dsl.SuppressUntilWindowCloses(counts).ToStream().To("final")
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	app, err := runtime.New(topo, runtime.ApplicationID("suppress-partitions"), runtime.Bootstrap(br.Addr()),
		runtime.StateDir(t.TempDir()), runtime.CommitInterval(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	defer func() {
		app.Close()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()

	produce := func(p int32, key string, ts int64) {
		r := &kgo.Record{Topic: "in", Partition: p, Key: []byte(key), Value: []byte("v"), Timestamp: time.UnixMilli(ts)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	record := func(r *kgo.Record) {
		k, n := decodeWindowedCount(t, r)
		got = append(got, fmt.Sprintf("p%d %s=%d", r.Partition, k, n))
	}
	produce(0, "a", 1)
	produce(1, "b", 100) // partition 1's stream time only
	produce(0, "a", 5)   // partition 0's window [0,10) is still open
	produce(0, "a", 30)  // closes it
	testutil.CheckFor(t, 20*time.Second, func() error {
		pctx, pcancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer pcancel()
		cl.PollRecords(pctx, -1).EachRecord(record)
		if len(got) == 0 {
			return fmt.Errorf("no final result yet")
		}
		return nil
	})
	want := fmt.Sprintf("p0 %s=2", dsl.Windowed[string]{Key: "a", Window: dsl.Window{Start: 0, End: 10}})
	if len(got) != 1 || got[0] != want {
		t.Fatalf("final results = %q, want [%q]", got, want)
	}
}

// decodeWindowedCount decodes a record of a windowed count of string keys in 10 ms windows.
func decodeWindowedCount(t testing.TB, r *kgo.Record) (dsl.Windowed[string], int64) {
	t.Helper()
	k, err := dsl.TimeWindowedSerde(serde.String(), 10*time.Millisecond).Deserialize(r.Key)
	if err != nil {
		t.Fatal(err)
	}
	n, err := serde.Int64().Deserialize(r.Value)
	if err != nil {
		t.Fatal(err)
	}
	return k, n
}
