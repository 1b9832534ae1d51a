package dsl_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// A global table over a 3-partition topic joined with a 1-partition stream, on the in-process
// broker: the stream's single task finds items from every partition of the table's topic (no
// co-partitioning), written both before the application starts (restored before any stream
// record is processed) and while it runs (applied by the global consumer).
func TestStreamGlobalTableJoinApp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	br := brokertest.Start(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ProducerLinger(0), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ConsumeTopics("gt-out"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	for topic, parts := range map[string]int32{"gt-items": 3, "gt-orders": 1, "gt-out": 1} {
		if resp, err := adm.CreateTopics(ctx, parts, 1, nil, topic); err != nil || resp.Error() != nil {
			t.Fatalf("create %s: %v %v", topic, err, resp.Error())
		}
	}
	produce := func(topic string, partition int32, key, value string) {
		t.Helper()
		r := &kgo.Record{Topic: topic, Partition: partition, Key: []byte(key), Value: []byte(value)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	for i := range 6 {
		produce("gt-items", int32(i%3), fmt.Sprintf("i%d", i), fmt.Sprintf("item%d", i))
	}
	// Orders are keyed by order id; the item is the value.
	for i := range 6 {
		produce("gt-orders", 0, fmt.Sprintf("o%d", i), fmt.Sprintf("i%d", i))
	}

	b := dsl.NewBuilder()
	orders := dsl.Source(b, "gt-orders", serde.String(), serde.String())
	items := dsl.GlobalTable(b, "gt-items", serde.String(), serde.String())
	dsl.StreamGlobalTableJoin(orders, items, func(_ string, item string) (string, error) { return item, nil },
		func(item, name string) (string, error) { return item + "=" + name, nil }).WithValueSerde(serde.String()).To("gt-out")
	topo, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	app, err := runtime.New(topo, runtime.ApplicationID("gt-app"), runtime.Bootstrap(br.Addr()), runtime.StateDir(t.TempDir()),
		runtime.CommitInterval(100*time.Millisecond), runtime.SessionTimeout(6*time.Second), runtime.HeartbeatInterval(500*time.Millisecond),
		runtime.Logger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	defer func() {
		app.Close()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}()

	got := map[string]string{}
	read := func(want int, timeout time.Duration, tick func()) {
		t.Helper()
		deadline := time.Now().Add(timeout)
		for len(got) < want {
			if time.Now().After(deadline) {
				t.Fatalf("got %d joined orders within %v, want %d: %v", len(got), timeout, want, got)
			}
			if tick != nil {
				tick()
			}
			pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
			cl.PollFetches(pctx).EachRecord(func(r *kgo.Record) { got[string(r.Key)] = string(r.Value) })
			pcancel()
		}
	}
	// Every order of the first batch finds its item, whichever partition it is in: the table was
	// restored before the stream task processed its first record.
	read(6, 30*time.Second, nil)
	for i := range 6 {
		if want := fmt.Sprintf("i%d=item%d", i, i); got[fmt.Sprintf("o%d", i)] != want {
			t.Errorf("order o%d joined as %q, want %q", i, got[fmt.Sprintf("o%d", i)], want)
		}
	}
	// An item written while the application runs becomes visible to later orders; until then the
	// inner join drops them.
	produce("gt-items", 2, "i9", "item9")
	n := 0
	read(7, 30*time.Second, func() {
		produce("gt-orders", 0, fmt.Sprintf("late%d", n), "i9")
		n++
	})
	for k, v := range got {
		if len(k) > 4 && k[:4] == "late" && v != "i9=item9" {
			t.Errorf("order %s joined as %q", k, v)
		}
	}
}
