package state

import (
	"context"
	"time"
)

// ChangelogRecord is one change of a store as it travels on its changelog topic. Value nil is a
// tombstone. Key and value use Kafka Streams' changelog formats:
//
//   - key-value store: the key; the value.
//   - timestamped key-value store: the key; 8-byte big-endian timestamp then the value.
//   - window store: key, 8-byte window start, 4-byte sequence number; the value.
//   - session store: key, 8-byte session end, 8-byte session start; the value.
type ChangelogRecord struct {
	Topic     string
	Partition int32
	Offset    int64 // set on records read for restore
	Key       []byte
	Value     []byte
	// Timestamp in milliseconds: the value's timestamp for timestamped stores, the window start for
	// window stores, the session end for session stores, -1 (let the producer stamp it) otherwise.
	Timestamp int64
}

// ChangelogWriter produces store changes to changelog topics. The runtime implements it with its
// own producer, so that under exactly-once the changes are part of the task's transaction;
// KafkaChangelog is a franz-go implementation.
type ChangelogWriter interface {
	// Produce sends one record asynchronously and calls done exactly once, on any goroutine, with the
	// offset the record got or the error that lost it. It may block while the producer's buffer is
	// full but must not wait for the broker. The writer may retain rec's slices.
	Produce(rec ChangelogRecord, done func(offset int64, err error))
	// Flush blocks until every record produced before the call has had its done called.
	Flush(ctx context.Context) error
}

// ChangelogReader reads changelog partitions to restore stores.
type ChangelogReader interface {
	// Offsets returns the partition's log start offset and end offset: the offset the next record
	// will get or, where transactions are in flight, the last stable offset.
	Offsets(ctx context.Context, topic string, partition int32) (start, end int64, err error)
	// Read calls fn with every record of [from, end), in offset order, in batches, and returns once
	// it has read past end-1 (compaction leaves gaps, and transaction markers are not given to fn),
	// when ctx is done, or when fn fails. Records of aborted transactions are skipped. The records
	// and their slices are valid only during fn.
	Read(ctx context.Context, topic string, partition int32, from, end int64, fn func([]ChangelogRecord) error) error
}

// Changelog is what a task needs to log and restore its stores.
type Changelog interface {
	ChangelogWriter
	ChangelogReader
}

// TopicCreator is implemented by a Changelog that can create missing changelog topics.
type TopicCreator interface {
	// EnsureTopic creates topic with the given partitions and configs unless it exists.
	EnsureTopic(ctx context.Context, topic string, partitions int32, configs map[string]string) error
}

// ChangelogTopic returns the changelog topic of a store: "<application-id>-<store>-changelog".
func ChangelogTopic(app, store string) string {
	return app + "-" + store + "-changelog"
}

// Window is a window [Start, End) of a window store, or a session [Start, End] (both inclusive, as
// in Kafka Streams) of a session store. Times are milliseconds.
type Window struct {
	Start, End int64
}

// Change is an update leaving the record cache (or, without a cache, made to the store), given to
// the FlushListener. Its slices are valid only during the call.
type Change struct {
	Key []byte
	// Window is the window of a window-store change and the session of a session-store change.
	Window Window
	// Value is the new value, nil if the key (window, session) was deleted.
	Value []byte
	// Timestamp is the timestamp of Value in a timestamped key-value store.
	Timestamp int64
	// OldValue and OldTimestamp are what the store held before, with SendOldValues; OldValue is nil
	// when there was nothing.
	OldValue     []byte
	OldTimestamp int64
}

// FlushListener is told of flushed changes. An error stops the flush and is returned by the
// operation that flushed (Put on eviction, Flush, Commit).
type FlushListener func(Change) error

// RestoreProgress reports how far a store's restore has got.
type RestoreProgress struct {
	Store     string
	Topic     string
	Partition int32
	// From and End are the offsets being restored: [From, End).
	From, End int64
	// Position is the offset after the last record applied.
	Position int64
	// Records is the number of records applied so far.
	Records int64
	Elapsed time.Duration
	Done    bool
}

// Remaining returns the number of offsets still to read (an upper bound on the records).
func (p RestoreProgress) Remaining() int64 { return max(p.End-p.Position, 0) }

// RecordsPerSecond returns the restore rate so far.
func (p RestoreProgress) RecordsPerSecond() float64 {
	if p.Elapsed <= 0 {
		return 0
	}
	return float64(p.Records) / p.Elapsed.Seconds()
}
