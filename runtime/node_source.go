package runtime

import (
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

type sourceNode[K, V any] struct {
	name     string
	spec     SourceSpec[K, V]
	t        *task
	children []receiver[K, V]
}

func newSourceNode[K, V any](name string, spec SourceSpec[K, V]) *sourceNode[K, V] {
	return &sourceNode[K, V]{name: name, spec: spec}
}

func (s *sourceNode[K, V]) nodeName() string { return s.name }

func (s *sourceNode[K, V]) addChild(child node) error {
	r, err := asReceiver[K, V](s.name, child)
	if err == nil {
		s.children = append(s.children, r)
	}
	return err
}

func (s *sourceNode[K, V]) init(t *task) error { s.t = t; return nil }
func (s *sourceNode[K, V]) close() error       { return nil }

var errNegativeTimestamp = errors.New("negative timestamp")

// deliver deserializes r, extracts its timestamp, advances stream time and forwards the record.
// A failure of the user's deserializers or extractor goes to the deserialization error handler; so
// does their panic, which the task recovers (processWith) while t.node names the source.
func (s *sourceNode[K, V]) deliver(r *kgo.Record) error {
	s.t.node = s.name
	k, err := s.spec.Keys.Deserialize(r.Key)
	if err != nil {
		return s.t.deserializationError(s.name, r, fmt.Errorf("key: %w", err))
	}
	v, err := s.spec.Values.Deserialize(r.Value)
	if err != nil {
		return s.t.deserializationError(s.name, r, fmt.Errorf("value: %w", err))
	}
	rec := Record[K, V]{Key: k, Value: v, Timestamp: r.Timestamp.UnixMilli(), Headers: r.Headers, Null: r.Value == nil}
	switch {
	case s.spec.WallClockTime:
		rec.Timestamp = s.t.wallClockTime()
	case s.spec.Timestamp != nil:
		tp := TopicPartition{Topic: r.Topic, Partition: r.Partition}
		ts, err := s.spec.Timestamp(rec, s.t.partitionTime(tp))
		if err != nil {
			return s.t.deserializationError(s.name, r, fmt.Errorf("timestamp: %w", err))
		}
		rec.Timestamp = ts
		if ts >= 0 {
			s.t.setPartitionTime(tp, ts)
		}
	}
	if rec.Timestamp < 0 {
		return s.t.deserializationError(s.name, r, fmt.Errorf("timestamp %d: %w", rec.Timestamp, errNegativeTimestamp))
	}
	s.t.observeTimestamp(rec.Timestamp)
	s.t.forwarding = true
	for _, c := range s.children {
		if err := c.process(rec); err != nil {
			return err
		}
	}
	return nil
}
