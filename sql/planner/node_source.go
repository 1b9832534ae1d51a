package planner

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/sql/format"
	"github.com/seichedb/seiche/sql/function"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/types"
)

// SourceNode reads a stream or table from its topic: key and value deserialized with the source's
// formats into the Input row (schema columns, then ROWTIME, ROWPARTITION, ROWOFFSET, and WINDOWSTART,
// WINDOWEND for a windowed source). A table is materialized; a tombstone deletes its key.
type SourceNode struct {
	Source *ir.Source
	// Reads, when set, are the columns the query reads (ir.QuerySource.Reads): the value columns it
	// does not read, but the TIMESTAMP column, are checked and left NULL instead of built. nil reads
	// every column.
	Reads []bool
	// RowDies says that no node after the source keeps a record's Input row once the record's pass
	// through the query returns (a stream read only by a filter and the projection, which builds rows
	// of its own): the source then decodes every record into the same row. The values in it are
	// never reused, so they may be kept.
	RowDies bool
}

// Describe implements Node.
func (n *SourceNode) Describe() string { return "Source(" + n.Source.Name + ")" }

func (n *SourceNode) lower(e *Env, _ flow) (flow, error) {
	src := n.Source
	keys, err := KeySerde(src)
	if err != nil {
		return flow{}, err
	}
	d := &deserializer{src: src, keys: keys, tsCol: -1, meta: [3]bool{true, true, true}, reuseRow: n.RowDies}
	if n.Reads != nil {
		for i := range d.meta {
			p := len(src.Schema.Columns) + i
			d.meta[i] = p < len(n.Reads) && n.Reads[p]
		}
	}
	if src.TimestampColumn != "" {
		d.tsCol = src.Schema.Index(src.TimestampColumn)
		d.tsFormat = src.Props["TIMESTAMP_FORMAT"]
	}
	if d.values, err = sourceSerde(src, src.ValueFormat, ValueColumns(src), false, n.unread(d.tsCol)); err != nil {
		return flow{}, err
	}
	if rs, ok := d.values.(rowSerde); ok {
		d.into, _ = rs.f.(format.IntoDeserializer)
	}
	if src.Window != "" {
		d.windowSize = WindowSize(src)
	}
	for i, c := range src.Schema.Columns {
		switch c.Namespace {
		case types.NamespaceKey:
			d.keyPos = append(d.keyPos, i)
		case types.NamespaceHeader:
			d.headerPos = append(d.headerPos, i)
		default:
			d.valPos = append(d.valPos, i)
		}
	}
	var keyTypes []*types.Type
	for _, c := range src.Schema.Key() {
		keyTypes = append(keyTypes, c.Type)
	}
	inputCols := len(src.Schema.Columns) + 3
	if src.Window != "" {
		inputCols += 2
	}
	d.width = inputCols
	rows := dsl.Process(e.Raw(src.Topic), func() runtime.Processor[[]byte, []byte, Row, Row] { return &deserializeProc{d: d} },
		dsl.Named(e.name("KSQL-SOURCE-"+src.Name)),
		dsl.PreservesKey(), // the key decoded: records stay on the partition their key chose
	).WithKeySerde(keys).WithValueSerde(internalSerde(inputColumns(src)))
	f := flow{keyCols: keyTypes, valCols: inputColumns(src)}
	if src.Kind == ir.Table {
		f.table = rows.ToTable(dsl.Named(e.name("KSQL-TABLE-" + src.Name)))
		return f, nil
	}
	f.stream = rows
	return f, nil
}

// unread marks the value columns (in ValueColumns order) that the query does not read and the
// source does not take its timestamp from; nil when it reads them all.
func (n *SourceNode) unread(tsCol int) []bool {
	if n.Reads == nil {
		return nil
	}
	var out []bool
	for i, c := range n.Source.Schema.Columns {
		if c.Namespace == types.NamespaceKey || c.Namespace == types.NamespacePseudo || c.Namespace == types.NamespaceHeader {
			continue // not in ValueColumns
		}
		out = append(out, i < len(n.Reads) && !n.Reads[i] && i != tsCol)
	}
	return out
}

