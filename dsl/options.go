package dsl

import (
	"fmt"
	"reflect"

	"github.com/seichedb/seiche/serde"
)

// Opt adjusts one operation: its node name, serdes, timestamps, store. Every operation takes
// ...Opt and uses those that apply to it; an option that does not apply is ignored. Options whose
// type must match the stream's (WithKeySerde, WithValueSerde, EventTime) are checked when the
// operation is added, and a mismatch is a builder error.
type Opt interface{ apply(*opConfig) }

type opt func(*opConfig)

func (o opt) apply(c *opConfig) { o(c) }

type opConfig struct {
	name       string
	keySerde   any // serde.Serde[K] for the operation's output key
	valueSerde any
	eventTime  any // func(K, V) (int64, error)
	wallClock  bool
	store      string
	partitions int32
	stores     []string
	// preservesKey: Map or Process keeps each record's key (PreservesKey).
	preservesKey bool
}

func newOpConfig(opts []Opt) opConfig {
	var c opConfig
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// Named names the operation's processor (Kafka Streams' Named.as). For Repartition it names the
// repartition topic "<name>-repartition"; for Split it is the prefix of the branch names.
func Named(name string) Opt { return opt(func(c *opConfig) { c.name = name }) }

// WithKeySerde sets the serde of the operation's output key: needed after an operation that changes
// the key type (Map, FlatMap, SelectKey) before anything that writes to a topic or a store.
func WithKeySerde[K any](s serde.Serde[K]) Opt { return opt(func(c *opConfig) { c.keySerde = s }) }

// WithValueSerde sets the serde of the operation's output value, like WithKeySerde.
func WithValueSerde[V any](s serde.Serde[V]) Opt {
	return opt(func(c *opConfig) { c.valueSerde = s })
}

// EventTime makes a source take each record's event time from fn (milliseconds) instead of the
// record timestamp: Kafka Streams' custom TimestampExtractor over a field of the value.
func EventTime[K, V any](fn func(key K, value V) (int64, error)) Opt {
	return opt(func(c *opConfig) { c.eventTime = fn })
}

// PreservesKey declares that a Map or Process forwards every record with the key it came with,
// possibly re-typed or decoded, but naming the same partition: a later stateful operation then does
// not repartition the stream, as after Kafka Streams' mapValues and processValues. A stream that
// needed repartitioning before still does. Declaring it for an operation that changes keys groups
// and joins records on the wrong partitions.
func PreservesKey() Opt { return opt(func(c *opConfig) { c.preservesKey = true }) }

// WallClockTime makes a source stamp records with the wall clock at processing time.
func WallClockTime() Opt { return opt(func(c *opConfig) { c.wallClock = true }) }

// Materialized names the state store of a table (TableSource, ToTable).
func Materialized(store string) Opt { return opt(func(c *opConfig) { c.store = store }) }

// Partitions sets the partition count of a repartition topic (default: as many as the largest
// input topic of the sub-topology writing to it).
func Partitions(n int32) Opt { return opt(func(c *opConfig) { c.partitions = n }) }

// WithStores connects state stores, added with Builder.AddStateStore, to a Process operation.
func WithStores(names ...string) Opt {
	return opt(func(c *opConfig) { c.stores = append(c.stores, names...) })
}

// serdeOr returns the option's serde if one was given (checking its type) or def.
func serdeOr[T any](b *Builder, op string, given any, def serde.Serde[T]) serde.Serde[T] {
	if given == nil {
		return def
	}
	s, ok := given.(serde.Serde[T])
	if !ok {
		b.fail("%s: serde %T does not serialize %v", op, given, reflect.TypeFor[T]())
		return def
	}
	return s
}

func typeName[T any]() string { return fmt.Sprint(reflect.TypeFor[T]()) }
