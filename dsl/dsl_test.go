package dsl_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

type order struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
	Amount   int64  `json:"amount"`
}

func kvs[K, V any](pairs ...any) []dsl.KeyValue[K, V] {
	var out []dsl.KeyValue[K, V]
	for i := 0; i < len(pairs); i += 2 {
		out = append(out, dsl.KeyValue[K, V]{Key: pairs[i].(K), Value: pairs[i+1].(V)})
	}
	return out
}

func TestStatelessOperators(t *testing.T) {
	b := dsl.NewBuilder()
	orders := dsl.Source(b, "orders", serde.String(), serde.JSON[order]())
	big := orders.Filter(func(_ string, o order) (bool, error) { return o.Amount >= 100, nil })
	byCustomer := dsl.SelectKey(big, func(_ string, o order) (string, error) { return o.Customer, nil }).WithKeySerde(serde.String())
	amounts := dsl.MapValues(byCustomer, func(_ string, o order) (int64, error) { return o.Amount, nil }).WithValueSerde(serde.Int64())
	amounts.To("big-amounts")
	small := orders.FilterNot(func(_ string, o order) (bool, error) { return o.Amount >= 100, nil })
	words := dsl.FlatMapValues(small, func(_ string, o order) ([]string, error) {
		return strings.Fields(o.Customer), nil
	}).WithValueSerde(serde.String())
	words.To("small-words")
	pairs := dsl.FlatMap(small, func(k string, o order) ([]dsl.KeyValue[string, int64], error) {
		return []dsl.KeyValue[string, int64]{{Key: k + "-a", Value: o.Amount}, {Key: k + "-b", Value: -o.Amount}}, nil
	}).WithKeySerde(serde.String()).WithValueSerde(serde.Int64())
	pairs.To("pairs")
	var peeked []string
	dsl.Map(orders.Peek(func(k string, _ order) error { peeked = append(peeked, k); return nil }),
		func(k string, o order) (string, string, error) { return o.ID, k, nil }).WithKeySerde(serde.String()).WithValueSerde(serde.String()).To("ids")

	d := dsltest.New(t, b)
	in := dsltest.Input(d, "orders", serde.String(), serde.JSON[order]())
	in.Pipe("k1", order{ID: "o1", Customer: "ann", Amount: 150})
	in.Pipe("k2", order{ID: "o2", Customer: "bob smith", Amount: 5})
	in.Pipe("k3", order{ID: "o3", Customer: "cy", Amount: 100})

	if got, want := dsltest.Output(d, "big-amounts", serde.String(), serde.Int64()).ReadKeyValues(),
		kvs[string, int64]("ann", int64(150), "cy", int64(100)); !slices.Equal(got, want) {
		t.Errorf("big-amounts = %v, want %v", got, want)
	}
	if got, want := dsltest.Output(d, "small-words", serde.String(), serde.String()).ReadValues(), []string{"bob", "smith"}; !slices.Equal(got, want) {
		t.Errorf("small-words = %v, want %v", got, want)
	}
	if got, want := dsltest.Output(d, "pairs", serde.String(), serde.Int64()).ReadKeyValues(),
		kvs[string, int64]("k2-a", int64(5), "k2-b", int64(-5)); !slices.Equal(got, want) {
		t.Errorf("pairs = %v, want %v", got, want)
	}
	if got, want := dsltest.Output(d, "ids", serde.String(), serde.String()).ReadKeyValues(),
		kvs[string, string]("o1", "k1", "o2", "k2", "o3", "k3"); !slices.Equal(got, want) {
		t.Errorf("ids = %v, want %v", got, want)
	}
	if want := []string{"k1", "k2", "k3"}; !slices.Equal(peeked, want) {
		t.Errorf("peeked %v, want %v", peeked, want)
	}
}

