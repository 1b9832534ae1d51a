package dsl

import (
	"fmt"
	"reflect"
	"time"
)

// Options come in families, one per kind of operation, as franz-go's kgo.ProducerOpt and
// kgo.ConsumerOpt do: an operation takes only its family, so an option that cannot apply to it
// (Partitions on a Filter, Retention on a count that has no windows) is a compile error instead of
// being ignored. An option that truly applies to several kinds of operation implements each of
// their families: Named implements them all.
//
// Serdes are not options. Go cannot check a generic option such as a key serde against the
// stream's key type when it is passed in the same variadic list as options that have no type
// (Named), so serdes are typed parameters (Source, Aggregate) or typed methods of the stream, table
// or grouping they describe (WithKeySerde, WithValueSerde): a serde of the wrong type does not
// compile.
type (
	// NodeOpt configures an operation that adds one processor and keeps the key where it is:
	// Filter, FilterNot, Peek, Foreach, Merge, MapValues, FlatMapValues, Split, Branch, Default,
	// To, ToTopicFunc, ToStream, a table's Filter, FilterNot and MapValues, the joins with a
	// global table, SuppressUntilWindowCloses. Options: Named.
	NodeOpt interface {
		MapOpt
		nodeOpt()
	}

	// MapOpt configures an operation that may give records a new key: Map, FlatMap, SelectKey.
	// Options: Named, PreservesKey, and every NodeOpt.
	MapOpt interface {
		ProcessOpt
		mapOpt()
	}

	// ProcessOpt configures Process. Options: Named, PreservesKey, WithStores.
	ProcessOpt interface {
		apply(*opConfig)
		processOpt()
	}

	// SourceOpt configures Source, SourceTopics and SourcePattern (Kafka Streams' Consumed).
	// Options: Named, EventTime, WallClockTime.
	SourceOpt interface {
		TableSourceOpt
		sourceOpt()
	}

	// TableSourceOpt configures TableSource: every SourceOpt and every TableOpt.
	TableSourceOpt interface {
		apply(*opConfig)
		tableSourceOpt()
	}

	// TableOpt configures an operation that materializes a table in a store of its own: ToTable,
	// GlobalTable, Table.Materialize (Kafka Streams' Materialized.as). Options: Named,
	// Materialized.
	TableOpt interface {
		TableSourceOpt
		tableOpt()
	}

	// RepartitionOpt configures an operation that may write the stream through a repartition
	// topic: Repartition, GroupByKey, GroupBy, TableGroupBy (Kafka Streams' Repartitioned and
	// Grouped). Options: Named (the topic is "<name>-repartition"), Partitions.
	RepartitionOpt interface {
		apply(*opConfig)
		repartitionOpt()
	}

	// AggregateOpt configures an aggregation of a grouped stream or table: Count, Reduce,
	// Aggregate, TableAggregate (Kafka Streams' Materialized). Options: Named, Materialized,
	// CacheBytes, WithoutChangelog.
	AggregateOpt interface {
		WindowedAggregateOpt
		aggregateOpt()
	}

	// WindowedAggregateOpt configures an aggregation over windows: WindowedCount, WindowedReduce,
	// WindowedAggregate, SessionAggregate. Options: every AggregateOpt, and Retention.
	WindowedAggregateOpt interface {
		apply(*opConfig)
		windowedAggregateOpt()
	}

	// JoinOpt configures a join of a stream with a table (which repartitions a stream whose key
	// changed) and a join of two tables: StreamTableJoin, TableTableJoin, ForeignKeyJoin and their
	// left and outer forms. Options: Named, Partitions.
	JoinOpt interface {
		WindowJoinOpt
		joinOpt()
	}

	// WindowJoinOpt configures a join of two streams within a window: StreamStreamJoin and its
	// left and outer forms (Kafka Streams' StreamJoined). Options: Named, Partitions, JoinStores,
	// WithoutChangelog.
	WindowJoinOpt interface {
		apply(*opConfig)
		windowJoinOpt()
	}
)