func inputColumns(src *ir.Source) []types.Column {
	cols := append([]types.Column{}, src.Schema.Columns...)
	cols = append(cols, types.Column{Type: types.Bigint}, types.Column{Type: types.Int}, types.Column{Type: types.Bigint})
	if src.Window != "" {
		cols = append(cols, types.Column{Type: types.Bigint}, types.Column{Type: types.Bigint})
	}
	return cols
}

// WindowSize is the size in milliseconds of the windows of a time-windowed source, from its
// WINDOW_SIZE property; 0 when it has none (session windows, or no windows).
func WindowSize(src *ir.Source) int64 {
	ws, ok := src.Props["WINDOW_SIZE"]
	if !ok {
		return 0
	}
	d, err := ir.ParseDuration(strings.Trim(ws, "'"))
	if err != nil {
		return 0
	}
	return d.Milliseconds()
}

// SplitWindowedKey cuts the window off the serialized key of a windowed source, as ksqlDB writes it:
// the key's bytes, then the 8-byte big-endian window start (time windows, whose end is start + size)
// or session end and start (session windows).
func SplitWindowedKey(src *ir.Source, kb []byte, size int64) (key []byte, start, end int64, err error) {
	if src.Window == "SESSION" {
		if len(kb) < 16 {
			return nil, 0, 0, fmt.Errorf("planner: %s: session-windowed key shorter than 16 bytes", src.Name)
		}
		end = int64(binary.BigEndian.Uint64(kb[len(kb)-16:]))
		start = int64(binary.BigEndian.Uint64(kb[len(kb)-8:]))
		return kb[:len(kb)-16], start, end, nil
	}
	if len(kb) < 8 {
		return nil, 0, 0, fmt.Errorf("planner: %s: windowed key shorter than 8 bytes", src.Name)
	}
	start = int64(binary.BigEndian.Uint64(kb[len(kb)-8:]))
	return kb[:len(kb)-8], start, start + size, nil
}

type deserializer struct {
	src          *ir.Source
	keys, values serde.Serde[Row]
	// into is values' format when it decodes into the Input row itself (nil otherwise).
	into           format.IntoDeserializer
	keyPos, valPos []int
	headerPos      []int
	tsCol          int
	tsFormat       string
	windowSize     int64
	width          int
	// meta says which of ROWTIME, ROWPARTITION and ROWOFFSET the Input row holds: those the query
	// reads (SourceNode.Reads), all without Reads; the others are NULL.
	meta [3]bool
	// reuseRow is SourceNode.RowDies.
	reuseRow bool
}

type deserializeProc struct {
	d   *deserializer
	ctx runtime.ProcessorContext[Row, Row]
	// row is the Input row every record is decoded into when d.reuseRow.
	row Row
}

// newRow returns the Input row for the next record, all NULL.
func (p *deserializeProc) newRow() Row {
	if !p.d.reuseRow {
		return make(Row, p.d.width)
	}
	if p.row == nil {
		p.row = make(Row, p.d.width)
	} else {
		clear(p.row)
	}
	return p.row
}

func (p *deserializeProc) Init(ctx runtime.ProcessorContext[Row, Row]) error { p.ctx = ctx; return nil }
func (p *deserializeProc) Close() error                                      { return nil }