func TestSplitMergeAndTimestamps(t *testing.T) {
	b := dsl.NewBuilder()
	events := dsl.Source(b, "events", serde.String(), serde.String())
	sp := events.Split(dsl.Named("route-"))
	clicks := sp.Branch(func(_, v string) (bool, error) { return strings.HasPrefix(v, "click"), nil }, dsl.Named("clicks"))
	views := sp.Branch(func(_, v string) (bool, error) { return strings.HasPrefix(v, "view"), nil })
	other := sp.Default()
	clicks.To("clicks")
	views.Merge(other).To("rest")

	d := dsltest.New(t, b)
	in := dsltest.Input(d, "events", serde.String(), serde.String())
	at := time.UnixMilli(1000)
	in.PipeAt("a", "click:1", at)
	in.PipeAt("b", "view:1", at.Add(time.Second))
	in.PipeAt("c", "buy:1", at.Add(2*time.Second))
	in.PipeAt("d", "click:2", at.Add(3*time.Second))

	got := dsltest.Output(d, "clicks", serde.String(), serde.String()).ReadRecords()
	if len(got) != 2 || got[0].Value != "click:1" || got[1].Value != "click:2" || got[1].Timestamp != 4000 {
		t.Errorf("clicks = %+v", got)
	}
	if got, want := dsltest.Output(d, "rest", serde.String(), serde.String()).ReadValues(), []string{"view:1", "buy:1"}; !slices.Equal(got, want) {
		t.Errorf("rest = %v, want %v", got, want)
	}
	desc := d.Describe().String()
	for _, name := range []string{"route-clicks", "route-2", "route-0", "KSTREAM-MERGE-"} {
		if !strings.Contains(desc, name) {
			t.Errorf("description lacks %s:\n%s", name, desc)
		}
	}
}

func TestEventTimeExtractor(t *testing.T) {
	b := dsl.NewBuilder()
	dsl.Source(b, "orders", serde.String(), serde.JSON[order](),
		dsl.EventTime(func(_ string, o order) (int64, error) { return o.Amount * 1000, nil })).To("out")
	d := dsltest.New(t, b)
	dsltest.Input(d, "orders", serde.String(), serde.JSON[order]()).PipeAt("k", order{Amount: 7}, time.UnixMilli(1))
	rec, ok := dsltest.Output(d, "out", serde.String(), serde.JSON[order]()).ReadRecord()
	if !ok || rec.Timestamp != 7000 {
		t.Fatalf("got %+v, %v; want timestamp 7000", rec, ok)
	}

	b = dsl.NewBuilder()
	dsl.Source(b, "in", serde.String(), serde.String(), dsl.WallClockTime()).To("out")
	d = dsltest.New(t, b, runtime.StartTime(time.UnixMilli(123_000)))
	d.AdvanceWallClock(time.Second)
	dsltest.Input(d, "in", serde.String(), serde.String()).PipeAt("k", "v", time.UnixMilli(1))
	if rec, _ := dsltest.Output(d, "out", serde.String(), serde.String()).ReadRecord(); rec.Timestamp != 124_000 {
		t.Errorf("wall-clock timestamp %d, want 124000", rec.Timestamp)
	}
}

func TestRepartitionThroughDriver(t *testing.T) {
	b := dsl.NewBuilder()
	s := dsl.Source(b, "in", serde.String(), serde.String())
	rekeyed := dsl.SelectKey(s, func(_, v string) (string, error) { return v, nil }).WithKeySerde(serde.String())
	rekeyed.Repartition(dsl.Named("by-value")).To("out")
	d := dsltest.New(t, b, runtime.ApplicationID("app"))
	dsltest.Input(d, "in", serde.String(), serde.String()).Pipe("k", "v")
	if got := dsltest.Output(d, "out", serde.String(), serde.String()).ReadKeyValues(); !slices.Equal(got, kvs[string, string]("v", "v")) {
		t.Errorf("out = %v", got)
	}
	if rec, ok := d.Runtime().ReadOutput("app-by-value-repartition"); !ok || string(rec.Key) != "v" {
		t.Errorf("repartition topic record = %+v, %v", rec, ok)
	}
}

