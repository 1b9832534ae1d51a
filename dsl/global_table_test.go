package dsl_test

import (
	"strings"
	"testing"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

type gtOrder struct {
	Item   string
	Amount int
}

// Stream-GlobalKTable join semantics (Kafka Streams developer guide, dsl-api.html "KStream-
// GlobalKTable Join"): the table key is mapped from the stream record (here from its value), only
// stream records trigger, against the table's state at that time; table updates and tombstones
// only change the state. Inner: no output without a table value or with a nil mapped key. Left: a
// stream record without a table value joins with the zero value.
func TestStreamGlobalTableJoinSemantics(t *testing.T) {
	b := dsl.NewBuilder()
	orders := dsl.Source(b, "orders", serde.String(), serde.JSON[*gtOrder]())
	items := dsl.GlobalTable(b, "items", serde.String(), serde.JSON[*string]())
	byItem := func(_ string, o *gtOrder) (*string, error) {
		if o.Item == "" {
			return nil, nil
		}
		return &o.Item, nil
	}
	show := func(o *gtOrder, name *string) (string, error) {
		if name == nil {
			return o.Item + "/null", nil
		}
		return o.Item + "/" + *name, nil
	}
	itemsByPtr := dsl.GlobalTable(b, "items-by-ptr", serde.JSON[*string](), serde.JSON[*string]())
	dsl.StreamGlobalTableJoin(orders, itemsByPtr, byItem, show).WithValueSerde(serde.String()).To("inner")
	dsl.StreamGlobalTableLeftJoin(orders, itemsByPtr, byItem, show).WithValueSerde(serde.String()).To("left")
	dsl.StreamGlobalTableJoin(orders, items, func(k string, _ *gtOrder) (string, error) { return k, nil }, show).WithValueSerde(serde.String()).To("by-key")

	d := dsltest.New(t, b)
	or := dsltest.Input(d, "orders", serde.String(), serde.JSON[*gtOrder]())
	it := dsltest.Input(d, "items-by-ptr", serde.JSON[*string](), serde.JSON[*string]())
	byKey := dsltest.Input(d, "items", serde.String(), serde.JSON[*string]())
	s := func(v string) *string { return &v }
	or.PipeAt("o1", &gtOrder{Item: "i1"}, at(1)) // no item yet
	it.PipeAt(s("i1"), s("apple"), at(2))        // table update: no output
	or.PipeAt("o2", &gtOrder{Item: "i1"}, at(3))
	it.PipeAt(s("i1"), s("pear"), at(4)) // update visible to later records
	or.PipeAt("o3", &gtOrder{Item: "i1"}, at(5))
	or.PipeAt("o4", &gtOrder{}, at(6)) // nil mapped key: dropped by inner, joined by left
	it.PipeAt(s("i1"), nil, at(7))     // tombstone
	or.PipeAt("o5", &gtOrder{Item: "i1"}, at(8))
	or.PipeAt("o6", nil, at(9)) // nil value: dropped by both
	byKey.PipeAt("o7", s("seven"), at(10))
	or.PipeAt("o7", &gtOrder{Item: "i7"}, at(11))

	checkRecs(t, "inner", dsltest.Output(d, "inner", serde.String(), serde.String()),
		rec[string, string]{"o2", "i1/apple", 3}, rec[string, string]{"o3", "i1/pear", 5})
	checkRecs(t, "left", dsltest.Output(d, "left", serde.String(), serde.String()),
		rec[string, string]{"o1", "i1/null", 1}, rec[string, string]{"o2", "i1/apple", 3},
		rec[string, string]{"o3", "i1/pear", 5}, rec[string, string]{"o4", "/null", 6},
		rec[string, string]{"o5", "i1/null", 8}, rec[string, string]{"o7", "i7/null", 11})
	checkRecs(t, "by-key", dsltest.Output(d, "by-key", serde.String(), serde.String()),
		rec[string, string]{"o7", "i7/seven", 11})
	if desc := d.Describe().String(); strings.Contains(desc, "repartition") {
		t.Errorf("a global table join repartitioned:\n%s", desc)
	}
}

// A topic read as a global table cannot also be read as a stream.
func TestGlobalTableTopicReadTwice(t *testing.T) {
	b := dsl.NewBuilder()
	dsl.Source(b, "items", serde.String(), serde.String())
	dsl.GlobalTable(b, "items", serde.String(), serde.String())
	if _, err := b.Build(); err == nil || !strings.Contains(err.Error(), "items") {
		t.Fatalf("Build: got %v, want an error naming the topic", err)
	}
}
