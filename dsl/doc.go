// Package dsl is Seiche's typed Go API for streaming applications: Kafka Streams' StreamsBuilder,
// KStream and KTable, with Go generics.
//
//	b := dsl.NewBuilder()
//	orders := dsl.Source(b, "orders", serde.String(), serde.JSON[Order]())
//	big := orders.Filter(func(_ string, o Order) (bool, error) { return o.Amount > 100, nil })
//	byCustomer := dsl.SelectKey(big, func(_ string, o Order) (string, error) { return o.Customer, nil },
//		dsl.WithKeySerde(serde.String()))
//	byCustomer.To("big-orders-by-customer")
//	topo, err := b.Build() // a *runtime.Topology: run it with runtime.New, test it with dsltest
//	app, err := runtime.New(topo, runtime.ApplicationID("orders"), runtime.Bootstrap("127.0.0.1:9092"),
//		runtime.ProcessingGuarantee(runtime.ExactlyOnceV2)) // exactly-once; at-least-once by default
//
// # Conventions
//
//   - Streams and tables are typed: Stream[K, V] and Table[K, V]. Operations that keep the types are
//     methods (Filter, FilterNot, Peek, Foreach, Split, Merge, Repartition, To, ToTable; Table's
//     Filter, FilterNot, ToStream). Operations that change a type are package functions, because Go
//     methods cannot have type parameters: Map, MapValues, FlatMap, FlatMapValues, SelectKey,
//     MapTableValues, Process.
//   - Every user function takes the record's key and value and returns an error last:
//     func(K, V) (bool, error) for predicates, func(K, V) (VR, error) for MapValues, and so on. An
//     error (or a panic) is a processing error of that record: it goes to the processing log and,
//     by default, processing continues with the next record (runtime.OnProcessingError changes
//     that). There are no non-error variants: one convention, and `return x, nil` costs nothing.
//   - Serdes travel with a stream while its types stay (from Source); after a type change give them
//     with WithKeySerde and WithValueSerde where the stream is written (To, Repartition, ToTable) or
//     at the operation. A missing serde is a Build error naming the operation.
//   - Nodes are named as in Kafka Streams (KSTREAM-FILTER-0000000001), so Describe output reads the
//     same; Named overrides a name.
//   - A Kafka null is a nil value of a pointer, slice, map or interface type (serde.IsNil), or, for
//     value types that have no nil (int64, a struct), a record marked runtime.Record.Null (sources
//     mark null values so): tables treat it as a delete, ToStream emits it for a delete, sinks write
//     it as a tombstone. Operations that compute a new value (MapValues, ...) clear the mark.
//   - Operations that move a key (Map, FlatMap, SelectKey, Process) mark the stream: the stateful
//     operations of the next issue repartition such a stream first, as Kafka Streams does.
//     Repartition does it explicitly.
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
// SessionWindowedBy; TableGroupBy with adder/subtractor; SuppressUntilWindowCloses; StreamTableJoin,
// GlobalTable with StreamGlobalTableJoin/LeftJoin (all partitions, loaded before tasks start, kept
// across restarts with a checkpoint of the offsets read), StreamStreamJoin (JoinWindows, KIP-633),
// TableTableJoin, ForeignKeyJoin (KIP-213). Semantics follow Kafka Streams, including timestamps,
// grace, tombstones and dropped records (runtime.RecordDropped). All state lives in state/ stores
// with changelogs (a global table's topic is its own); a key changed upstream is repartitioned first.
// Aggregations cache updates per key between commits (CacheBytes; 0 forwards every update).
package dsl