func TestTables(t *testing.T) {
	b := dsl.NewBuilder()
	users := dsl.TableSource(b, "users", serde.String(), serde.JSON[*order](), dsl.Materialized("users-store"))
	rich := users.Filter(func(_ string, o *order) (bool, error) { return o.Amount > 10, nil })
	names := dsl.MapTableValues(rich, func(_ string, o *order) (*string, error) { return &o.Customer, nil }).WithValueSerde(serde.JSON[*string]())
	names.ToStream().To("rich-names")
	dsl.Source(b, "updates", serde.String(), serde.Int64()).ToTable(dsl.Materialized("latest")).ToStream().To("latest-out")

	d := dsltest.New(t, b)
	in := dsltest.Input(d, "users", serde.String(), serde.JSON[*order]())
	in.Pipe("u1", &order{Customer: "ann", Amount: 50})
	in.Pipe("u2", &order{Customer: "bob", Amount: 5})
	in.Pipe("u1", &order{Customer: "ann", Amount: 1}) // leaves the filtered table
	in.Pipe("u2", nil)                                // delete of a key never in the filtered table
	in.Pipe("u3", &order{Customer: "cy", Amount: 99})

	out := dsltest.Output(d, "rich-names", serde.String(), serde.JSON[*string]()).ReadRecords()
	var got []string
	for _, r := range out {
		v := "<nil>"
		if r.Value != nil {
			v = *r.Value
		}
		got = append(got, r.Key+"="+v)
	}
	if want := []string{"u1=ann", "u1=<nil>", "u3=cy"}; !slices.Equal(got, want) {
		t.Errorf("rich-names = %v, want %v", got, want)
	}
	store := dsltest.TimestampedKeyValueStore(d, "users-store", serde.String(), serde.JSON[*order]())
	if v, ok, err := store.Get("u1"); err != nil || !ok || v.Value.Amount != 1 {
		t.Errorf("users-store u1 = %+v, %v, %v", v, ok, err)
	}
	if _, ok, _ := store.Get("u2"); ok {
		t.Errorf("users-store still has deleted u2")
	}

	up := dsltest.Input(d, "updates", serde.String(), serde.Int64())
	up.Pipe("a", 1)
	up.Pipe("a", 2)
	latest := dsltest.TimestampedKeyValueStore(d, "latest", serde.String(), serde.Int64())
	if v, ok, _ := latest.Get("a"); !ok || v.Value != 2 {
		t.Errorf("latest a = %v, %v", v, ok)
	}
	if got := dsltest.Output(d, "latest-out", serde.String(), serde.Int64()).ReadValues(); !slices.Equal(got, []int64{1, 2}) {
		t.Errorf("latest-out = %v", got)
	}
}

// counter is a custom processor counting records per key in a store and emitting the counts on a
// wall-clock punctuation.
type counter struct {
	ctx   runtime.ProcessorContext[string, int64]
	store string
	seen  map[string]bool
}

