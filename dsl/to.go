package dsl

import (
	"github.com/seichedb/seiche/runtime"
)

// To writes the stream to topic (KSTREAM-SINK), with the stream's serdes or those given with
// WithKeySerde and WithValueSerde. Records are partitioned by their serialized key, as Kafka's
// default partitioner does.
func (s *Stream[K, V]) To(topic string, opts ...Opt) {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-SINK-")
	keys, values, ok := s.sinkSerdes("to "+topic, c)
	if !ok {
		return
	}
	runtime.AddSink(s.b.topo, name, runtime.SinkSpec[K, V]{Topic: topic, Keys: keys, Values: values}, s.node)
}

// ToTopicFunc writes each record to the topic fn picks for it (Kafka Streams'
// TopicNameExtractor). The topics must exist.
func (s *Stream[K, V]) ToTopicFunc(fn func(key K, value V) (string, error), opts ...Opt) {
	c := newOpConfig(opts)
	name := s.b.nameOr(c, "KSTREAM-SINK-")
	keys, values, ok := s.sinkSerdes("to topic function", c)
	if !ok {
		return
	}
	runtime.AddSink(s.b.topo, name, runtime.SinkSpec[K, V]{
		TopicFunc: func(rec runtime.Record[K, V]) (string, error) { return fn(rec.Key, rec.Value) },
		Keys:      keys,
		Values:    values,
	}, s.node)
}
