package dsl_test

import (
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

type srec = rec[dsl.Windowed[string], string]

// nullable turns a table of counts into one of *int64 so that deletes reach the output topic as
// nulls (tombstones).
func nullable[K any](t *dsl.Table[K, int64]) *dsl.Table[K, *int64] {
	return dsl.MapTableValues(t, func(_ K, n int64) (*int64, error) { return &n, nil }).WithValueSerde(serde.JSON[*int64]())
}

func show(p *int64) string {
	if p == nil {
		return "null"
	}
	return time.Duration(*p).String()
}

// Session windows (Kafka Streams developer guide, "Session Windows"; KStreamSessionWindowAggregate):
// a record within the inactivity gap of a session extends it; a record bridging two sessions
// merges them, and the merged-away sessions are retracted with tombstones before the merged
// session's new aggregate is emitted, stamped with the session end. A record whose (merged) session
// ends before streamTime - gap - grace is dropped (KStreamSessionWindowAggregate windowCloseTime).
func TestSessionWindowCountMerging(t *testing.T) {
	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.String())
	counts := dsl.WindowedCount(in.GroupByKey().SessionWindowedBy(dsl.SessionWindows{Gap: 5 * time.Millisecond, Grace: 5 * time.Millisecond}), dsl.Materialized("sessions"))
	nullable(counts).ToStream().To("out")

	d := dsltest.New(t, b)
	input := dsltest.Input(d, "in", serde.String(), serde.String())
	out := dsltest.Output(d, "out", dsl.SessionWindowedSerde(serde.String()), serde.JSON[*int64]())
	input.PipeAt("a", "x", at(0))
	input.PipeAt("a", "x", at(3))  // within 5ms of [0,0]: session [0,3]
	input.PipeAt("a", "x", at(10)) // 7ms after 3: a new session
	input.PipeAt("a", "x", at(6))  // bridges [0,3] and [10,10]: merged [0,10]
	input.PipeAt("a", "x", at(16))
	input.PipeAt("b", "x", at(4)) // stream time 16, gap 5, grace 5: [4,4] ends before 16-10, dropped

	var got []srec
	for _, r := range out.ReadRecords() {
		got = append(got, srec{r.Key, show(r.Value), r.Timestamp})
	}
	s := func(k string, start, end int64) dsl.Windowed[string] {
		return dsl.Windowed[string]{Key: k, Window: dsl.Window{Start: start, End: end}}
	}
	want := []srec{
		{s("a", 0, 0), "1ns", 0},
		{s("a", 0, 0), "null", 0},
		{s("a", 0, 3), "2ns", 3},
		{s("a", 10, 10), "1ns", 10},
		{s("a", 0, 3), "null", 3},
		{s("a", 10, 10), "null", 10},
		{s("a", 0, 10), "4ns", 10},
		{s("a", 16, 16), "1ns", 16},
	}
	if !equalRecs(got, want) {
		t.Errorf("sessions:\n got  %v\n want %v", got, want)
	}
	if n := dsltest.DroppedRecords(d); n != 1 {
		t.Errorf("dropped records = %v, want 1", n)
	}
	ss := dsltest.SessionStore(d, "sessions", serde.String(), serde.Int64())
	it, err := ss.Fetch("a")
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	var sessions []dsl.Window
	for it.Next() {
		sessions = append(sessions, it.Window())
	}
	if want := []dsl.Window{{Start: 0, End: 10}, {Start: 16, End: 16}}; !equalRecs(sessions, want) {
		t.Errorf("session store holds %v, want %v", sessions, want)
	}
}

// A session store keeps sessions for gap + grace, and its reads skip a session that ended before
// stream time - gap - grace, as Kafka Streams' do (not only whole expired segments): a record within
// the gap of such a session starts a session of its own, even though an open one is within reach.
func TestSessionWindowClosedSessionNotMerged(t *testing.T) {
	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.String())
	counts := dsl.WindowedCount(in.GroupByKey().SessionWindowedBy(dsl.SessionWindows{Gap: 5 * time.Millisecond, Grace: 0}), dsl.Materialized("sessions"))
	nullable(counts).ToStream().To("out")

	d := dsltest.New(t, b)
	input := dsltest.Input(d, "in", serde.String(), serde.String())
	out := dsltest.Output(d, "out", dsl.SessionWindowedSerde(serde.String()), serde.JSON[*int64]())
	input.PipeAt("a", "x", at(0))
	input.PipeAt("a", "x", at(3))  // [0,3]
	input.PipeAt("a", "x", at(10)) // [10,10]; stream time 10 closes [0,3] (3 < 10-5)
	input.PipeAt("a", "x", at(6))  // within the gap of [0,3] and of [10,10]: merges only with [10,10]

	var got []srec
	for _, r := range out.ReadRecords() {
		got = append(got, srec{r.Key, show(r.Value), r.Timestamp})
	}
	s := func(k string, start, end int64) dsl.Windowed[string] {
		return dsl.Windowed[string]{Key: k, Window: dsl.Window{Start: start, End: end}}
	}
	want := []srec{
		{s("a", 0, 0), "1ns", 0},
		{s("a", 0, 0), "null", 0},
		{s("a", 0, 3), "2ns", 3},
		{s("a", 10, 10), "1ns", 10},
		{s("a", 10, 10), "null", 10},
		{s("a", 6, 10), "2ns", 10},
	}
	if !equalRecs(got, want) {
		t.Errorf("sessions:\n got  %v\n want %v", got, want)
	}
}

func equalRecs[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Expiry for merging counts from the stream time before the record: with grace 0, a record exactly
// one gap after a session's end still extends it.
func TestSessionWindowExtendedAtGap(t *testing.T) {
	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.String())
	counts := dsl.WindowedCount(in.GroupByKey().SessionWindowedBy(dsl.SessionWindows{Gap: 5 * time.Millisecond, Grace: 0}))
	nullable(counts).ToStream().To("out")

	d := dsltest.New(t, b)
	input := dsltest.Input(d, "in", serde.String(), serde.String())
	out := dsltest.Output(d, "out", dsl.SessionWindowedSerde(serde.String()), serde.JSON[*int64]())
	input.PipeAt("a", "x", at(0))
	input.PipeAt("a", "x", at(5))

	var got []srec
	for _, r := range out.ReadRecords() {
		got = append(got, srec{r.Key, show(r.Value), r.Timestamp})
	}
	s := func(k string, start, end int64) dsl.Windowed[string] {
		return dsl.Windowed[string]{Key: k, Window: dsl.Window{Start: start, End: end}}
	}
	want := []srec{{s("a", 0, 0), "1ns", 0}, {s("a", 0, 0), "null", 0}, {s("a", 0, 5), "2ns", 5}}
	if !equalRecs(got, want) {
		t.Errorf("sessions:\n got  %v\n want %v", got, want)
	}
}
