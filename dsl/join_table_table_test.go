package dsl_test

import (
	"testing"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

func strOr(p *string, ok bool) string {
	if !ok || p == nil {
		return "null"
	}
	return *p
}

// KTable-KTable join semantics table (developer guide dsl-api.html "KTable-KTable Equi-Join"):
// either side's update triggers a result from both current rows; a tombstone on a required side
// deletes the result (a tombstone downstream), on an optional side re-joins with null; nothing is
// emitted for keys that had and have no result. Timestamps are the larger of the two rows'.
func TestTableTableJoinSemantics(t *testing.T) {
	b := dsl.NewBuilder()
	l := dsl.TableSource(b, "left", serde.String(), serde.JSON[*string]())
	r := dsl.TableSource(b, "right", serde.String(), serde.JSON[*string]())
	res := func(s string) (*string, error) { return &s, nil }
	vs := serde.JSON[*string]()
	dsl.TableTableJoin(l, r, func(_ string, a, b *string) (*string, error) { return res(*a + "+" + *b) }).WithValueSerde(vs).ToStream().To("inner")
	dsl.TableTableLeftJoin(l, r, func(_ string, a, b *string, ok bool) (*string, error) { return res(*a + "+" + strOr(b, ok)) }).WithValueSerde(vs).ToStream().To("leftjoin")
	dsl.TableTableOuterJoin(l, r, func(_ string, a *string, okA bool, b *string, okB bool) (*string, error) {
		return res(strOr(a, okA) + "+" + strOr(b, okB))
	}).WithValueSerde(vs).Materialize(dsl.Materialized("outer-result")).ToStream().To("outer")

	d := dsltest.New(t, b)
	left := dsltest.Input(d, "left", serde.String(), serde.JSON[*string]())
	right := dsltest.Input(d, "right", serde.String(), serde.JSON[*string]())
	s := func(v string) *string { return &v }
	left.PipeAt("a", s("A1"), at(1))
	right.PipeAt("a", s("a1"), at(2))
	left.PipeAt("a", s("A2"), at(3))
	right.PipeAt("a", nil, at(4))
	left.PipeAt("a", nil, at(5))
	right.PipeAt("b", s("b1"), at(6))
	left.PipeAt("b", s("B1"), at(3)) // older than the right row: the result takes its timestamp 6

	read := func(topic string) []rec[string, string] {
		var out []rec[string, string]
		for _, r := range dsltest.Output(d, topic, serde.String(), serde.JSON[*string]()).ReadRecords() {
			out = append(out, rec[string, string]{r.Key, strOr(r.Value, true), r.Timestamp})
		}
		return out
	}
	type r3 = rec[string, string]
	check := func(topic string, want ...r3) {
		t.Helper()
		if got := read(topic); !equalRecs(got, want) {
			t.Errorf("%s:\n got  %v\n want %v", topic, got, want)
		}
	}
	check("inner", r3{"a", "A1+a1", 2}, r3{"a", "A2+a1", 3}, r3{"a", "null", 4}, r3{"b", "B1+b1", 6})
	check("leftjoin", r3{"a", "A1+null", 1}, r3{"a", "A1+a1", 2}, r3{"a", "A2+a1", 3}, r3{"a", "A2+null", 4}, r3{"a", "null", 5}, r3{"b", "B1+b1", 6})
	check("outer", r3{"a", "A1+null", 1}, r3{"a", "A1+a1", 2}, r3{"a", "A2+a1", 3}, r3{"a", "A2+null", 4}, r3{"a", "null", 5},
		r3{"b", "null+b1", 6}, r3{"b", "B1+b1", 6})
	store := dsltest.TimestampedKeyValueStore(d, "outer-result", serde.String(), serde.JSON[*string]())
	if v, ok, _ := store.Get("b"); !ok || *v.Value != "B1+b1" || v.Timestamp != 6 {
		t.Errorf("outer-result[b] = %v@%d %v", strOr(v.Value, ok), v.Timestamp, ok)
	}
	if _, ok, _ := store.Get("a"); ok {
		t.Errorf("outer-result still has a")
	}
}
