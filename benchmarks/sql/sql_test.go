// Package sql benchmarks Seiche's SQL engine against hand-written DSL applications doing the same work,
// measured in the same run on the synchronous runtime.TestDriver (no broker): a filter + projection over
// JSON, and a windowed count. Run with
//
//	go test -run '^$' -bench . ./sql
//
// Each benchmark reports records/s for SQL and for the DSL baseline and their ratio (goal >= 0.8).
package sql

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	seichesql "github.com/seichedb/seiche/sql"
	"github.com/seichedb/seiche/sql/analyzer"
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

// count is the value the windowed count writes: the SQL sink's JSON row {"N":...}.
type count struct {
	N int64 `json:"N"`
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

func sqlTopology(b testing.TB, query string) *runtime.Topology {
	topo, err := seichesql.Compile(analyzer.NewMetastore(), ddl+query)
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
func compare(b *testing.B, sqlTopo, dslTopo func(testing.TB) *runtime.Topology) {
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

const (
	filterProjectSQL = "CREATE STREAM big AS SELECT id, customer, amount FROM orders WHERE amount > 50;"
	windowedCountSQL = "CREATE TABLE counts AS SELECT region, COUNT(*) AS n FROM orders WINDOW TUMBLING (SIZE 1 SECOND, GRACE PERIOD 0 SECONDS) GROUP BY region;"
)

func filterProjectSQLTopology(b testing.TB) *runtime.Topology {
	return sqlTopology(b, filterProjectSQL)
}

func windowedCountSQLTopology(b testing.TB) *runtime.Topology {
	return sqlTopology(b, windowedCountSQL)
}

// filterProjectDSL is the hand-written equivalent of filterProjectSQL.
func filterProjectDSL(b testing.TB) *runtime.Topology {
	bl := dsl.NewBuilder()
	s := dsl.Source(bl, "orders", serde.Int64(), serde.JSON[order]())
	big := dsl.MapValues(s.Filter(func(_ int64, o order) (bool, error) { return o.Amount > 50, nil }),
		func(_ int64, o order) (bigOrder, error) { return bigOrder{Customer: o.Customer, Amount: o.Amount}, nil })
	big.WithKeySerde(serde.Int64()).WithValueSerde(serde.JSON[bigOrder]()).To("BIG")
	topo, err := bl.Build()
	if err != nil {
		b.Fatal(err)
	}
	return topo
}

// windowedCountDSL is the hand-written equivalent of windowedCountSQL: group by region (through a
// repartition topic, as the SQL query), count per window without a cache, write {"N":...} values.
func windowedCountDSL(b testing.TB) *runtime.Topology {
	bl := dsl.NewBuilder()
	s := dsl.Source(bl, "orders", serde.Int64(), serde.JSON[order]())
	g := dsl.GroupBy(s, func(_ int64, o order) (string, error) { return o.Region, nil }).WithKeySerde(serde.String()).WithValueSerde(serde.JSON[order]())
	counts := dsl.WindowedCount(g.WindowedBy(dsl.TumblingWindows(time.Second, 0)), dsl.CacheBytes(0))
	out := dsl.MapValues(counts.ToStream(), func(_ dsl.Windowed[string], n int64) (count, error) { return count{N: n}, nil })
	out.WithKeySerde(dsl.TimeWindowedSerde(serde.String(), time.Second)).WithValueSerde(serde.JSON[count]()).To("COUNTS")
	topo, err := bl.Build()
	if err != nil {
		b.Fatal(err)
	}
	return topo
}

func BenchmarkFilterProject(b *testing.B) {
	compare(b, filterProjectSQLTopology, filterProjectDSL)
}

func BenchmarkWindowedCount(b *testing.B) {
	compare(b, windowedCountSQLTopology, windowedCountDSL)
}

// TestSameOutput checks that each benchmark compares like with like: from the same input records,
// the SQL query and its DSL equivalent write the same records, byte for byte.
func TestSameOutput(t *testing.T) {
	keys, values := inputs(3_000)
	for _, c := range []struct {
		name     string
		sql, dsl func(testing.TB) *runtime.Topology
		topic    string
	}{
		{"FilterProject", filterProjectSQLTopology, filterProjectDSL, "BIG"},
		{"WindowedCount", windowedCountSQLTopology, windowedCountDSL, "COUNTS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := outputs(t, c.sql(t), keys, values, c.topic)
			want := outputs(t, c.dsl(t), keys, values, c.topic)
			if len(got) == 0 || len(got) != len(want) {
				t.Fatalf("SQL wrote %d records, DSL %d", len(got), len(want))
			}
			for i := range got {
				if !bytes.Equal(got[i].Key, want[i].Key) || !bytes.Equal(got[i].Value, want[i].Value) || got[i].Timestamp != want[i].Timestamp {
					t.Fatalf("record %d: SQL wrote %q=%q@%d, DSL %q=%q@%d", i, got[i].Key, got[i].Value, got[i].Timestamp,
						want[i].Key, want[i].Value, want[i].Timestamp)
				}
			}
		})
	}
}

// outputs pipes the records through a driver of topo and returns what it wrote to topic.
func outputs(t *testing.T, topo *runtime.Topology, keys, values [][]byte, topic string) []runtime.RawRecord {
	d, err := runtime.NewTestDriver(topo)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var out []runtime.RawRecord
	for i := range keys {
		if err := d.PipeInput("orders", keys[i], values[i], int64(i)); err != nil {
			t.Fatal(err)
		}
		for {
			r, ok := d.ReadOutput(topic)
			if !ok {
				break
			}
			out = append(out, r)
		}
	}
	return out
}
