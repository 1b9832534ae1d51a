package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// Processor is the code of one processor node in one task: Kafka Streams' Processor API. The
// runtime calls Init once, then Process for every record that reaches the node, then Close, all on
// the goroutine driving the task, never concurrently.
//
// Errors: an error returned by Init or Close stops the task (the application fails). An error
// returned by Process, or a panic in it, is a processing error: it goes to the processing log, and
// the application's processing error handler decides whether processing continues with the next
// record (the default) or the application stops. An error returned by ProcessorContext.Forward is
// already handled downstream and must be returned as is (wrapping it with %w is fine).
type Processor[KIn, VIn, KOut, VOut any] interface {
	Init(ctx ProcessorContext[KOut, VOut]) error
	Process(rec Record[KIn, VIn]) error
	Close() error
}

// ProcessorSupplier returns a new Processor; the runtime calls it once per task, so processors may
// keep per-task state in their fields.
type ProcessorSupplier[KIn, VIn, KOut, VOut any] func() Processor[KIn, VIn, KOut, VOut]

// Context is what every processor can ask of its task.
type Context interface {
	ApplicationID() string
	TaskID() TaskID
	// NodeName is the name of the processor's node.
	NodeName() string
	// RecordMetadata is the topic, partition and offset of the input record being processed; ok is
	// false while a punctuator runs.
	RecordMetadata() (md RecordMetadata, ok bool)
	// StreamTime is the task's stream time: the largest timestamp the task has seen, -1 before the
	// first record.
	StreamTime() int64
	// WallClockTime is the task's wall clock in milliseconds (the test driver's mock clock under
	// dsltest).
	WallClockTime() int64
	// StateStore returns a store connected to this processor (Topology.ConnectStores).
	StateStore(name string) (state.Store, error)
	// Schedule calls fn every interval of stream time or wall-clock time, as Kafka Streams'
	// ProcessorContext.schedule does: stream-time punctuation first fires on the first record
	// processed after it is scheduled and then at multiples of interval; wall-clock punctuation
	// fires interval from now and then every interval. Missed intervals are skipped, not replayed.
	// fn's timestamp is the current stream time or wall-clock time. fn runs on the task's
	// goroutine; records it forwards have no RecordMetadata.
	Schedule(interval time.Duration, typ PunctuationType, fn Punctuator) (Cancellable, error)
	// Logger is the application's logger, with the task and node as attributes.
	Logger() *slog.Logger
	// RequestCommit asks the runtime to commit the task soon, instead of at the next commit interval.
	RequestCommit()
}

// ProcessorContext is the Context of a processor that forwards records of type Record[KOut, VOut].
type ProcessorContext[KOut, VOut any] interface {
	Context
	// Forward sends rec to every child of the node, in the order they were added, and returns once
	// they have processed it. A non-nil error means the application is failing: return it.
	Forward(rec Record[KOut, VOut]) error
	// ForwardTo sends rec to the named child only.
	ForwardTo(child string, rec Record[KOut, VOut]) error
}

// PunctuationType selects the time a punctuator follows.
type PunctuationType int

const (
	// StreamTime punctuation advances with the timestamps of the records the task processes.
	StreamTime PunctuationType = iota
	// WallClockTime punctuation advances with the wall clock, even when no record arrives.
	WallClockTime
)

func (p PunctuationType) String() string {
	if p == WallClockTime {
		return "wall-clock time"
	}
	return "stream time"
}

// Punctuator is a scheduled function. Its error, or panic, is a processing error of its node.
type Punctuator func(timestamp int64) error

// Cancellable cancels a punctuation schedule.
type Cancellable interface{ Cancel() }

// StoreBuilder opens one named state store for a task. The runtime opens each store connected to a
// sub-topology once per task, on the task's state.Task, which logs it to
// "<application.id>-<name>-changelog" unless the builder opened it with state.WithoutLogging, and
// restores it from there.
type StoreBuilder interface {
	Name() string
	Open(ctx context.Context, t *state.Task) (state.Store, error)
}

// KeyValueStore returns a builder of a key-value store (state.KeyValueStore).
func KeyValueStore(name string, opts ...state.StoreOpt) StoreBuilder {
	return storeBuilder{name: name, open: func(ctx context.Context, t *state.Task) (state.Store, error) {
		return t.KeyValueStore(ctx, name, opts...)
	}}
}

// TimestampedKeyValueStore returns a builder of a timestamped key-value store
// (state.TimestampedKeyValueStore): the store behind a table.
func TimestampedKeyValueStore(name string, opts ...state.StoreOpt) StoreBuilder {
	return storeBuilder{name: name, open: func(ctx context.Context, t *state.Task) (state.Store, error) {
		return t.TimestampedKeyValueStore(ctx, name, opts...)
	}}
}

type storeBuilder struct {
	name string
	open func(context.Context, *state.Task) (state.Store, error)
}

func (b storeBuilder) Name() string { return b.name }
func (b storeBuilder) Open(ctx context.Context, t *state.Task) (state.Store, error) {
	return b.open(ctx, t)
}

// GetKeyValueStore returns a typed view of the key-value store name connected to the processor.
func GetKeyValueStore[K, V any](ctx Context, name string, keys serde.Serde[K], values serde.Serde[V]) (state.KV[K, V], error) {
	s, err := ctx.StateStore(name)
	if err != nil {
		return state.KV[K, V]{}, err
	}
	kv, ok := s.(state.KeyValueStore)
	if !ok {
		return state.KV[K, V]{}, fmt.Errorf("runtime: state store %s is a %T, not a key-value store", name, s)
	}
	return state.NewKV(kv, keys, values), nil
}

// GetTimestampedKeyValueStore returns a typed view of the timestamped key-value store name.
func GetTimestampedKeyValueStore[K, V any](ctx Context, name string, keys serde.Serde[K], values serde.Serde[V]) (state.TimestampedKV[K, V], error) {
	s, err := ctx.StateStore(name)
	if err != nil {
		return state.TimestampedKV[K, V]{}, err
	}
	kv, ok := s.(state.TimestampedKeyValueStore)
	if !ok {
		return state.TimestampedKV[K, V]{}, fmt.Errorf("runtime: state store %s is a %T, not a timestamped key-value store", name, s)
	}
	return state.NewTimestampedKV(kv, keys, values), nil
}
