package dsl

import (
	"github.com/seichedb/seiche/runtime"
)

// To writes the stream to topic (KSTREAM-SINK) with the stream's serdes (for others, call
// WithKeySerde and WithValueSerde first: Kafka Streams' Produced.with). Records are partitioned by
// their serialized key, as Kafka's default partitioner does.
func (s *Stream[K, V]) To(topic string, opts ...NodeOpt) {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-SINK-")
	if !s.hasSerdes("to " + topic) {
		return
	}
	runtime.AddSink(s.b.topo, name, runtime.SinkSpec[K, V]{Topic: topic, Keys: s.keys, Values: s.values}, s.node)
}

// ToTopicFunc writes each record to the topic fn picks for it (Kafka Streams'
// TopicNameExtractor). The topics must exist.
func (s *Stream[K, V]) ToTopicFunc(fn func(key K, value V) (string, error), opts ...NodeOpt) {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-SINK-")
	if !s.hasSerdes("to topic function") {
		return
	}
	runtime.AddSink(s.b.topo, name, runtime.SinkSpec[K, V]{
		TopicFunc: func(rec runtime.Record[K, V]) (string, error) { return fn(rec.Key, rec.Value) },
		Keys:      s.keys,
		Values:    s.values,
	}, s.node)
}