func (p *deserializeProc) Process(rec runtime.Record[[]byte, []byte]) error {
	d := p.d
	kb := rec.Key
	var wstart, wend int64
	windowed := d.src.Window != ""
	if windowed && kb != nil {
		var err error
		if kb, wstart, wend, err = SplitWindowedKey(d.src, kb, d.windowSize); err != nil {
			return err
		}
	}
	key, err := d.keys.Deserialize(kb)
	if err != nil {
		return fmt.Errorf("planner: %s: key: %w", d.src.Name, err)
	}
	if key == nil && len(d.keyPos) > 0 {
		if d.src.Kind == ir.Table {
			// A table row needs a key: a record without one is skipped, as a Kafka Streams table
			// source does.
			return nil
		}
		key = make(Row, len(d.keyPos))
	}
	if rec.Value == nil {
		// A table's delete; a stream passes a null value on (a filter or an aggregation drops it).
		return p.ctx.Forward(runtime.WithKeyValue(rec, key, Row(nil)))
	}
	row := p.newRow()
	if d.into != nil {
		null, err := d.into.DeserializeInto(row, d.valPos, rec.Value)
		if err != nil {
			return fmt.Errorf("planner: %s: value: %w", d.src.Name, err)
		}
		if null {
			return p.ctx.Forward(runtime.WithKeyValue(rec, key, Row(nil)))
		}
	} else {
		val, err := d.values.Deserialize(rec.Value)
		if err != nil {
			return fmt.Errorf("planner: %s: value: %w", d.src.Name, err)
		}
		if val == nil {
			return p.ctx.Forward(runtime.WithKeyValue(rec, key, Row(nil)))
		}
		for i, pos := range d.valPos {
			if i < len(val) {
				row[pos] = val[i]
			}
		}
	}
	for i, pos := range d.keyPos {
		if i < len(key) {
			row[pos] = key[i]
		}
	}
	for _, pos := range d.headerPos {
		row[pos] = headerValue(d.src.Schema.Columns[pos], rec.Headers)
	}
	n := len(d.src.Schema.Columns)
	ts := rec.Timestamp
	if d.tsCol >= 0 {
		t, ok, err := timestampOf(row[d.tsCol], d.tsFormat)
		if err != nil {
			return &TimestampError{Source: d.src.Name, Column: d.src.TimestampColumn, Err: err}
		}
		if !ok {
			return nil // ksqlDB drops records with a NULL or negative timestamp
		}
		ts = t
	}
	if ts < 0 {
		return nil
	}
	// ROWTIME, ROWPARTITION and ROWOFFSET; each boxed value is an allocation, so only those read.
	if d.meta[0] {
		row[n] = ts
	}
	if md, ok := p.ctx.RecordMetadata(); ok {
		if d.meta[1] {
			row[n+1] = md.Partition
		}
		if d.meta[2] {
			row[n+2] = md.Offset
		}
	}
	if windowed {
		row[n+3], row[n+4] = wstart, wend
	}
	out := runtime.WithKeyValue(rec, key, row)
	out.Timestamp = ts
	return p.ctx.Forward(out)
}

// timestampOf converts a TIMESTAMP property column's value into milliseconds; ok is false for NULL.
func timestampOf(v types.Value, layout string) (int64, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case int64:
		return x, true, nil
	case int32:
		return int64(x), true, nil
	case types.TimestampValue:
		return int64(x), true, nil
	case string:
		if layout == "" {
			n, err := strconv.ParseInt(x, 10, 64)
			return n, err == nil, err
		}
		t, err := function.ParseTimestamp(x, layout)
		if err != nil {
			return 0, false, err
		}
		return t, true, nil
	}
	return 0, false, fmt.Errorf("unsupported timestamp value %T", v)
}

// headerValue is the value of a header column: every header as an ARRAY<STRUCT<KEY, VALUE>>, or the
// last header with the column's key as BYTES (NULL when absent).
func headerValue(c types.Column, headers []runtime.Header) types.Value {
	if c.HeaderKey == "" {
		out := make([]types.Value, 0, len(headers))
		for _, h := range headers {
			var v types.Value
			if h.Value != nil {
				v = append([]byte{}, h.Value...)
			}
			out = append(out, &types.Struct{Vals: []types.Value{h.Key, v}})
		}
		return out
	}
	var v types.Value
	for _, h := range headers {
		if h.Key == c.HeaderKey {
			if h.Value == nil {
				v = nil
			} else {
				v = append([]byte{}, h.Value...)
			}
		}
	}
	return v
}

// TimestampError is a record whose TIMESTAMP column could not be read as a timestamp. It reaches the
// runtime's processing error handler, which decides whether the record is skipped (ksqlDB's default) or
// the query fails (ksqlDB's ksql.timestamp.throw.on.invalid).
type TimestampError struct {
	Source, Column string
	Err            error
}

func (e *TimestampError) Error() string {
	return fmt.Sprintf("planner: %s: timestamp column %s: %v", e.Source, e.Column, e.Err)
}

func (e *TimestampError) Unwrap() error { return e.Err }
