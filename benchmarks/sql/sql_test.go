// Package sql benchmarks Seiche's SQL engine against hand-written DSL applications doing the same work,
// measured in the same run on the synchronous runtime.TestDriver (no broker): a filter + projection over
// JSON, and a windowed count. Run with
//
//	go test -run '^$' -bench . ./sql
//
// Each benchmark reports records/s for SQL and for the DSL baseline and their ratio (goal >= 0.8).
package sql

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/planner"
)

type order struct {
	ID       int64   `json:"ID"`
	Customer string  `json:"CUSTOMER"`
	Amount   float64 `json:"AMOUNT"`
	Region   string  `json:"REGION"`
}

type bigOrder struct {
	Customer string  `json:"CUSTOMER"`
	Amount   float64 `json:"AMOUNT"`
}

// inputs are n orders as JSON values and 8-byte keys, about half with AMOUNT > 50.
func inputs(n int) (keys, values [][]byte) {
	for i := range n {
		o := order{ID: int64(i), Customer: fmt.Sprintf("c%d", i%1000), Amount: float64(i%100) + 0.5, Region: fmt.Sprintf("r%d", i%10)}
		v, _ := json.Marshal(o)
		k, _ := serde.Int64().Serialize(int64(i))
		keys, values = append(keys, k), append(values, v)
	}
	return keys, values
}

const ddl = "CREATE STREAM orders (id BIGINT KEY, customer STRING, amount DOUBLE, region STRING) WITH (kafka_topic='orders', value_format='JSON', key_format='KAFKA');\n"

func sqlTopology(b *testing.B, query string) *runtime.Topology {
	topo, err := planner.Compile(analyzer.NewMetastore(), ddl+query)
	if err != nil {
		b.Fatal(err)
	}
	return topo
}

// pipe pipes n records through a driver of topo and returns records/s.
func pipe(b *testing.B, topo *runtime.Topology, keys, values [][]byte, n int) float64 {
	d, err := runtime.NewTestDriver(topo)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	start := time.Now()
	for i := range n {
		j := i % len(keys)
		if err := d.PipeInput("orders", keys[j], values[j], int64(i)); err != nil {
			b.Fatal(err)
		}
		for _, t := range d.OutputTopics() {
			for {
				if _, ok := d.ReadOutput(t); !ok {
					break
				}
			}
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

// records is how many records each side processes per benchmark iteration.
const records = 50_000

// compare measures the SQL and DSL topologies in the same run, alternating, and reports both rates and
// their ratio.
func compare(b *testing.B, sqlTopo, dslTopo func(*testing.B) *runtime.Topology) {
	keys, values := inputs(10_000)
	var s, d float64
	for range b.N {
		s += pipe(b, sqlTopo(b), keys, values, records)
		d += pipe(b, dslTopo(b), keys, values, records)
	}
	n := float64(b.N)
	b.ReportMetric(s/n, "sql-records/s")
	b.ReportMetric(d/n, "dsl-records/s")
	b.ReportMetric(s/d, "sql/dsl")
}

func BenchmarkFilterProject(b *testing.B) {
	compare(b, func(b *testing.B) *runtime.Topology {
		return sqlTopology(b, "CREATE STREAM big AS SELECT id, customer, amount FROM orders WHERE amount > 50;")
	}, func(b *testing.B) *runtime.Topology {
		bl := dsl.NewBuilder()
		s := dsl.Source(bl, "orders", serde.Int64(), serde.JSON[order]())
		big := dsl.MapValues(s.Filter(func(_ int64, o order) (bool, error) { return o.Amount > 50, nil }),
			func(_ int64, o order) (bigOrder, error) { return bigOrder{Customer: o.Customer, Amount: o.Amount}, nil })
		big.To("BIG", dsl.WithKeySerde(serde.Int64()), dsl.WithValueSerde(serde.JSON[bigOrder]()))
		topo, err := bl.Build()
		if err != nil {
			b.Fatal(err)
		}
		return topo
	})
}

func BenchmarkWindowedCount(b *testing.B) {
	compare(b, func(b *testing.B) *runtime.Topology {
		return sqlTopology(b, "CREATE TABLE counts AS SELECT region, COUNT(*) AS n FROM orders WINDOW TUMBLING (SIZE 1 SECOND, GRACE PERIOD 0 SECONDS) GROUP BY region;")
	}, func(b *testing.B) *runtime.Topology {
		bl := dsl.NewBuilder()
		s := dsl.Source(bl, "orders", serde.Int64(), serde.JSON[order]())
		g := dsl.GroupBy(s, func(_ int64, o order) (string, error) { return o.Region, nil },
			dsl.WithKeySerde(serde.String()), dsl.WithValueSerde(serde.JSON[order]()))
		counts := dsl.WindowedBy(g, dsl.TumblingWindows(time.Second, 0)).Count(dsl.CacheBytes(0))
		counts.ToStream().To("COUNTS", dsl.WithKeySerde(dsl.TimeWindowedSerde(serde.String(), time.Second)),
			dsl.WithValueSerde(serde.Int64()))
		topo, err := bl.Build()
		if err != nil {
			b.Fatal(err)
		}
		return topo
	})
}
