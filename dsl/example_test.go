package dsl_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// The word count of Kafka Streams' WordCountDemo as one chain: every step keeps the string keys
// and values, so the source's serdes travel to the end, and Count brings its own.
func Example() {
	b := dsl.NewBuilder()
	dsl.Source(b, "text-lines", serde.String(), serde.String()).
		FlatMapValues(func(_, line string) ([]string, error) { return strings.Fields(strings.ToLower(line)), nil }).
		GroupBy(func(_, word string) (string, error) { return word, nil }).
		Count(dsl.Materialized("word-counts")).
		ToStream().
		To("word-counts")

	drive(b, "text-lines", [][2]string{{"", "all streams lead to kafka"}, {"", "hello kafka streams"}}, "word-counts",
		func(k, v []byte) string {
			n, _ := serde.Int64().Deserialize(v)
			return fmt.Sprintf("%s %d", k, n)
		})
	// Output:
	// all 1
	// streams 1
	// lead 1
	// to 1
	// kafka 1
	// hello 1
	// kafka 2
	// streams 2
}

// Counting per key and tumbling window: WindowedBy is a method of the grouped stream, and the
// count of windows a package function, because its table is keyed by Windowed[K].
func ExampleGroupedStream_WindowedBy() {
	b := dsl.NewBuilder()
	clicks := dsl.Source(b, "clicks", serde.String(), serde.String()).
		GroupByKey().
		WindowedBy(dsl.TumblingWindows(time.Minute, 0))
	dsl.WindowedCount(clicks, dsl.CacheBytes(0)).ToStream().To("clicks-per-minute")

	windows := dsl.TimeWindowedSerde(serde.String(), time.Minute)
	drive(b, "clicks", [][2]string{{"ann", "/"}, {"bob", "/"}, {"ann", "/docs"}}, "clicks-per-minute", func(k, v []byte) string {
		w, _ := windows.Deserialize(k)
		n, _ := serde.Int64().Deserialize(v)
		return fmt.Sprintf("%s [%d, %d) %d", w.Key, w.Window.Start, w.Window.End, n)
	})
	// Output:
	// ann [0, 60000) 1
	// bob [0, 60000) 1
	// ann [0, 60000) 2
}

// Changing a type: MapValues is a package function that returns a stream of the new value type,
// which has no serde yet; WithValueSerde gives it one of that type (a serde of another type does
// not compile). Aggregate stores a new type too, so its serde is an argument.
func ExampleAggregate() {
	type stats struct{ N, Total int }
	b := dsl.NewBuilder()
	amounts := dsl.MapValues(dsl.Source(b, "orders", serde.String(), serde.String()),
		func(_, order string) (int, error) { return len(order), nil }).
		WithValueSerde(serde.JSON[int]())
	totals := dsl.Aggregate(amounts.GroupByKey(),
		func() (stats, error) { return stats{}, nil },
		func(_ string, amount int, s stats) (stats, error) { return stats{s.N + 1, s.Total + amount}, nil },
		serde.JSON[stats](), dsl.CacheBytes(0))
	totals.ToStream().To("totals")

	drive(b, "orders", [][2]string{{"ann", "abc"}, {"ann", "de"}}, "totals", func(k, v []byte) string { return fmt.Sprintf("%s %s", k, v) })
	// Output:
	// ann {"N":1,"Total":3}
	// ann {"N":2,"Total":5}
}

// drive pipes records (key, value), one millisecond apart, into topic in and prints what reaches
// out.
func drive(b *dsl.Builder, in string, records [][2]string, out string, format func(k, v []byte) string) {
	topo, err := b.Build()
	if err != nil {
		fmt.Println(err)
		return
	}
	d, err := runtime.NewTestDriver(topo)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer d.Close()
	for i, r := range records {
		if err := d.PipeInput(in, []byte(r[0]), []byte(r[1]), int64(i)); err != nil {
			fmt.Println(err)
			return
		}
	}
	for {
		rec, ok := d.ReadOutput(out)
		if !ok {
			return
		}
		fmt.Println(format(rec.Key, rec.Value))
	}
}
