package dsl

import (
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// Repartition writes the stream through an internal repartition topic,
// "<application.id>-<name>-repartition", and reads it back, so that records with the same key are
// in the same partition again (Kafka Streams' KStream.repartition). Records with a nil key are
// dropped on the way. Named sets <name> (default KSTREAM-REPARTITION-<n>); Partitions sets the
// topic's partition count. The topic is written with the stream's serdes.
func (s *Stream[K, V]) Repartition(opts ...RepartitionOpt) *Stream[K, V] {
	c := newOpConfig(opts)
	base := s.b.nameOr(c, "KSTREAM-REPARTITION-")
	if !s.hasSerdes("repartition " + base) {
		return s
	}
	return repartitionThrough(s, base, s.keys, s.values, c.partitions,
		base+"-repartition-filter", base+"-repartition-sink", base+"-repartition-source")
}

// repartitionThrough adds filter → sink → topic → source, the shape Kafka Streams uses both for
// Repartition and before a stateful operation on a changed key.
func repartitionThrough[K, V any](s *Stream[K, V], base string, keys serde.Serde[K], values serde.Serde[V], partitions int32, filterName, sinkName, sourceName string) *Stream[K, V] {
	b := s.b
	topic := base + "-repartition"
	b.topo.AddRepartitionTopic(topic, partitions)
	addProcessor(b, filterName, func() runtime.Processor[K, V, K, V] {
		return &filterProc[K, V]{pred: func(k K, _ V) (bool, error) { return !serde.IsNil(k), nil }}
	}, s.node)
	runtime.AddSink(b.topo, sinkName, runtime.SinkSpec[K, V]{Topic: topic, Keys: keys, Values: values}, filterName)
	runtime.AddSource(b.topo, sourceName, runtime.SourceSpec[K, V]{Topics: []string{topic}, Keys: keys, Values: values})
	return &Stream[K, V]{b: b, node: sourceName, keys: keys, values: values}
}
