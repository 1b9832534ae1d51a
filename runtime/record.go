package runtime

import (
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Header is a record header. It is franz-go's type, so headers pass from the consumer to the
// producer without copying.
type Header = kgo.RecordHeader

// Record is one record flowing between the nodes of a topology: a typed key and value, the record's
// event time and its headers. Records are passed by value; processors may modify their copy, but the
// Headers slice is shared with the input record and must be cloned before it is changed.
type Record[K, V any] struct {
	Key   K
	Value V
	// Timestamp is the event time in milliseconds since the Unix epoch, as the source's timestamp
	// extractor chose it; records a processor forwards keep it unless the processor sets another.
	Timestamp int64
	Headers   []Header
	// Null marks a record whose value is a Kafka null whatever Value holds. A nil pointer, slice, map
	// or interface value is a null by itself; Null carries one for value types that have no nil (a
	// delete from ToStream of a table of int64, a tombstone read into a stream of int64). Sources set
	// it for null values, sinks write a null value for it, and processors that pass a record on keep
	// it; WithValue and WithKeyValue, which give a record a new value, clear it.
	Null bool
}

// WithValue returns a copy of r carrying value v, for processors that change only the value type.
func WithValue[K, V, VR any](r Record[K, V], v VR) Record[K, VR] {
	return Record[K, VR]{Key: r.Key, Value: v, Timestamp: r.Timestamp, Headers: r.Headers}
}

// WithKeyValue returns a copy of r carrying key k and value v.
func WithKeyValue[K, V, KR, VR any](r Record[K, V], k KR, v VR) Record[KR, VR] {
	return Record[KR, VR]{Key: k, Value: v, Timestamp: r.Timestamp, Headers: r.Headers}
}

// RecordMetadata is where the record being processed came from. It is absent (ok false from
// ProcessorContext.RecordMetadata) while a punctuator runs.
type RecordMetadata struct {
	Topic     string
	Partition int32
	Offset    int64
}

// TaskID names a task: the sub-topology it runs and the partition number of its input partitions.
// Its string form is Kafka Streams' "<subtopology>_<partition>".
type TaskID struct {
	Subtopology int
	Partition   int32
}

func (id TaskID) String() string {
	return strconv.Itoa(id.Subtopology) + "_" + strconv.FormatInt(int64(id.Partition), 10)
}

// TopicPartition names one partition of a topic.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string {
	return tp.Topic + "-" + strconv.FormatInt(int64(tp.Partition), 10)
}
