package runtime

import (
	"regexp"
	"strings"
	"testing"

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
