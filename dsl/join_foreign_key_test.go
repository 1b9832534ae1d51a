package dsl_test

import (
	"testing"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

// Foreign-key table-table join (KIP-213; developer guide dsl-api.html "KTable-KTable Foreign-Key
// Join"): a left row joins the right row its foreign key names; changes on either side update the
// result, a changed foreign key moves the subscription, deletes on a required side delete the
// result. The inner join emits nothing for a new left row whose right row does not exist yet; the
// left join emits it joined with null.
func TestForeignKeyJoinSemantics(t *testing.T) {
	b := dsl.NewBuilder()
	orders := dsl.TableSource(b, "orders", serde.String(), serde.JSON[*string]()) // order → product id
	products := dsl.TableSource(b, "products", serde.String(), serde.JSON[*string]())
	fk := func(p *string) (string, error) { return *p, nil }
	vs := serde.JSON[*string]()
	dsl.ForeignKeyJoin(orders, products, fk, func(o, p *string) (*string, error) {
		s := *o + ":" + *p
		return &s, nil
	}, dsl.Named("fk-inner")).WithValueSerde(vs).ToStream().To("inner")
	dsl.ForeignKeyLeftJoin(orders, products, fk, func(o, p *string, ok bool) (*string, error) {
		s := *o + ":" + strOr(p, ok)
		return &s, nil
	}, dsl.Named("fk-left")).WithValueSerde(vs).ToStream().To("leftjoin")

	d := dsltest.New(t, b)
	o := dsltest.Input(d, "orders", serde.String(), serde.JSON[*string]())
	p := dsltest.Input(d, "products", serde.String(), serde.JSON[*string]())
	s := func(v string) *string { return &v }
	p.PipeAt("p1", s("apple"), at(1))
	o.PipeAt("o1", s("p1"), at(2))
	o.PipeAt("o2", s("p2"), at(3)) // p2 does not exist yet
	p.PipeAt("p2", s("pear"), at(4))
	p.PipeAt("p1", s("green apple"), at(5))
	o.PipeAt("o1", s("p2"), at(6)) // foreign key changes
	p.PipeAt("p1", nil, at(7))     // nobody points at p1 any more
	o.PipeAt("o2", nil, at(8))
	p.PipeAt("p2", nil, at(9))

	read := func(topic string) []rec[string, string] {
		var out []rec[string, string]
		for _, r := range dsltest.Output(d, topic, serde.String(), serde.JSON[*string]()).ReadRecords() {
			out = append(out, rec[string, string]{r.Key, strOr(r.Value, true), r.Timestamp})
		}
		return out
	}
	type r3 = rec[string, string]
	if got, want := read("inner"), []r3{{"o1", "p1:apple", 2}, {"o2", "p2:pear", 4}, {"o1", "p1:green apple", 5},
		{"o1", "p2:pear", 6}, {"o2", "null", 8}, {"o1", "null", 9}}; !equalRecs(got, want) {
		t.Errorf("inner:\n got  %v\n want %v", got, want)
	}
	if got, want := read("leftjoin"), []r3{{"o1", "p1:apple", 2}, {"o2", "p2:null", 3}, {"o2", "p2:pear", 4}, {"o1", "p1:green apple", 5},
		{"o1", "p2:pear", 6}, {"o2", "null", 8}, {"o1", "p2:null", 9}}; !equalRecs(got, want) {
		t.Errorf("left:\n got  %v\n want %v", got, want)
	}
}

// A foreign-key join's result carries no old values (Kafka Streams' ResponseJoinProcessor forwards
// Change(new, null)), so a delete of a left row reaches a downstream table-table join as a change
// with neither value: KTableKTableJoin forwards it as a delete when the other table has the row.
func TestForeignKeyJoinDeleteThroughTableJoin(t *testing.T) {
	b := dsl.NewBuilder()
	orders := dsl.TableSource(b, "orders", serde.String(), serde.JSON[*string]()) // order → product id
	products := dsl.TableSource(b, "products", serde.String(), serde.JSON[*string]())
	notes := dsl.TableSource(b, "notes", serde.String(), serde.JSON[*string]()) // order → note
	vs := serde.JSON[*string]()
	cat := func(a, b *string) (*string, error) {
		s := *a + ":" + *b
		return &s, nil
	}
	fj := dsl.ForeignKeyJoin(orders, products, func(p *string) (string, error) { return *p, nil }, cat).WithValueSerde(vs)
	dsl.TableTableJoin(fj, notes, func(_ string, a, b *string) (*string, error) { return cat(a, b) }).WithValueSerde(vs).ToStream().To("out")

	d := dsltest.New(t, b)
	o := dsltest.Input(d, "orders", serde.String(), serde.JSON[*string]())
	p := dsltest.Input(d, "products", serde.String(), serde.JSON[*string]())
	n := dsltest.Input(d, "notes", serde.String(), serde.JSON[*string]())
	s := func(v string) *string { return &v }
	p.PipeAt("p1", s("apple"), at(1))
	n.PipeAt("o1", s("urgent"), at(2))
	o.PipeAt("o1", s("p1"), at(3))
	o.PipeAt("o1", nil, at(4))

	var got []rec[string, string]
	for _, r := range dsltest.Output(d, "out", serde.String(), serde.JSON[*string]()).ReadRecords() {
		got = append(got, rec[string, string]{r.Key, strOr(r.Value, true), r.Timestamp})
	}
	if want := []rec[string, string]{{"o1", "p1:apple:urgent", 3}, {"o1", "null", 4}}; !equalRecs(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// A left row whose foreign key is null joins nothing (KIP-213; Kafka Streams'
// SubscriptionSendProcessorSupplier): the left join emits it joined with null, also when an
// existing row's key becomes null; the inner join emits nothing for it and deletes the result of a
// row whose key becomes null.
func TestForeignKeyJoinNullForeignKey(t *testing.T) {
	type order struct {
		Product *string `json:"product"`
		Note    string  `json:"note"`
	}
	b := dsl.NewBuilder()
	orders := dsl.TableSource(b, "orders", serde.String(), serde.JSON[*order]())
	// The right table's key type must be able to hold a null: a pointer.
	products := dsl.TableSource(b, "products", serde.JSON[*string](), serde.JSON[*string]())
	fk := func(o *order) (*string, error) { return o.Product, nil }
	vs := serde.JSON[*string]()
	dsl.ForeignKeyJoin(orders, products, fk, func(o *order, p *string) (*string, error) {
		s := o.Note + ":" + *p
		return &s, nil
	}, dsl.Named("fk-inner")).WithValueSerde(vs).ToStream().To("inner")
	dsl.ForeignKeyLeftJoin(orders, products, fk, func(o *order, p *string, ok bool) (*string, error) {
		s := o.Note + ":" + strOr(p, ok)
		return &s, nil
	}, dsl.Named("fk-left")).WithValueSerde(vs).ToStream().To("leftjoin")

	d := dsltest.New(t, b)
	o := dsltest.Input(d, "orders", serde.String(), serde.JSON[*order]())
	p := dsltest.Input(d, "products", serde.JSON[*string](), serde.JSON[*string]())
	s := func(v string) *string { return &v }
	p.PipeAt(s("p1"), s("apple"), at(1))
	o.PipeAt("o1", &order{Note: "none"}, at(2))                // null foreign key from the start
	o.PipeAt("o2", &order{Product: s("p1"), Note: "a"}, at(3)) // joins p1
	o.PipeAt("o2", &order{Note: "b"}, at(4))                   // its foreign key becomes null
	o.PipeAt("o2", &order{Product: s("p1"), Note: "c"}, at(5)) // and p1 again
	p.PipeAt(s("p1"), s("green apple"), at(6))                 // only o2 follows p1

	read := func(topic string) []rec[string, string] {
		var out []rec[string, string]
		for _, r := range dsltest.Output(d, topic, serde.String(), serde.JSON[*string]()).ReadRecords() {
			out = append(out, rec[string, string]{r.Key, strOr(r.Value, true), r.Timestamp})
		}
		return out
	}
	type r3 = rec[string, string]
	if got, want := read("inner"), []r3{{"o2", "a:apple", 3}, {"o2", "null", 4}, {"o2", "c:apple", 5},
		{"o2", "c:green apple", 6}}; !equalRecs(got, want) {
		t.Errorf("inner:\n got  %v\n want %v", got, want)
	}
	if got, want := read("leftjoin"), []r3{{"o1", "none:null", 2}, {"o2", "a:apple", 3}, {"o2", "b:null", 4},
		{"o2", "c:apple", 5}, {"o2", "c:green apple", 6}}; !equalRecs(got, want) {
		t.Errorf("left:\n got  %v\n want %v", got, want)
	}
}
