package runtime

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/serde"
)

// TestRepartitionTopicKeepsOldRecords: records waiting in a repartition topic with timestamps older
// than the broker's default retention.ms (seven days) survive the broker's retention until the
// application reads them. Before repartition topics were created without time-based retention, the
// broker deleted them on its next maintenance pass, and the application skipped them silently
// (OFFSET_OUT_OF_RANGE, then the reset offset) and never committed past them: the Nexmark
// "stall", whose events are timestamped 2015.
func TestRepartitionTopicKeepsOldRecords(t *testing.T) {
	addr, cl := testBroker(t, broker.MaintenanceInterval(10*time.Millisecond))
	adm := kadm.NewClient(cl)
	ctx := context.Background()
	// The output keeps the old timestamps too; "expired" is a topic with the default retention, which
	// shows when the broker's retention has run.
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"retention.ms": kadm.StringPtr("-1")}, "out"); err != nil {
		t.Fatal(err)
	}
	createTopics(t, cl, 1, "in", "expired")

	topo := repartitionTopology("in", "out")
	newApp := func() *App {
		a, err := New(topo, ApplicationID("old"), Bootstrap(addr), CommitInterval(100*time.Millisecond),
			StateDir(t.TempDir()), Logger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}

	// A first run creates the repartition topic; with the application stopped, its records wait there
	// as they would for an application that is behind.
	first := newApp()
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		topics, err := adm.ListTopics(ctx, "old-rep")
		if err != nil {
			return err
		}
		return topics["old-rep"].Err
	})
	first.Close()
	if err := <-done; err != nil {
		t.Fatalf("first run: %v", err)
	}

	const n = 20
	old := time.Date(2015, 7, 15, 0, 0, 0, 0, time.UTC)
	for i := range n {
		r := &kgo.Record{Topic: "old-rep", Key: []byte(fmt.Sprint(i)), Value: []byte("v"), Timestamp: old.Add(time.Duration(i) * time.Second)}
		if err := cl.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	// Two retention passes that delete "expired": the second began after the first ended, so after
	// the records above were written.
	for pass := range 2 {
		r := &kgo.Record{Topic: "expired", Value: []byte("x"), Timestamp: old}
		res, err := cl.ProduceSync(ctx, r).First()
		if err != nil {
			t.Fatal(err)
		}
		checkFor(t, 10*time.Second, 5*time.Millisecond, func() error {
			starts, err := adm.ListStartOffsets(ctx, "expired")
			if err != nil {
				return err
			}
			if s, _ := starts.Lookup("expired", 0); s.Offset <= res.Offset {
				return fmt.Errorf("retention pass %d: expired starts at %d", pass+1, s.Offset)
			}
			return nil
		})
	}
	starts, err := adm.ListStartOffsets(ctx, "old-rep")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := starts.Lookup("old-rep", 0); s.Offset != 0 {
		t.Fatalf("the repartition topic starts at %d after retention: records the application had not read were deleted", s.Offset)
	}

	startApp(t, newApp())
	if got := consumeAll(t, addr, "out", n, 30*time.Second); len(got) != n {
		t.Fatalf("read %d outputs, want %d", len(got), n)
	}
}

// TestRepartitionTopicPurged: after a commit, a thread deletes the records of its repartition
// partitions below the committed offsets, since the topic's retention no longer does.
func TestRepartitionTopicPurged(t *testing.T) {
	addr, cl := testBroker(t)
	createTopics(t, cl, 1, "in", "out")
	a, err := New(repartitionTopology("in", "out"), ApplicationID("purge"), Bootstrap(addr),
		CommitInterval(50*time.Millisecond), RepartitionPurgeInterval(time.Millisecond),
		StateDir(t.TempDir()), Logger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	startApp(t, a)
	const n = 20
	for i := range n {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "in", Key: []byte(fmt.Sprint(i)), Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	consumeAll(t, addr, "out", n, 30*time.Second)
	adm := kadm.NewClient(cl)
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		starts, err := adm.ListStartOffsets(context.Background(), "purge-rep")
		if err != nil {
			return err
		}
		if s, _ := starts.Lookup("purge-rep", 0); s.Offset != n {
			return fmt.Errorf("the repartition topic starts at %d, want %d (all consumed and committed)", s.Offset, n)
		}
		return nil
	})
}

// repartitionTopology reads in, writes it through the repartition topic "rep", and writes what it
// reads from there to out, upper-cased.
func repartitionTopology(in, out string) *Topology {
	topo := NewTopology()
	AddSource(topo, "src", SourceSpec[string, string]{Topics: []string{in}, Keys: serde.String(), Values: serde.String()})
	AddSink(topo, "to-rep", SinkSpec[string, string]{Topic: "rep", Keys: serde.String(), Values: serde.String()}, "src")
	topo.AddRepartitionTopic("rep", 0)
	AddSource(topo, "from-rep", SourceSpec[string, string]{Topics: []string{"rep"}, Keys: serde.String(), Values: serde.String()})
	AddProcessor(topo, "upper", func() Processor[string, string, string, string] { return &upper{} }, "from-rep")
	AddSink(topo, "sink", SinkSpec[string, string]{Topic: out, Keys: serde.String(), Values: serde.String()}, "upper")
	return topo
}
