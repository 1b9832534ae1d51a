package dsl_test

import (
	"testing"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

// KGroupedTable aggregation (developer guide dsl-api.html "KTable aggregation" example; KIP-904):
// an update retracts the old row from its group with the subtractor and adds the new row with the
// adder. When the group changes, the retraction and the addition are two records, retraction first,
// each emitting an update; when it does not, one record, one update (subtract then add). A
// tombstone only retracts. Counts that reach 0 stay (no delete).
func TestTableGroupByCountAndReduce(t *testing.T) {
	b := dsl.NewBuilder()
	users := dsl.TableSource(b, "users", serde.String(), serde.JSON[*string]())
	byRegion := dsl.TableGroupBy(users, func(_ string, region *string) (string, string, error) { return *region, *region, nil }).WithKeySerde(serde.String()).WithValueSerde(serde.String())
	byRegion.Count(dsl.Materialized("region-counts")).ToStream().To("counts")

	scores := dsl.TableSource(b, "scores", serde.String(), serde.JSON[*int64]())
	dsl.TableGroupBy(scores, func(user string, s *int64) (string, int64, error) { return user[:1], *s, nil }).WithKeySerde(serde.String()).WithValueSerde(serde.Int64()).
		Reduce(func(a, v int64) (int64, error) { return a + v, nil }, func(a, v int64) (int64, error) { return a - v, nil }).
		ToStream().To("sums")

	d := dsltest.New(t, b)
	us := dsltest.Input(d, "users", serde.String(), serde.JSON[*string]())
	s := func(v string) *string { return &v }
	us.PipeAt("alice", s("eu"), at(1))
	us.PipeAt("bob", s("eu"), at(2))
	us.PipeAt("alice", s("us"), at(3)) // group changes: eu -1, then us +1
	us.PipeAt("bob", s("eu"), at(4))   // same group: one update, subtract then add
	us.PipeAt("alice", nil, at(5))     // tombstone: us -1
	checkRecs(t, "counts", dsltest.Output(d, "counts", serde.String(), serde.Int64()),
		rec[string, int64]{"eu", 1, 1},
		rec[string, int64]{"eu", 2, 2},
		rec[string, int64]{"eu", 1, 3},
		rec[string, int64]{"us", 1, 3},
		rec[string, int64]{"eu", 1, 4},
		rec[string, int64]{"us", 0, 5},
	)

	sc := dsltest.Input(d, "scores", serde.String(), serde.JSON[*int64]())
	n := func(v int64) *int64 { return &v }
	sc.PipeAt("a1", n(10), at(10))
	sc.PipeAt("a2", n(5), at(11))
	sc.PipeAt("a1", n(7), at(12)) // 15 - 10 + 7
	sc.PipeAt("a2", nil, at(13))  // 12 - 5
	checkRecs(t, "sums", dsltest.Output(d, "sums", serde.String(), serde.Int64()),
		rec[string, int64]{"a", 10, 10},
		rec[string, int64]{"a", 15, 11},
		rec[string, int64]{"a", 12, 12},
		rec[string, int64]{"a", 7, 13},
	)
}
