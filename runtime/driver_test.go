package runtime

import (
	"fmt"
	"slices"
	"testing"

	"github.com/seichedb/seiche/serde"
)

// fanOut forwards each record three times, its value suffixed with the input record's offset and
// the copy's number, so that a test sees which input and which copy every output came from.
type fanOut struct {
	ctx ProcessorContext[string, string]
}

func (p *fanOut) Init(ctx ProcessorContext[string, string]) error { p.ctx = ctx; return nil }
func (p *fanOut) Close() error                                    { return nil }
func (p *fanOut) Process(rec Record[string, string]) error {
	md, _ := p.ctx.RecordMetadata()
	for i := range 3 {
		out := rec
		out.Value = fmt.Sprintf("%s@%d#%d", rec.Value, md.Offset, i)
		out.Timestamp = rec.Timestamp + int64(i)
		if err := p.ctx.Forward(out); err != nil {
			return err
		}
	}
	return nil
}

// TestDriverOutputsInOrder checks the test driver's bookkeeping of topics: input offsets count per
// topic, every record a sink writes is readable from its topic in order with consecutive offsets,
// also when reads and pipes interleave and a queue is emptied and refilled, and a record written to
// a topic the topology reads is processed again with its own value (the sink hands the driver one
// reused record, which the driver must copy).
func TestDriverOutputsInOrder(t *testing.T) {
	topo := NewTopology()
	AddSource(topo, "in", SourceSpec[string, string]{Topics: []string{"in"}, Keys: serde.String(), Values: serde.String()})
	AddProcessor(topo, "fan", func() Processor[string, string, string, string] { return &fanOut{} }, "in")
	AddSink(topo, "to-mid", SinkSpec[string, string]{Topic: "mid", Keys: serde.String(), Values: serde.String()}, "fan")
	AddSource(topo, "mid", SourceSpec[string, string]{Topics: []string{"mid"}, Keys: serde.String(), Values: serde.String()})
	AddSink(topo, "to-out", SinkSpec[string, string]{Topic: "out", Keys: serde.String(), Values: serde.String()}, "mid")
	d, err := NewTestDriver(topo)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()

	want := func(inputs ...int) []string {
		var out []string
		for _, in := range inputs {
			for i := range 3 {
				out = append(out, fmt.Sprintf("v%d@%d#%d", in, in, i))
			}
		}
		return out
	}
	var offset int64
	read := func(topic string, n int) []string {
		t.Helper()
		var vals []string
		for range n {
			r, ok := d.ReadOutput(topic)
			if !ok {
				t.Fatalf("%s: %d records read, want %d", topic, len(vals), n)
			}
			if topic == "out" {
				if r.Offset != offset {
					t.Errorf("out: offset %d, want %d", r.Offset, offset)
				}
				offset++
			}
			if r.Topic != topic || string(r.Key) != "k" {
				t.Errorf("%s: record %+v", topic, r)
			}
			vals = append(vals, string(r.Value))
		}
		return vals
	}
	pipe := func(in int) {
		t.Helper()
		if err := d.PipeInput("in", []byte("k"), fmt.Appendf(nil, "v%d", in), int64(10*in)); err != nil {
			t.Fatal(err)
		}
	}
	pipe(0)
	pipe(1)
	got := read("out", 4)
	pipe(2)
	got = append(got, read("out", 5)...)
	if !slices.Equal(got, want(0, 1, 2)) {
		t.Errorf("out = %q, want %q", got, want(0, 1, 2))
	}
	if _, ok := d.ReadOutput("out"); ok {
		t.Errorf("out has more records than written")
	}
	if got := read("mid", 9); !slices.Equal(got, want(0, 1, 2)) {
		t.Errorf("mid = %q, want %q", got, want(0, 1, 2))
	}
	if topics := d.OutputTopics(); len(topics) != 0 {
		t.Errorf("OutputTopics after reading everything = %v", topics)
	}
	pipe(3)
	topics := d.OutputTopics()
	slices.Sort(topics)
	if !slices.Equal(topics, []string{"mid", "out"}) {
		t.Errorf("OutputTopics = %v, want [mid out]", topics)
	}
	r, _ := d.ReadOutput("out")
	if r.Offset != 9 || r.Timestamp != 30 || string(r.Value) != "v3@3#0" {
		t.Errorf("first record of the refilled queue = %+v, want offset 9, timestamp 30, value v3@3#0", r)
	}
}
