package dsl_test

import (
	"context"
	"fmt"
	"slices"
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

// The suppression buffer survives a restart: windows buffered and committed by one run of the
// application are emitted by the next, once, with the updates of both runs, whether the next run
// opens the same state directory (the store as committed) or an empty one (the store rebuilt from
// its changelog). The buffer's in-memory index is built again from the store; the stream time the
// buffer held (12) carries over, so a record at 14 still updates [10,20) and one at 25 closes it.
func TestSuppressRestoresAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	br := brokertest.Start(t)
	for _, tc := range []struct {
		name  string
		fresh bool // the second run opens an empty state directory
	}{{"same-state-dir", false}, {"empty-state-dir", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			app := "suppress-restart-" + tc.name
			in, final := "in-"+tc.name, "final-"+tc.name
			cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.ProducerLinger(0),
				kgo.ConsumeTopics(final), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			adm := kadm.NewClient(cl)
			if resp, err := adm.CreateTopics(ctx, 1, 1, nil, in, final); err != nil || resp.Error() != nil {
				t.Fatalf("create topics: %v %v", err, resp.Error())
			}

			b := dsl.NewBuilder()
			src := dsl.Source(b, in, serde.String(), serde.String())
			counts := dsl.WindowedCount(src.GroupByKey().WindowedBy(dsl.TumblingWindows(10*time.Millisecond, 5*time.Millisecond)))
			dsl.SuppressUntilWindowCloses(counts).ToStream().To(final)
			topo, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			run := func(stateDir string, records int64) {
				t.Helper()
				a, err := runtime.New(topo, runtime.ApplicationID(app), runtime.Bootstrap(br.Addr()),
					runtime.StateDir(stateDir), runtime.CommitInterval(50*time.Millisecond))
				if err != nil {
					t.Fatal(err)
				}
				done := make(chan error, 1)
				go func() { done <- a.Run(ctx) }()
				testutil.CheckFor(t, 30*time.Second, func() error {
					if n := testutil.CommittedOffsets(ctx, adm, app); n < records {
						return fmt.Errorf("%d of %d input records committed", n, records)
					}
					return nil
				})
				a.Close()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			produce := func(key string, ts int64) {
				r := &kgo.Record{Topic: in, Key: []byte(key), Value: []byte("v"), Timestamp: time.UnixMilli(ts)}
				if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			var got []string
			read := func() []string {
				pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
				defer cancel()
				cl.PollRecords(pctx, -1).EachRecord(func(r *kgo.Record) {
					k, n := decodeWindowedCount(t, r)
					got = append(got, fmt.Sprintf("%s=%d@%d", k, n, r.Timestamp.UnixMilli()))
				})
				return got
			}

			dir := t.TempDir()
			produce("a", 1)
			produce("a", 5)
			produce("b", 7)
			produce("a", 12)
			run(dir, 4)
			if out := read(); len(out) != 0 {
				t.Fatalf("final results before any window closed: %q", out)
			}

			if tc.fresh {
				dir = t.TempDir()
			}
			produce("a", 14) // [10,20) is still open: stream time was 12
			produce("c", 25) // closes [0,10) (at 15) and [10,20) (at 25)
			run(dir, 6)
			w := func(k string, start int64) string {
				return dsl.Windowed[string]{Key: k, Window: dsl.Window{Start: start, End: start + 10}}.String()
			}
			want := []string{w("a", 0) + "=2@5", w("b", 0) + "=1@7", w("a", 10) + "=2@14"}
			// The second run committed every input record, so everything it wrote is in the topic.
			testutil.CheckFor(t, 10*time.Second, func() error {
				if out := read(); len(out) < len(want) {
					return fmt.Errorf("final results so far: %q", out)
				}
				return nil
			})
			if out := read(); !slices.Equal(out, want) {
				t.Fatalf("final results = %q, want %q", out, want)
			}
		})
	}
}
