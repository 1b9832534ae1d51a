package dsl_test

import (
	"strings"
	"testing"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// Record caching (developer guide "Record caches in the DSL", memory-mgmt.html): with a cache,
// updates to the same key between two commits coalesce into the last one; with cache size 0 every
// update is forwarded. The test driver commits after each input record, so one input record that
// updates a key three times shows the difference.
func TestRecordCacheCoalescesBetweenCommits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cache int64
		opts  []runtime.Opt
		want  []int64
	}{
		{"cached", dsl.DefaultCacheBytes, nil, []int64{3, 4}},
		{"cache size 0", 0, nil, []int64{1, 2, 3, 4}},
		// The application's cache.max.bytes.buffering bounds every store's cache: 0 turns them
		// off, a budget smaller than one entry evicts each write at once, and one that is larger
		// than the store asks for leaves it as it is.
		{"cache.max.bytes.buffering 0", dsl.DefaultCacheBytes, []runtime.Opt{runtime.CacheMaxBytes(0)}, []int64{1, 2, 3, 4}},
		{"cache.max.bytes.buffering 1", dsl.DefaultCacheBytes, []runtime.Opt{runtime.CacheMaxBytes(1)}, []int64{1, 2, 3, 4}},
		{"cache.max.bytes.buffering 1 MB", dsl.DefaultCacheBytes, []runtime.Opt{runtime.CacheMaxBytes(1 << 20)}, []int64{3, 4}},
		{"cache.max.bytes.buffering over CacheBytes(0)", 0, []runtime.Opt{runtime.CacheMaxBytes(1 << 20)}, []int64{1, 2, 3, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := dsl.NewBuilder()
			lines := dsl.Source(b, "lines", serde.String(), serde.String())
			// FlatMapValues keeps the key: the three updates happen in one task, in one commit.
			words := dsl.FlatMapValues(lines, func(_ string, l string) ([]string, error) { return strings.Fields(l), nil }).WithValueSerde(serde.String())
			words.GroupByKey().Count(dsl.CacheBytes(tc.cache)).ToStream().To("counts")
			d := dsltest.New(t, b, tc.opts...)
			in := dsltest.Input(d, "lines", serde.String(), serde.String())
			in.PipeAt("a", "x y z", at(1))
			in.PipeAt("a", "x", at(2))
			got := dsltest.Output(d, "counts", serde.String(), serde.Int64()).ReadValues()
			if !equalRecs(got, tc.want) {
				t.Errorf("counts of a = %v, want %v", got, tc.want)
			}
		})
	}
}
