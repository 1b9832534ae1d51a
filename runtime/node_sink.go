package runtime

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

type sinkNode[K, V any] struct {
	name  string
	spec  SinkSpec[K, V]
	topic string // decorated static topic
	t     *task
	// rec is the record handed to a copyingCollector, reused for every send.
	rec kgo.Record
}

// A copyingCollector copies what it keeps of a record in send, and does not retain the record
// itself (the test driver's), so a sink can hand it the same record every time.
type copyingCollector interface {
	collector
	copiesRecords()
}

func newSinkNode[K, V any](name string, spec SinkSpec[K, V]) *sinkNode[K, V] {
	return &sinkNode[K, V]{name: name, spec: spec}
}

func (s *sinkNode[K, V]) nodeName() string { return s.name }

func (s *sinkNode[K, V]) addChild(child node) error {
	return fmt.Errorf("runtime: sink %s cannot have child %s", s.name, child.nodeName())
}

func (s *sinkNode[K, V]) init(t *task) error {
	s.t = t
	if s.spec.Topic != "" {
		s.topic = t.sh.decorate(s.spec.Topic)
	}
	return nil
}

func (s *sinkNode[K, V]) close() error { return nil }

// process serializes rec and hands it to the task's collector. Serialization failures are
// processing errors of the sink (Kafka Streams routes them to its production exception handler).
func (s *sinkNode[K, V]) process(rec Record[K, V]) (err error) {
	s.t.node = s.name
	topic := s.topic
	if s.spec.TopicFunc != nil {
		if topic, err = s.spec.TopicFunc(rec); err != nil {
			return s.t.processingError(s.name, fmt.Errorf("topic: %w", err))
		}
	}
	kb, err := s.spec.Keys.Serialize(rec.Key)
	if err != nil {
		return s.t.processingError(s.name, fmt.Errorf("serialize key: %w", err))
	}
	var vb []byte
	if !rec.Null {
		if vb, err = s.spec.Values.Serialize(rec.Value); err != nil {
			return s.t.processingError(s.name, fmt.Errorf("serialize value: %w", err))
		}
	}
	out := kgo.Record{
		Topic:     topic,
		Partition: -1,
		Key:       kb,
		Value:     vb,
		Headers:   rec.Headers,
		Timestamp: time.UnixMilli(rec.Timestamp),
	}
	if c, ok := s.t.collector.(copyingCollector); ok {
		s.rec = out
		c.send(&s.rec)
		s.rec = kgo.Record{}
		return nil
	}
	kept := out // a copy, so that only the collector that keeps it moves a record to the heap
	s.t.collector.send(&kept)
	return nil
}
