package runtime

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/serde"
)

// countProc counts records per key in the store "counts" and forwards the new count.
type countProc struct {
	ctx ProcessorContext[string, int64]
}

func (p *countProc) Init(ctx ProcessorContext[string, int64]) error { p.ctx = ctx; return nil }
func (p *countProc) Close() error                                   { return nil }
func (p *countProc) Process(r Record[string, string]) error {
	kv, err := GetKeyValueStore(p.ctx, "counts", serde.String(), serde.Int64())
	if err != nil {
		return err
	}
	n, _, err := kv.Get(r.Key)
	if err != nil {
		return err
	}
	n++
	if err := kv.Put(r.Key, n); err != nil {
		return err
	}
	return p.ctx.Forward(WithValue(r, n))
}

func countTopology() *Topology {
	topo := NewTopology()
	AddSource(topo, "src", SourceSpec[string, string]{Topics: []string{"words"}, Keys: serde.String(), Values: serde.String()})
	AddProcessor(topo, "count", func() Processor[string, string, string, int64] { return &countProc{} }, "src")
	topo.AddStateStore(KeyValueStore("counts"), "count")
	AddSink(topo, "sink", SinkSpec[string, int64]{Topic: "word-counts", Keys: serde.String(), Values: serde.Int64()}, "count")
	return topo
}

// TestStatefulTaskRestoresFromChangelog runs a counting processor, stops it, and runs it again on an
// empty state directory: the store must come back from "<app>-counts-changelog".
func TestStatefulTaskRestoresFromChangelog(t *testing.T) {
	addr, cl := testBroker(t)
	createTopics(t, cl, 2, "words", "word-counts")
	produce := func(n int) {
		for i := range n {
			r := &kgo.Record{Topic: "words", Key: fmt.Appendf(nil, "w%d", i%5), Value: []byte("x")}
			if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// run returns the changelog records the run restored.
	run := func(dir string) float64 {
		a, err := New(countTopology(), ApplicationID("counter"), Bootstrap(addr), StateDir(dir),
			CommitInterval(100*time.Millisecond), SessionTimeout(6*time.Second), HeartbeatInterval(500*time.Millisecond),
			Logger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- a.Run(context.Background()) }()
		checkFor(t, 20*time.Second, 50*time.Millisecond, func() error {
			lags, err := kadm.NewClient(cl).Lag(context.Background(), "counter")
			if err != nil {
				return err
			}
			l := lags["counter"]
			if len(l.Lag) == 0 || l.Lag.Total() != 0 {
				return errors.New("the application still lags")
			}
			return nil
		})
		restored, _ := gatherSum(t, a, "seiche_stream_restore_records_total")
		a.Close()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		return restored
	}
	produce(50)
	if restored := run(t.TempDir()); restored != 0 {
		t.Errorf("the first run restored %.0f records from an empty changelog", restored)
	}
	produce(5)
	// An empty state directory: the counts must come from the changelog, all 50 records of it.
	if restored := run(t.TempDir()); restored != 50 {
		t.Errorf("the second run restored %.0f records, want the changelog's 50", restored)
	}
	last := map[string]int64{}
	for _, r := range consumeAll(t, addr, "word-counts", 55, 10*time.Second) {
		n, err := serde.Int64().Deserialize(r.Value)
		if err != nil {
			t.Fatal(err)
		}
		last[string(r.Key)] = n
	}
	for k := range 5 {
		if got := last[fmt.Sprintf("w%d", k)]; got != 11 {
			t.Errorf("w%d counted %d, want 11 (10 before the restart, 1 after)", k, got)
		}
	}
	details, err := kadm.NewClient(cl).ListTopics(context.Background(), "counter-counts-changelog")
	if err != nil || details["counter-counts-changelog"].Err != nil {
		t.Errorf("changelog topic: %v %v", err, details["counter-counts-changelog"].Err)
	}
}
