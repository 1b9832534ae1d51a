package arrowrows

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/seichedb/seiche/sql/types"
)

var (
	// ErrBadValue is returned by Write for a row that does not fit the schema: the wrong number of
	// values, a value whose Go type is not its SQL type's representation, a DECIMAL that does not fit its
	// precision, or a NULL map key. The row is not written and the Writer stays usable.
	ErrBadValue = errors.New("arrowrows: value does not fit its column")
	// ErrClosed is returned by Write and Flush after Close.
	ErrClosed = errors.New("arrowrows: writer closed")
)

// DefaultBatchRows is the number of rows per record batch when BatchRows is not given.
const DefaultBatchRows = 1024

// Option configures a Writer.
type Option interface{ apply(*config) }

type config struct {
	batchRows int
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// BatchRows sets the number of rows per record batch: Write writes a batch as soon as n rows are
// buffered. n must be at least 1.
func BatchRows(n int) Option { return optionFunc(func(c *config) { c.batchRows = n }) }

func (c *config) validate() error {
	if c.batchRows < 1 {
		return fmt.Errorf("arrowrows: BatchRows(%d): need at least one row per batch", c.batchRows)
	}
	return nil
}

// eos is the Arrow IPC end-of-stream marker: a continuation token and a zero metadata length.
var eos = []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}

// Writer writes rows of one schema as an Arrow IPC stream: the schema message first (written by
// NewWriter, so a reader learns the columns before any row exists), then one record batch per BatchRows
// rows or per Flush, then, on Close, the end-of-stream marker.
//
// Each IPC message reaches the underlying io.Writer in a single Write call, when it is complete; the
// Writer keeps no bytes back between calls. A Writer must be used by one goroutine at a time.
type Writer struct {
	w      io.Writer
	mem    memory.Allocator
	schema *arrow.Schema
	cols   []types.Column
	batch  int

	rb      *array.RecordBuilder
	appends []appender // one per column, onto rb's field builders
	n       int        // rows buffered in rb
	buf     bytes.Buffer

	err    error // the first failure writing to w; every later call returns it
	closed bool
}

// NewWriter returns a Writer of rows of cols onto w, having written the stream's schema message. It fails
// when a column has no Arrow type (see Schema), when an option is invalid, or when writing the schema
// fails. The Writer retains cols.
func NewWriter(w io.Writer, cols []types.Column, opts ...Option) (*Writer, error) {
	cfg := config{batchRows: DefaultBatchRows}
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return newWriter(w, cols, cfg, memory.DefaultAllocator)
}

func newWriter(w io.Writer, cols []types.Column, cfg config, mem memory.Allocator) (*Writer, error) {
	schema, err := Schema(cols)
	if err != nil {
		return nil, err
	}
	wr := &Writer{w: w, mem: mem, schema: schema, cols: cols, batch: cfg.batchRows}
	wr.rb = array.NewRecordBuilder(mem, schema)
	wr.appends = make([]appender, len(cols))
	for i, c := range cols {
		wr.appends[i] = newAppender(c.Type, wr.rb.Field(i))
	}
	p := ipc.GetSchemaPayload(schema, mem)
	defer p.Release()
	if err := wr.writeMessage(&p); err != nil {
		wr.rb.Release()
		return nil, err
	}
	return wr, nil
}

// Write buffers row, and writes a record batch when BatchRows rows are buffered. A row that does not fit
// the schema is rejected with an error wrapping ErrBadValue, leaving the buffered rows as they were. Any
// other error is a failure writing to the underlying io.Writer, after which the stream is unusable and
// every call returns that error. Write does not retain row.
func (w *Writer) Write(row types.Row) error {
	if err := w.usable(); err != nil {
		return err
	}
	if len(row) != len(w.cols) {
		return fmt.Errorf("%w: row has %d values for %d columns", ErrBadValue, len(row), len(w.cols))
	}
	for i, c := range w.cols {
		if err := check(c.Type, row[i]); err != nil {
			return fmt.Errorf("%w: column %q: %w", ErrBadValue, c.Name, err)
		}
	}
	for i, v := range row {
		w.appends[i](v)
	}
	w.n++
	if w.n >= w.batch {
		return w.flush()
	}
	return nil
}

// Flush writes the buffered rows as one record batch; with no rows buffered it writes nothing. A push
// query calls it on a timer so that rows reach the client while a batch is still filling.
func (w *Writer) Flush() error {
	if err := w.usable(); err != nil {
		return err
	}
	return w.flush()
}

// Close writes the buffered rows and the end-of-stream marker and releases the Writer's buffers. It does
// not close the underlying io.Writer. Close returns the Writer's write failure, if any; closing again
// returns nil.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	defer w.rb.Release()
	if w.err != nil {
		return w.err
	}
	if err := w.flush(); err != nil {
		return err
	}
	if _, err := w.w.Write(eos); err != nil {
		w.err = fmt.Errorf("arrowrows: writing end of stream: %w", err)
		return w.err
	}
	return nil
}

// Schema returns the Arrow schema of the stream.
func (w *Writer) Schema() *arrow.Schema { return w.schema }

func (w *Writer) usable() error {
	switch {
	case w.err != nil:
		return w.err
	case w.closed:
		return ErrClosed
	}
	return nil
}

func (w *Writer) flush() error {
	if w.n == 0 {
		return nil
	}
	w.n = 0
	rec := w.rb.NewRecordBatch()
	defer rec.Release()
	p, err := ipc.GetRecordBatchPayload(rec, ipc.WithAllocator(w.mem))
	if err != nil {
		w.err = fmt.Errorf("arrowrows: encoding record batch: %w", err)
		return w.err
	}
	defer p.Release()
	return w.writeMessage(&p)
}

// writeMessage encodes p into w.buf and hands it to w.w in one Write.
func (w *Writer) writeMessage(p *ipc.Payload) error {
	w.buf.Reset()
	if _, err := p.WritePayload(&w.buf); err != nil {
		w.err = fmt.Errorf("arrowrows: encoding IPC message: %w", err)
		return w.err
	}
	if _, err := w.w.Write(w.buf.Bytes()); err != nil {
		w.err = fmt.Errorf("arrowrows: writing IPC message: %w", err)
		return w.err
	}
	return nil
}
