package dsl_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

// KStream-KTable join semantics table (Kafka Streams developer guide, dsl-api.html "KStream-KTable
// Join"): only stream records trigger a join, against the table's state at that time; table
// updates and tombstones only change the state. Inner: no output without a table value. Left: a
// stream record without a table value joins with null. Stream records with a null value are
// dropped; a null key is dropped by the inner join and joined with null by the left join (KIP-962).
func TestStreamTableJoinSemantics(t *testing.T) {
	b := dsl.NewBuilder()
	clicks := dsl.Source(b, "clicks", serde.String(), serde.JSON[*string]())
	users := dsl.TableSource(b, "users", serde.String(), serde.JSON[*string]())
	dsl.StreamTableJoin(clicks, users, func(_ string, c *string, u *string) (string, error) {
		return *c + "/" + *u, nil
	}).WithValueSerde(serde.String()).To("inner")
	dsl.StreamTableLeftJoin(clicks, users, func(_ string, c *string, u *string, ok bool) (string, error) {
		if !ok {
			return *c + "/null", nil
		}
		return *c + "/" + *u, nil
	}).WithValueSerde(serde.String()).To("left")

	d := dsltest.New(t, b)
	cl := dsltest.Input(d, "clicks", serde.String(), serde.JSON[*string]())
	us := dsltest.Input(d, "users", serde.String(), serde.JSON[*string]())
	s := func(v string) *string { return &v }
	cl.PipeAt("u1", s("c1"), at(1))  // no user yet
	us.PipeAt("u1", s("ann"), at(2)) // table update: no output
	cl.PipeAt("u1", s("c2"), at(3))
	us.PipeAt("u1", s("bob"), at(4))
	cl.PipeAt("u1", s("c3"), at(5))
	us.PipeAt("u1", nil, at(6)) // tombstone
	cl.PipeAt("u1", s("c4"), at(7))
	cl.PipeAt("u1", nil, at(8)) // null value: dropped by both

	checkRecs(t, "inner", dsltest.Output(d, "inner", serde.String(), serde.String()),
		rec[string, string]{"u1", "c2/ann", 3}, rec[string, string]{"u1", "c3/bob", 5})
	checkRecs(t, "left", dsltest.Output(d, "left", serde.String(), serde.String()),
		rec[string, string]{"u1", "c1/null", 1}, rec[string, string]{"u1", "c2/ann", 3},
		rec[string, string]{"u1", "c3/bob", 5}, rec[string, string]{"u1", "c4/null", 7})
}

// A stream whose key changed is repartitioned before a stream-table join, so that it is
// co-partitioned with the table (docs: "Join co-partitioning requirements").
func TestStreamTableJoinRepartitionsChangedKey(t *testing.T) {
	b := dsl.NewBuilder()
	orders := dsl.Source(b, "orders", serde.String(), serde.String())
	byUser := dsl.SelectKey(orders, func(_ string, v string) (string, error) { return v, nil }).WithKeySerde(serde.String())
	users := dsl.TableSource(b, "users", serde.String(), serde.String())
	dsl.StreamTableJoin(byUser, users, func(k, o, u string) (string, error) { return fmt.Sprintf("%s:%s", k, u), nil }).WithValueSerde(serde.String()).To("out")
	d := dsltest.New(t, b)
	dsltest.Input(d, "users", serde.String(), serde.String()).PipeAt("u1", "ann", at(1))
	dsltest.Input(d, "orders", serde.String(), serde.String()).PipeAt("o1", "u1", at(2))
	checkRecs(t, "out", dsltest.Output(d, "out", serde.String(), serde.String()), rec[string, string]{"u1", "u1:ann", 2})
	desc := fmt.Sprint(d.Describe())
	if !strings.Contains(desc, "repartition") {
		t.Errorf("topology has no repartition topic:\n%s", desc)
	}
}
