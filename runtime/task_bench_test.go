package runtime

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/serde"
)

type discardCollector struct{ n int }

func (c *discardCollector) send(*kgo.Record) { c.n++ }

type filterUpper struct {
	ctx ProcessorContext[string, string]
}

func (p *filterUpper) Init(ctx ProcessorContext[string, string]) error { p.ctx = ctx; return nil }
func (p *filterUpper) Close() error                                    { return nil }
func (p *filterUpper) Process(r Record[string, string]) error {
	if !strings.HasPrefix(r.Value, "click") {
		return nil
	}
	r.Value = strings.ToUpper(r.Value)
	return p.ctx.Forward(r)
}

// BenchmarkTaskProcess measures the runtime's own cost per record (deserialize, one processor,
// serialize, hand to the collector) with no broker; BenchmarkHandwrittenProcess does the same work
// inline, as a franz-go loop would.
func BenchmarkTaskProcess(b *testing.B) {
	topo := NewTopology()
	AddSource(topo, "src", SourceSpec[string, string]{Topics: []string{"in"}, Keys: serde.String(), Values: serde.String()})
	AddProcessor(topo, "p", func() Processor[string, string, string, string] { return &filterUpper{} }, "src")
	AddSink(topo, "sink", SinkSpec[string, string]{Topic: "out", Keys: serde.String(), Values: serde.String()}, "p")
	p, err := newPlan("bench", topo)
	if err != nil {
		b.Fatal(err)
	}
	sh := &shared{appID: "bench", logger: discardLogger(), onDeser: LogAndContinue, onProc: LogAndContinue, now: time.Now}
	c := &discardCollector{}
	tk, err := newTask(context.Background(), TaskID{}, p.subs[0], sh, c, nil)
	if err != nil {
		b.Fatal(err)
	}
	recs := benchRecords()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := tk.process(recs[i%len(recs)]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHandwrittenProcess(b *testing.B) {
	recs := benchRecords()
	var out []*kgo.Record
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := recs[i%len(recs)]
		k, v := string(r.Key), string(r.Value)
		if !strings.HasPrefix(v, "click") {
			continue
		}
		o := &kgo.Record{Topic: "out", Key: []byte(k), Value: []byte(strings.ToUpper(v)), Timestamp: r.Timestamp}
		out = append(out[:0], o)
	}
}

func benchRecords() []*kgo.Record {
	var recs []*kgo.Record
	for i := range 64 {
		kind := "view"
		if i%2 == 0 {
			kind = "click"
		}
		v := kind + "|user-0042|" + strings.Repeat("x", 80)
		recs = append(recs, &kgo.Record{Topic: "in", Key: []byte("user-0042"), Value: []byte(v), Timestamp: time.UnixMilli(int64(i))})
	}
	return recs
}
