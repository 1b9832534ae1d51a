package runtime

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// Action is what an error handler decides for a record that failed.
type Action int

const (
	// Continue drops the record (or, for a processing error, what was left of its processing at the
	// failing node) and goes on with the next one. The error is in the processing log.
	Continue Action = iota
	// Fail stops the application: Run returns the error.
	Fail
)

// ErrorHandler decides what a record error means. err is a *DeserializationError or a
// *ProcessingError. The runtime has written it to the processing log before the handler runs, so
// handlers only decide. A handler runs on a task's goroutine and must not block.
type ErrorHandler func(err error) Action

// LogAndContinue is the default handler: the error is logged and processing continues.
func LogAndContinue(error) Action { return Continue }

// LogAndFail logs the error and stops the application.
func LogAndFail(error) Action { return Fail }

// ErrClosed is returned by Run after Close.
var ErrClosed = errors.New("runtime: application closed")

// DeserializationError is a record whose key or value could not be deserialized, or whose
// timestamp could not be extracted.
type DeserializationError struct {
	Task   TaskID
	Node   string
	Record RecordMetadata
	// Key and Value are the record's bytes; they may be retained.
	Key, Value []byte
	Err        error
}

func (e *DeserializationError) Error() string {
	return fmt.Sprintf("runtime: task %s: source %s: deserialize %s partition %d offset %d: %v",
		e.Task, e.Node, e.Record.Topic, e.Record.Partition, e.Record.Offset, e.Err)
}

func (e *DeserializationError) Unwrap() error { return e.Err }

// ProcessingError is a processor (or punctuator, or sink serializer) that returned an error or
// panicked while processing a record.
type ProcessingError struct {
	Task TaskID
	Node string
	// Record is the input record being processed; HasRecord is false for a punctuator.
	Record    RecordMetadata
	HasRecord bool
	Err       error
}

func (e *ProcessingError) Error() string {
	if !e.HasRecord {
		return fmt.Sprintf("runtime: task %s: node %s: %v", e.Task, e.Node, e.Err)
	}
	return fmt.Sprintf("runtime: task %s: node %s: %s partition %d offset %d: %v",
		e.Task, e.Node, e.Record.Topic, e.Record.Partition, e.Record.Offset, e.Err)
}

func (e *ProcessingError) Unwrap() error { return e.Err }

// PanicError is a panic in user code, recovered by the runtime and turned into a processing error.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

func newPanicError(v any) *PanicError { return &PanicError{Value: v, Stack: debug.Stack()} }

// TaskError is a task failure that stops the application: an error handler returned Fail, a
// processor's Init or Close failed, or the task's output could not be produced.
type TaskError struct {
	Task TaskID
	Err  error
}

func (e *TaskError) Error() string { return fmt.Sprintf("runtime: task %s failed: %v", e.Task, e.Err) }
func (e *TaskError) Unwrap() error { return e.Err }

// failure marks an error that has been through the error handler and must stop the task; nodes
// pass it up unchanged.
type failure struct{ err error }

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

func asFailure(err error) (*failure, bool) {
	if f, ok := err.(*failure); ok {
		return f, true
	}
	var f *failure
	if errors.As(err, &f) {
		return f, true
	}
	return nil, false
}
