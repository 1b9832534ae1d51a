package dsl_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// rec is an expected output record: key, value and timestamp.
type rec[K, V comparable] struct {
	Key   K
	Value V
	TS    int64
}

func readRecs[K, V comparable](o *dsltest.OutputTopic[K, V]) []rec[K, V] {
	var out []rec[K, V]
	for _, r := range o.ReadRecords() {
		out = append(out, rec[K, V]{r.Key, r.Value, r.Timestamp})
	}
	return out
}

func checkRecs[K, V comparable](t *testing.T, what string, o *dsltest.OutputTopic[K, V], want ...rec[K, V]) {
	t.Helper()
	if got := readRecs(o); !slices.Equal(got, want) {
		t.Errorf("%s:\n got  %v\n want %v", what, got, want)
	}
}

func at(ms int64) time.Time { return time.UnixMilli(ms) }

// Kafka Streams KGroupedStream.count/reduce/aggregate (docs: "Aggregating", developer guide
// dsl-api.html#aggregating): every input record updates its key's aggregate and the table forwards
// each update (the test driver commits after every record, so the cache never coalesces two
// records), stamped with the largest timestamp folded in. Records with a null key or value are
// skipped and counted in dropped-records (KStreamAggregate).
func TestStreamCountReduceAggregate(t *testing.T) {
	b := dsl.NewBuilder()
	in := dsl.Source(b, "in", serde.String(), serde.JSON[*int64]())
	g := in.GroupByKey()
	counted := g.Count(dsl.Materialized("counts"))
	counted.ToStream().To("count")
	ints := dsl.MapValues(in, func(_ string, v *int64) (int64, error) { return *v, nil }).WithValueSerde(serde.Int64())
	ints.GroupByKey().Reduce(func(a, v int64) (int64, error) { return a + v, nil }).ToStream().To("sum")
	dsl.Aggregate(ints.GroupByKey(), func() (string, error) { return "", nil },
		func(_ string, v int64, agg string) (string, error) { return agg + "|" + time.Duration(v).String(), nil },
		serde.String()).ToStream().To("agg")

	d := dsltest.New(t, b)
	input := dsltest.Input(d, "in", serde.String(), serde.JSON[*int64]())
	p := func(v int64) *int64 { return &v }
	input.PipeAt("a", p(1), at(10))
	input.PipeAt("b", p(2), at(5))
	input.PipeAt("a", p(3), at(7)) // out of order: the aggregate keeps the larger timestamp 10
	input.PipeAt("a", nil, at(20)) // null value: skipped
	input.PipeAt("a", p(4), at(30))

	checkRecs(t, "count", dsltest.Output(d, "count", serde.String(), serde.Int64()),
		rec[string, int64]{"a", 1, 10}, rec[string, int64]{"b", 1, 5}, rec[string, int64]{"a", 2, 10}, rec[string, int64]{"a", 3, 30})
	checkRecs(t, "sum", dsltest.Output(d, "sum", serde.String(), serde.Int64()),
		rec[string, int64]{"a", 1, 10}, rec[string, int64]{"b", 2, 5}, rec[string, int64]{"a", 4, 10}, rec[string, int64]{"a", 8, 30})
	checkRecs(t, "agg", dsltest.Output(d, "agg", serde.String(), serde.String()),
		rec[string, string]{"a", "|1ns", 10}, rec[string, string]{"b", "|2ns", 5}, rec[string, string]{"a", "|1ns|3ns", 10}, rec[string, string]{"a", "|1ns|3ns|4ns", 30})

	counts := dsltest.TableStore(d, counted)
	if n, ok, err := counts.Get("a"); err != nil || !ok || n.Value != 3 || n.Timestamp != 30 {
		t.Errorf("store counts[a] = %d@%d %v %v, want 3@30", n.Value, n.Timestamp, ok, err)
	}
	if got := dsltest.DroppedRecords(d); got != 1 {
		t.Errorf("dropped records = %v, want 1 (the null value, dropped by count; MapValues panics are not drops)", got)
	}
}

// GroupBy re-keys through a repartition topic named after the store ("<store>-repartition",
// KGroupedStream docs); word count is Kafka Streams' canonical example (WordCountDemo).
func TestGroupByRepartitionWordCount(t *testing.T) {
	b := dsl.NewBuilder()
	lines := dsl.Source(b, "lines", serde.String(), serde.String())
	words := dsl.FlatMapValues(lines, func(_ string, l string) ([]string, error) { return strings.Fields(strings.ToLower(l)), nil }).WithValueSerde(serde.String())
	dsl.GroupBy(words, func(_ string, w string) (string, error) { return w, nil }).WithKeySerde(serde.String()).
		Count(dsl.Materialized("word-counts")).ToStream().To("counts")

	d := dsltest.New(t, b)
	in := dsltest.Input(d, "lines", serde.String(), serde.String())
	in.PipeAt("", "the cat", at(1))
	in.PipeAt("", "The dog", at(2))
	checkRecs(t, "counts", dsltest.Output(d, "counts", serde.String(), serde.Int64()),
		rec[string, int64]{"the", 1, 1}, rec[string, int64]{"cat", 1, 1}, rec[string, int64]{"the", 2, 2}, rec[string, int64]{"dog", 1, 2})
	repart := dsltest.Output(d, "dsltest-word-counts-repartition", serde.String(), serde.String())
	if got := len(repart.ReadRecords()); got != 4 {
		t.Errorf("repartition topic dsltest-word-counts-repartition has %d records, want 4", got)
	}
}

var _ = runtime.Record[string, string]{}