func (c *counter) Init(ctx runtime.ProcessorContext[string, int64]) error {
	c.ctx, c.seen = ctx, map[string]bool{}
	_, err := ctx.Schedule(10*time.Second, runtime.WallClockTime, func(ts int64) error {
		kv, err := runtime.GetKeyValueStore(ctx, c.store, serde.String(), serde.Int64())
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(c.seen))
		for k := range c.seen {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			n, _, err := kv.Get(k)
			if err != nil {
				return err
			}
			if err := ctx.Forward(runtime.Record[string, int64]{Key: k, Value: n, Timestamp: ts}); err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

func (c *counter) Process(rec runtime.Record[string, string]) error {
	kv, err := runtime.GetKeyValueStore(c.ctx, c.store, serde.String(), serde.Int64())
	if err != nil {
		return err
	}
	n, _, err := kv.Get(rec.Key)
	if err != nil {
		return err
	}
	c.seen[rec.Key] = true
	return kv.Put(rec.Key, n+1)
}

func (c *counter) Close() error { return nil }

func TestProcessorAPIWithStoreAndPunctuation(t *testing.T) {
	b := dsl.NewBuilder()
	b.AddStateStore(runtime.KeyValueStore("counts"))
	s := dsl.Source(b, "in", serde.String(), serde.String())
	dsl.Process(s, func() runtime.Processor[string, string, string, int64] { return &counter{store: "counts"} },
		dsl.WithStores("counts")).WithKeySerde(serde.String()).WithValueSerde(serde.Int64()).To("counts-out")

	d := dsltest.New(t, b)
	in := dsltest.Input(d, "in", serde.String(), serde.String())
	in.Pipe("a", "x")
	in.Pipe("b", "x")
	in.Pipe("a", "x")
	out := dsltest.Output(d, "counts-out", serde.String(), serde.Int64())
	if !out.IsEmpty() {
		t.Fatalf("output before the punctuation")
	}
	d.AdvanceWallClock(9 * time.Second)
	if !out.IsEmpty() {
		t.Fatalf("punctuation fired early")
	}
	d.AdvanceWallClock(time.Second)
	got := out.ReadRecords()
	if len(got) != 2 || got[0].Key != "a" || got[0].Value != 2 || got[1].Value != 1 || got[0].Timestamp != 10000 {
		t.Errorf("counts = %+v", got)
	}
	if v, _, _ := dsltest.KeyValueStore(d, "counts", serde.String(), serde.Int64()).Get("a"); v != 2 {
		t.Errorf("store a = %d", v)
	}
}

type streamTimeProc struct {
	ctx   runtime.ProcessorContext[string, string]
	fired []int64
}

func (p *streamTimeProc) Init(ctx runtime.ProcessorContext[string, string]) error {
	p.ctx = ctx
	_, err := ctx.Schedule(time.Second, runtime.StreamTime, func(ts int64) error {
		p.fired = append(p.fired, ts)
		return nil
	})
	return err
}
func (p *streamTimeProc) Process(rec runtime.Record[string, string]) error { return p.ctx.Forward(rec) }
func (p *streamTimeProc) Close() error                                     { return nil }

func TestStreamTimePunctuation(t *testing.T) {
	b := dsl.NewBuilder()
	proc := &streamTimeProc{}
	dsl.Process(dsl.Source(b, "in", serde.String(), serde.String()),
		func() runtime.Processor[string, string, string, string] { return proc })
	d := dsltest.New(t, b)
	in := dsltest.Input(d, "in", serde.String(), serde.String())
	for _, ms := range []int64{500, 900, 1000, 1200, 3500, 3000, 4000} {
		in.PipeAt("k", "v", time.UnixMilli(ms))
	}
	// Kafka Streams: first at the first record, then aligned to multiples of the interval,
	// skipping missed intervals, never for an out-of-order record.
	if want := []int64{500, 1000, 3500, 4000}; !slices.Equal(proc.fired, want) {
		t.Errorf("stream-time punctuations at %v, want %v", proc.fired, want)
	}
}

func TestErrorsAndPanics(t *testing.T) {
	build := func() *dsl.Builder {
		b := dsl.NewBuilder()
		s := dsl.Source(b, "in", serde.String(), serde.Int64())
		dsl.MapValues(s, func(k string, v int64) (int64, error) {
			switch k {
			case "err":
				return 0, errors.New("bad record")
			case "panic":
				var m map[string]int
				m["x"] = 1 // nil map write
			}
			return v * 2, nil
		}).WithValueSerde(serde.Int64()).To("out")
		return b
	}
	t.Run("continue", func(t *testing.T) {
		d := dsltest.New(t, build(), runtime.ProcessingLogTopic("plog"))
		in := dsltest.Input(d, "in", serde.String(), serde.Int64())
		in.Pipe("a", 1)
		in.Pipe("err", 2)
		in.Pipe("panic", 3)
		if err := d.Runtime().PipeInput("in", []byte("short"), []byte{1, 2}, 0); err != nil {
			t.Fatalf("deserialization error with LogAndContinue: %v", err)
		}
		in.Pipe("b", 4)
		if got := dsltest.Output(d, "out", serde.String(), serde.Int64()).ReadValues(); !slices.Equal(got, []int64{2, 8}) {
			t.Errorf("out = %v", got)
		}
		log := dsltest.Output(d, "plog", serde.String(), serde.JSON[runtime.ProcessingLogEntry]()).ReadValues()
		if len(log) != 3 {
			t.Fatalf("processing log has %d entries, want 3: %+v", len(log), log)
		}
		if log[0].Type != "PROCESSING_ERROR" || log[0].Offset != 1 || !strings.Contains(log[0].Message, "bad record") {
			t.Errorf("entry 0 = %+v", log[0])
		}
		if log[1].Type != "PROCESSING_ERROR" || !strings.Contains(log[1].Message, "panic") {
			t.Errorf("entry 1 = %+v", log[1])
		}
		if log[2].Type != "DESERIALIZATION_ERROR" || log[2].Offset != 3 {
			t.Errorf("entry 2 = %+v", log[2])
		}
	})
	t.Run("fail", func(t *testing.T) {
		d := dsltest.New(t, build(), runtime.OnProcessingError(runtime.LogAndFail))
		in := dsltest.Input(d, "in", serde.String(), serde.Int64())
		err := in.PipeRecord(runtime.Record[string, int64]{Key: "panic", Value: 1})
		var te *runtime.TaskError
		var pe *runtime.ProcessingError
		var panicErr *runtime.PanicError
		if !errors.As(err, &te) || !errors.As(err, &pe) || !errors.As(err, &panicErr) {
			t.Fatalf("error = %v (%T), want a TaskError wrapping a ProcessingError wrapping a PanicError", err, err)
		}
		if pe.Node != "KSTREAM-MAPVALUES-0000000001" {
			t.Errorf("failing node %q", pe.Node)
		}
		in.Pipe("a", 1) // the driver stays usable
	})
}

func TestBuilderErrors(t *testing.T) {
	b := dsl.NewBuilder()
	s := dsl.Source(b, "in", serde.String(), serde.String())
	dsl.MapValues(s, func(_, v string) (int, error) { return len(v), nil }).To("out")
	if _, err := b.Build(); err == nil || !strings.Contains(err.Error(), "no value serde for int") {
		t.Errorf("Build error = %v, want a missing value serde", err)
	}

	b = dsl.NewBuilder()
	dsl.Source(b, "in", serde.String(), serde.String(), dsl.EventTime(func(string, int) (int64, error) { return 0, nil }))
	if _, err := b.Build(); err == nil || !strings.Contains(err.Error(), "EventTime") {
		t.Errorf("Build error = %v, want an EventTime type mismatch", err)
	}

	b = dsl.NewBuilder()
	dsl.Source(b, "in", serde.String(), serde.String(), dsl.Named("x"))
	dsl.Source(b, "in2", serde.String(), serde.String(), dsl.Named("x"))
	if _, err := b.Build(); err == nil || !strings.Contains(err.Error(), "already added") {
		t.Errorf("Build error = %v, want a duplicate name", err)
	}
}

// TestValueTypeTombstones checks that a table of a value type with no nil (int64) treats a null
// record as a delete and that ToStream writes its deletes as tombstones, as Kafka Streams does
// (KTable#toStream forwards a delete as a null value; a null value read into a KTable deletes the key).
func TestValueTypeTombstones(t *testing.T) {
	b := dsl.NewBuilder()
	scores := dsl.TableSource(b, "scores", serde.String(), serde.Int64(), dsl.Materialized("scores-store"))
	scores.Filter(func(_ string, v int64) (bool, error) { return v > 0, nil }).ToStream().To("positive")

	d := dsltest.New(t, b)
	in := dsltest.Input(d, "scores", serde.String(), serde.Int64())
	in.Pipe("a", 5)
	in.Pipe("a", 0) // filtered out: a delete downstream
	in.Pipe("b", 7)
	// A tombstone deletes b.
	if err := in.PipeRecord(runtime.Record[string, int64]{Key: "b", Null: true}); err != nil {
		t.Fatal(err)
	}
	in.Pipe("c", 3)

	var got []string
	for _, r := range dsltest.Output(d, "positive", serde.String(), serde.Int64()).ReadRecords() {
		v := "null"
		if !r.Null {
			v = strconv.FormatInt(r.Value, 10)
		}
		got = append(got, r.Key+"="+v)
	}
	if want := []string{"a=5", "a=null", "b=7", "b=null", "c=3"}; !slices.Equal(got, want) {
		t.Errorf("positive = %v, want %v", got, want)
	}
	store := dsltest.TimestampedKeyValueStore(d, "scores-store", serde.String(), serde.Int64())
	if _, ok, _ := store.Get("b"); ok {
		t.Errorf("scores-store still has b after its tombstone")
	}
	if v, ok, _ := store.Get("a"); !ok || v.Value != 0 {
		t.Errorf("scores-store a = %v, %v; want 0 (a value, not a delete)", v, ok)
	}
}
