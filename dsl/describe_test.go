package dsl_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/serde"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the golden files in testdata/")

// TestDescribeGolden checks Describe output against testdata/describe_*.golden, which hold the text
// Kafka Streams' TopologyDescription prints for the same topology. Run with -rewrite to regenerate.
func TestDescribeGolden(t *testing.T) {
	cases := map[string]func(b *dsl.Builder){
		// A key change followed by an explicit repartition: two sub-topologies joined by the
		// internal topic KSTREAM-REPARTITION-0000000003-repartition.
		"repartition": func(b *dsl.Builder) {
			orders := dsl.Source(b, "orders", serde.String(), serde.JSON[order]())
			big := orders.Filter(func(_ string, o order) (bool, error) { return o.Amount > 100, nil })
			byCustomer := dsl.SelectKey(big, func(_ string, o order) (string, error) { return o.Customer, nil }).WithKeySerde(serde.String())
			amounts := dsl.MapValues(byCustomer.Repartition(), func(_ string, o order) (int64, error) { return o.Amount, nil }).WithValueSerde(serde.Int64())
			amounts.To("amounts-by-customer")
		},
		// A named repartition with a split before it and a merge after: node order within a
		// sub-topology is by sub-tree size, then name, as in Kafka Streams.
		"split_merge_repartition": func(b *dsl.Builder) {
			events := dsl.Source(b, "events", serde.String(), serde.String())
			sp := events.Split(dsl.Named("route-"))
			clicks := sp.Branch(func(_, v string) (bool, error) { return strings.HasPrefix(v, "click"), nil }, dsl.Named("clicks"))
			views := sp.Branch(func(_, v string) (bool, error) { return strings.HasPrefix(v, "view"), nil }, dsl.Named("views"))
			sp.Default().To("other-events")
			merged := clicks.Merge(views)
			rekeyed := dsl.SelectKey(merged, func(_, v string) (string, error) { return v, nil }).WithKeySerde(serde.String())
			rekeyed.Repartition(dsl.Named("by-page"), dsl.Partitions(6)).Peek(func(string, string) error { return nil }).To("interactions")
		},
		// A stream joined with a global table: the global store is listed after the sub-topologies,
		// with the source and processor nodes Kafka Streams names for builder.globalTable.
		"global_table": func(b *dsl.Builder) {
			orders := dsl.Source(b, "orders", serde.String(), serde.JSON[order]())
			customers := dsl.GlobalTable(b, "customers", serde.String(), serde.String())
			dsl.StreamGlobalTableJoin(orders, customers, func(_ string, o order) (string, error) { return o.Customer, nil },
				func(o order, name string) (string, error) { return name, nil }).WithValueSerde(serde.String()).To("orders-by-name")
		},
		// A table from a topic, filtered, and its changes as a stream.
		"table": func(b *dsl.Builder) {
			users := dsl.TableSource(b, "users", serde.String(), serde.String())
			users.Filter(func(_, v string) (bool, error) { return v != "", nil }).ToStream().To("active-users")
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			b := dsl.NewBuilder()
			build(b)
			topo, err := b.Build()
			if err != nil {
				t.Fatal(err)
			}
			got := topo.Describe().String()
			path := filepath.Join("testdata", "describe_"+name+".golden")
			if *rewrite {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -rewrite to create it)", err)
			}
			if got != string(want) {
				t.Errorf("Describe() differs from %s (run with -rewrite to update):\n--- got\n%s\n--- want\n%s", path, got, want)
			}
		})
	}
}