type opConfig struct {
	name       string
	eventTime  any // func(K, V) (int64, error)
	wallClock  bool
	store      string
	partitions int32
	stores     []string
	// preservesKey: Map or Process keeps each record's key (PreservesKey).
	preservesKey bool
	cacheBytes   int64
	retention    time.Duration
	leftStore    string
	rightStore   string
	withoutLog   bool
}

func newOpConfig[O interface{ apply(*opConfig) }](opts []O) opConfig {
	c := opConfig{cacheBytes: DefaultCacheBytes}
	for _, o := range opts {
		o.apply(&c)
	}
	return c
}

// NameOpt is the option Named returns; it belongs to every family.
type NameOpt struct{ name string }

// Named names the operation's processor (Kafka Streams' Named.as). For Repartition, GroupByKey,
// GroupBy and TableGroupBy it names the repartition topic "<name>-repartition" (Kafka Streams'
// Repartitioned.as and Grouped.as); for Split it is the prefix of the branches' names.
func Named(name string) NameOpt { return NameOpt{name} }

func (o NameOpt) apply(c *opConfig)   { c.name = o.name }
func (NameOpt) nodeOpt()              {}
func (NameOpt) mapOpt()               {}
func (NameOpt) processOpt()           {}
func (NameOpt) sourceOpt()            {}
func (NameOpt) tableSourceOpt()       {}
func (NameOpt) tableOpt()             {}
func (NameOpt) repartitionOpt()       {}
func (NameOpt) aggregateOpt()         {}
func (NameOpt) windowedAggregateOpt() {}
func (NameOpt) joinOpt()              {}
func (NameOpt) windowJoinOpt()        {}

// PreservesKeyOpt is the option PreservesKey returns: a MapOpt and a ProcessOpt.
type PreservesKeyOpt struct{}

// PreservesKey declares that a Map, FlatMap, SelectKey or Process forwards every record with the
// key it came with, possibly re-typed or decoded, but naming the same partition: a later stateful
// operation then does not repartition the stream, as after Kafka Streams' mapValues and
// processValues. A stream that needed repartitioning before still does. Declaring it for an
// operation that changes keys groups and joins records on the wrong partitions.
func PreservesKey() PreservesKeyOpt { return PreservesKeyOpt{} }

func (PreservesKeyOpt) apply(c *opConfig) { c.preservesKey = true }
func (PreservesKeyOpt) mapOpt()           {}
func (PreservesKeyOpt) processOpt()       {}

type storesOpt []string

// WithStores connects state stores, added with Builder.AddStateStore, to a Process operation.
func WithStores(names ...string) ProcessOpt { return storesOpt(names) }

func (o storesOpt) apply(c *opConfig) { c.stores = append(c.stores, o...) }
func (storesOpt) processOpt()         {}

// SourceTimeOpt is the option EventTime and WallClockTime return: a SourceOpt and a
// TableSourceOpt.
type SourceTimeOpt struct {
	eventTime any
	wallClock bool
}

// EventTime makes a source take each record's event time from fn (milliseconds) instead of the
// record timestamp: Kafka Streams' custom TimestampExtractor over a field of the value. K and V
// must be the source's types; Go cannot check that when the option is passed, so a mismatch is a
// Build error naming the source.
func EventTime[K, V any](fn func(key K, value V) (int64, error)) SourceTimeOpt {
	return SourceTimeOpt{eventTime: fn}
}

// WallClockTime makes a source stamp records with the wall clock at processing time.
func WallClockTime() SourceTimeOpt { return SourceTimeOpt{wallClock: true} }

func (o SourceTimeOpt) apply(c *opConfig) {
	if o.eventTime != nil {
		c.eventTime = o.eventTime
	}
	c.wallClock = c.wallClock || o.wallClock
}
func (SourceTimeOpt) sourceOpt()      {}
func (SourceTimeOpt) tableSourceOpt() {}

