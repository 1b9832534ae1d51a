// Package dsl is Seiche's typed Go API for streaming applications: Kafka Streams' StreamsBuilder,
// KStream and KTable, with Go generics.
//
//	b := dsl.NewBuilder()
//	dsl.Source(b, "text-lines", serde.String(), serde.String()).
//		FlatMapValues(func(_, line string) ([]string, error) { return strings.Fields(line), nil }).
//		GroupBy(func(_, word string) (string, error) { return word, nil }).
//		Count(dsl.Materialized("word-counts")).
//		ToStream().
//		To("word-counts")
//	topo, err := b.Build() // a *runtime.Topology: run it with runtime.New, test it with dsltest
//	app, err := runtime.New(topo, runtime.ApplicationID("orders"), runtime.Bootstrap("127.0.0.1:9092"),
//		runtime.ProcessingGuarantee(runtime.ExactlyOnceV2)) // exactly-once; at-least-once by default
//
// # Conventions
//
//   - Streams and tables are typed: Stream[K, V] and Table[K, V]. Operations that keep the types are
//     methods (Filter, Peek, Merge, Split, GroupByKey, Repartition, To, ToTable; a table's Filter,
//     ToStream; the grouping's Count, Reduce, WindowedBy, SessionWindowedBy, SlidingWindowedBy).
//     Operations that give a key or value a new type are package functions, because Go methods
//     cannot have type parameters: Map, MapValues, FlatMap, FlatMapValues, SelectKey, GroupBy,
//     MapTableValues, TableGroupBy, Aggregate, Process, the joins. Where the new type is the old
//     one, the method of the same name does it and keeps the serdes: s.MapValues(fn) is
//     dsl.MapValues(s, fn) with the value type unchanged, so a chain that keeps its types reads
//     left to right as in Kafka Streams.
//   - The aggregations of windows (WindowedCount, WindowedReduce, WindowedAggregate,
//     SessionAggregate, SlidingAggregate) are package functions too: their result is keyed by
//     Windowed[K], and Go rejects methods that lead from a type back to itself with a larger type
//     argument (see WindowedStream).
//   - Every user function takes the record's key and value and returns an error last:
//     func(K, V) (bool, error) for predicates, func(K, V) (VR, error) for MapValues, and so on. An
//     error (or a panic) is a processing error of that record: it goes to the processing log and,
//     by default, processing continues with the next record (runtime.OnProcessingError changes
//     that). There are no non-error variants: one convention, and `return x, nil` costs nothing.
//   - Options come in families, one per kind of operation (SourceOpt, NodeOpt, MapOpt,
//     RepartitionOpt, TableOpt, AggregateOpt, WindowedAggregateOpt, JoinOpt, WindowJoinOpt,
//     ProcessOpt), as franz-go's kgo.ProducerOpt and kgo.ConsumerOpt: an option that cannot apply
//     to an operation does not compile (Partitions on a Filter, Retention on an unwindowed Count).
//   - Serdes are typed, never options: a stream carries the serdes of its key and value while the
//     types stay (from Source); after a type change give them with the result's WithKeySerde and
//     WithValueSerde methods, which take a serde.Serde[K] and a serde.Serde[V], so a serde of the
//     wrong type does not compile. Aggregations that store a new type take its serde as an
//     argument (Aggregate(g, init, agg, serde.JSON[Stats]())). A serde still missing where a
//     stream is written to a topic or a store is a Build error naming the operation.
//   - Nodes are named as in Kafka Streams (KSTREAM-FILTER-0000000001), so Describe output reads the
//     same; Named overrides a name.
//   - A Kafka null is a nil value of a pointer, slice, map or interface type (serde.IsNil), or, for
//     value types that have no nil (int64, a struct), a record marked runtime.Record.Null (sources
//     mark null values so): tables treat it as a delete, ToStream emits it for a delete, sinks write
//     it as a tombstone. Operations that compute a new value (MapValues, ...) clear the mark.
//   - Operations that move a key (Map, FlatMap, SelectKey, Process) mark the stream: the stateful
//     operations after them repartition such a stream first, as Kafka Streams does, unless
//     PreservesKey says the key did not move. Repartition does it explicitly.
//
// # Serdes
//
// Serdes are the top-level package serde, not dsl/serde: the runtime (sources and sinks) and the
// state package's typed stores use them too, and neither may import the dsl.
//
// # What it never does
//
// The dsl only builds: it never runs anything and keeps no state of its own; every node it adds is
// a runtime processor a user could have written with the Processor API. It never panics on a
// mistake in the topology: Build returns the first one.
//
// # Stateful operations
//
// GroupByKey/GroupBy then Count, Reduce, Aggregate; WindowedBy (tumbling, hopping), SlidingWindowedBy,
// SessionWindowedBy then WindowedCount, WindowedReduce, WindowedAggregate, SessionAggregate,
// SlidingAggregate; TableGroupBy with adder/subtractor; SuppressUntilWindowCloses; StreamTableJoin,
// GlobalTable with StreamGlobalTableJoin/LeftJoin (all partitions, loaded before tasks start, kept
// across restarts with a checkpoint of the offsets read), StreamStreamJoin (JoinWindows, KIP-633),
// TableTableJoin, ForeignKeyJoin (KIP-213). Semantics follow Kafka Streams, including timestamps,
// grace, tombstones and dropped records (runtime.RecordDropped). All state lives in state/ stores
// with changelogs (a global table's topic is its own); a key changed upstream is repartitioned first.
// Aggregations cache updates per key between commits (CacheBytes; 0 forwards every update).
package dsl
