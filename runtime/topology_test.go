package runtime

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seichedb/seiche/serde"
)

func TestTopologyErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(*Topology)
		want  string
	}{
		{"type mismatch", func(topo *Topology) {
			AddSource(topo, "s", SourceSpec[string, int64]{Topics: []string{"t"}, Keys: serde.String(), Values: serde.Int64()})
			AddProcessor(topo, "p", func() Processor[string, string, string, string] { return &upper{} }, "s")
		}, "node p takes runtime.Record[string,string] but parent s forwards runtime.Record[string,int64]"},
		{"unknown parent", func(topo *Topology) {
			AddSink(topo, "k", SinkSpec[string, string]{Topic: "o", Keys: serde.String(), Values: serde.String()}, "nope")
		}, "parent nope is not added yet"},
		{"duplicate", func(topo *Topology) {
			AddSource(topo, "s", SourceSpec[string, string]{Topics: []string{"a"}, Keys: serde.String(), Values: serde.String()})
			AddSource(topo, "s", SourceSpec[string, string]{Topics: []string{"b"}, Keys: serde.String(), Values: serde.String()})
		}, "node s is already added"},
		{"topic read twice", func(topo *Topology) {
			AddSource(topo, "s", SourceSpec[string, string]{Topics: []string{"a"}, Keys: serde.String(), Values: serde.String()})
			AddSource(topo, "s2", SourceSpec[string, string]{Topics: []string{"a"}, Keys: serde.String(), Values: serde.String()})
		}, "topic a is already read by source s"},
		{"store on a sink", func(topo *Topology) {
			AddSource(topo, "s", SourceSpec[string, string]{Topics: []string{"a"}, Keys: serde.String(), Values: serde.String()})
			AddSink(topo, "k", SinkSpec[string, string]{Topic: "o", Keys: serde.String(), Values: serde.String()}, "s")
			topo.AddStateStore(KeyValueStore("st"), "k")
		}, "not a processor"},
		{"child of a sink", func(topo *Topology) {
			AddSource(topo, "s", SourceSpec[string, string]{Topics: []string{"a"}, Keys: serde.String(), Values: serde.String()})
			AddSink(topo, "k", SinkSpec[string, string]{Topic: "o", Keys: serde.String(), Values: serde.String()}, "s")
			AddSink(topo, "k2", SinkSpec[string, string]{Topic: "o2", Keys: serde.String(), Values: serde.String()}, "k")
		}, "is a sink"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topo := NewTopology()
			tc.build(topo)
			if err := topo.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Err() = %v, want %q", err, tc.want)
			}
			if _, err := NewTestDriver(topo); err == nil {
				t.Errorf("NewTestDriver accepted a broken topology")
			}
		})
	}
}

func TestDescribePatternAndStores(t *testing.T) {
	topo := NewTopology()
	AddSource(topo, "logs", SourceSpec[string, string]{Pattern: regexp.MustCompile(`logs-.*`), Keys: serde.String(), Values: serde.String()})
	AddProcessor(topo, "count", func() Processor[string, string, string, string] { return &upper{} }, "logs")
	topo.AddStateStore(KeyValueStore("counts"), "count")
	AddSource(topo, "other", SourceSpec[string, string]{Topics: []string{"b", "a"}, Keys: serde.String(), Values: serde.String()})
	AddProcessor(topo, "count2", func() Processor[string, string, string, string] { return &upper{} }, "other")
	topo.ConnectStores("count2", "counts") // shares the store: one sub-topology
	want := `Topologies:
   Sub-topology: 0
    Source: logs (topics: logs-.*)
      --> count
    Source: other (topics: [a, b])
      --> count2
    Processor: count (stores: [counts])
      --> none
      <-- logs
    Processor: count2 (stores: [counts])
      --> none
      <-- other

`
	if got := topo.Describe().String(); got != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", got, want)
	}
}

// TestPipeInputContextStops checks that a topology feeding its own input, which PipeInput would
// process forever, stops when PipeInputContext's context is done, and that the driver stays usable.
func TestPipeInputContextStops(t *testing.T) {
	topo := NewTopology()
	AddSource(topo, "s", SourceSpec[string, string]{Topics: []string{"loop"}, Keys: serde.String(), Values: serde.String()})
	AddSink(topo, "k", SinkSpec[string, string]{Topic: "loop", Keys: serde.String(), Values: serde.String()}, "s")
	d, err := NewTestDriver(topo)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if !d.Reads("loop") || d.Reads("other") {
		t.Errorf("Reads(loop), Reads(other) = %v, %v; want true, false", d.Reads("loop"), d.Reads("other"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := d.PipeInputContext(ctx, "loop", []byte("k"), []byte("v"), 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PipeInputContext = %v, want %v", err, context.DeadlineExceeded)
	}
	if _, ok := d.ReadOutput("loop"); !ok {
		t.Errorf("no record went round the loop")
	}
	done, cancelDone := context.WithCancel(context.Background())
	cancelDone()
	if err := d.PipeInputContext(done, "loop", []byte("k"), []byte("v"), 0); !errors.Is(err, context.Canceled) {
		t.Errorf("PipeInputContext with a done context = %v, want %v", err, context.Canceled)
	}
}