// StoreOpt is the option Materialized returns: a TableOpt, TableSourceOpt, AggregateOpt and
// WindowedAggregateOpt.
type StoreOpt struct{ store string }

// Materialized names the state store of a table or an aggregation (Kafka Streams'
// Materialized.as), which interactive queries and dsltest read it by.
func Materialized(store string) StoreOpt { return StoreOpt{store} }

func (o StoreOpt) apply(c *opConfig)   { c.store = o.store }
func (StoreOpt) tableOpt()             {}
func (StoreOpt) tableSourceOpt()       {}
func (StoreOpt) aggregateOpt()         {}
func (StoreOpt) windowedAggregateOpt() {}

type cacheOpt int64

// CacheBytes sets the record cache of an aggregation's store (Kafka Streams'
// cache.max.bytes.buffering, per store here). Zero forwards every update downstream as it happens;
// otherwise updates to the same key coalesce until the task commits or the cache is full. The
// default is DefaultCacheBytes.
func CacheBytes(n int64) AggregateOpt { return cacheOpt(max(n, 0)) }

func (o cacheOpt) apply(c *opConfig)   { c.cacheBytes = int64(o) }
func (cacheOpt) aggregateOpt()         {}
func (cacheOpt) windowedAggregateOpt() {}

// ChangelogOpt is the option WithoutChangelog returns: an AggregateOpt, WindowedAggregateOpt and
// WindowJoinOpt.
type ChangelogOpt struct{}

// WithoutChangelog keeps the operation's stores local (Materialized.withLoggingDisabled): nothing
// is produced to a changelog, and a task that moves starts empty.
func WithoutChangelog() ChangelogOpt { return ChangelogOpt{} }

func (ChangelogOpt) apply(c *opConfig)     { c.withoutLog = true }
func (ChangelogOpt) aggregateOpt()         {}
func (ChangelogOpt) windowedAggregateOpt() {}
func (ChangelogOpt) windowJoinOpt()        {}

type retentionOpt time.Duration

// Retention sets how long a windowed store keeps windows after stream time passes them
// (Materialized.withRetention); it is raised to the window size plus grace if smaller, which is
// also the default, as in Kafka Streams. Updates of windows that expire while they sit in the
// record cache still reach downstream when the cache flushes; the store drops them.
func Retention(d time.Duration) WindowedAggregateOpt { return retentionOpt(d) }

func (o retentionOpt) apply(c *opConfig)   { c.retention = time.Duration(o) }
func (retentionOpt) windowedAggregateOpt() {}

// PartitionsOpt is the option Partitions returns: a RepartitionOpt, JoinOpt and WindowJoinOpt.
type PartitionsOpt struct{ n int32 }

// Partitions sets the partition count of the repartition topics the operation writes (default: as
// many as the largest input topic of the sub-topology writing to it).
func Partitions(n int32) PartitionsOpt { return PartitionsOpt{n} }

func (o PartitionsOpt) apply(c *opConfig) { c.partitions = o.n }
func (PartitionsOpt) repartitionOpt()     {}
func (PartitionsOpt) joinOpt()            {}
func (PartitionsOpt) windowJoinOpt()      {}

type joinStoresOpt struct{ left, right string }

// JoinStores names the two window stores of a stream-stream join (StreamJoined.withStoreName):
// "<left>" and "<right>". Default KSTREAM-JOINTHIS-<n>-store and KSTREAM-JOINOTHER-<n>-store.
func JoinStores(left, right string) WindowJoinOpt { return joinStoresOpt{left, right} }

func (o joinStoresOpt) apply(c *opConfig) { c.leftStore, c.rightStore = o.left, o.right }
func (joinStoresOpt) windowJoinOpt()      {}

func typeName[T any]() string { return fmt.Sprint(reflect.TypeFor[T]()) }
