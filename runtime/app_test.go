package runtime

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/serde"
)

func TestAppEndToEnd(t *testing.T) {
	addr, cl := testBroker(t)
	createTopics(t, cl, 4, "in", "out")
	const n = 200
	for i := range n {
		key := []byte{byte('a' + i%7)}
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "in", Key: key, Value: []byte("v")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	a, err := New(upperTopology("in", "out"), ApplicationID("e2e"), Bootstrap(addr), NumStreamThreads(2),
		CommitInterval(100*time.Millisecond), SessionTimeout(6*time.Second), HeartbeatInterval(500*time.Millisecond),
		ApplicationServer("host-a:8080"), Logger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	startApp(t, a)
	recs := consumeAll(t, addr, "out", n, 30*time.Second)
	for _, r := range recs {
		if !strings.HasPrefix(string(r.Value), "V@") {
			t.Fatalf("output %q", r.Value)
		}
	}
	checkFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		if got := len(a.Tasks()); got != 4 {
			return errors.New("tasks not all assigned")
		}
		lags, err := kadm.NewClient(cl).Lag(context.Background(), "e2e")
		if err != nil {
			return err
		}
		var total int64
		for _, l := range lags {
			if l.Error() != nil {
				return l.Error()
			}
			total += l.Lag.Total()
		}
		if total != 0 {
			return errors.New("group still has lag")
		}
		return nil
	})
	hosts := a.HostPartitions()
	if len(hosts["host-a:8080"]) != 4 {
		t.Errorf("host partitions = %v", hosts)
	}
	if got, series := gatherSum(t, a, "seiche_stream_task_records_processed_total"); got != n || series != 4 {
		t.Errorf("records processed metric = %v over %d tasks, want %d over 4", got, series, n)
	}
	if _, series := gatherSum(t, a, "seiche_stream_task_commit_latency_seconds"); series == 0 {
		t.Errorf("no commit latency series")
	}
	if _, series := gatherSum(t, a, "seiche_stream_task_consumer_lag_records"); series != 4 {
		t.Errorf("%d consumer lag series, want 4", series)
	}
}

func TestAppStartupErrors(t *testing.T) {
	addr, cl := testBroker(t)
	t.Run("missing source topic", func(t *testing.T) {
		a, err := New(upperTopology("nope", "out"), ApplicationID("missing"), Bootstrap(addr), Logger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		var me *MissingSourceTopicsError
		if err := a.Run(context.Background()); !errors.As(err, &me) || me.Topics[0] != "nope" {
			t.Fatalf("Run = %v, want a MissingSourceTopicsError", err)
		}
	})
	t.Run("copartition mismatch", func(t *testing.T) {
		createTopics(t, cl, 3, "left")
		createTopics(t, cl, 4, "right")
		topo := NewTopology()
		AddSource(topo, "l", SourceSpec[string, string]{Topics: []string{"left"}, Keys: serde.String(), Values: serde.String()})
		AddSource(topo, "r", SourceSpec[string, string]{Topics: []string{"right"}, Keys: serde.String(), Values: serde.String()})
		AddProcessor(topo, "join", func() Processor[string, string, string, string] { return &upper{} }, "l", "r")
		topo.CopartitionSources("l", "r")
		a, err := New(topo, ApplicationID("copart"), Bootstrap(addr), Logger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		err = a.Run(context.Background())
		var ce *CopartitionError
		if !errors.As(err, &ce) || ce.Topics["left"] != 3 || ce.Topics["right"] != 4 {
			t.Fatalf("Run = %v, want a CopartitionError", err)
		}
		t.Log(err)
	})
	t.Run("unknown guarantee", func(t *testing.T) {
		if _, err := New(upperTopology("in", "out"), ApplicationID("x"), Bootstrap(addr), ProcessingGuarantee(Guarantee(7))); err == nil {
			t.Fatal("New accepted processing guarantee 7")
		}
	})
}

// gatherSum returns the sum of a counter or gauge (or the sample count of a histogram) over its
// series, and the number of series.
func gatherSum(t *testing.T, a *App, name string) (float64, int) {
	t.Helper()
	mfs, err := a.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	var n int
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			n++
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum, n
}

func TestAppPatternSource(t *testing.T) {
	addr, cl := testBroker(t)
	createTopics(t, cl, 2, "logs-a", "logs-b", "logsx", "all-logs")
	for _, topic := range []string{"logs-a", "logs-b", "logsx"} {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Key: []byte(topic), Value: []byte("line")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	topo := NewTopology()
	AddSource(topo, "logs", SourceSpec[string, string]{Pattern: regexp.MustCompile(`logs-.*`), Keys: serde.String(), Values: serde.String()})
	AddSink(topo, "sink", SinkSpec[string, string]{Topic: "all-logs", Keys: serde.String(), Values: serde.String()}, "logs")
	a, err := New(topo, ApplicationID("patterns"), Bootstrap(addr), CommitInterval(100*time.Millisecond), Logger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	startApp(t, a)
	got := map[string]bool{}
	for _, r := range consumeAll(t, addr, "all-logs", 2, 20*time.Second) {
		got[string(r.Key)] = true
	}
	if !got["logs-a"] || !got["logs-b"] || got["logsx"] {
		t.Errorf("pattern read %v, want logs-a and logs-b only", got)
	}
}
