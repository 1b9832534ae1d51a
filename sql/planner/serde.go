package planner

import (
	"fmt"
	"strings"

	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/sql/format"
	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/types"
)

// Row is the key and value type of every lowered stream and table.
type Row = types.Row

// rowSerde adapts a format.Serde to serde.Serde[Row]: a nil row is a Kafka null, and so is a key
// whose columns are all NULL (a null Kafka key reads as such a key, and a query that passes it through
// writes it back as null, as ksqlDB does).
type rowSerde struct {
	f     format.Serde
	isKey bool
}

func (s rowSerde) Serialize(r Row) ([]byte, error) {
	if r == nil || (s.isKey && allNull(r)) {
		return nil, nil
	}
	return s.f.Serialize(r)
}

func allNull(r Row) bool {
	for _, v := range r {
		if v != nil {
			return false
		}
	}
	return true
}

func (s rowSerde) Deserialize(b []byte) (Row, error) {
	if b == nil {
		return nil, nil
	}
	return s.f.Deserialize(b)
}

// internalSerde serializes rows of cols through repartition topics and state stores, which only
// Seiche reads: the binary rowCodec (doc.go, "Internal formats"). Rows in the wrapped JSON used
// before it are still read.
func internalSerde(cols []types.Column) serde.Serde[Row] {
	ts := make([]*types.Type, len(cols))
	for i, c := range cols {
		ts[i] = c.Type
	}
	return newRowCodec(ts, legacyInternalSerde(cols))
}

// legacyInternalSerde is the wrapped JSON internal rows were written in before the binary encoding,
// or nil when the columns have no JSON form (maps with non-string keys).
func legacyInternalSerde(cols []types.Column) format.Serde {
	cs := make([]types.Column, len(cols))
	for i, c := range cols {
		cs[i] = types.Column{Name: fmt.Sprintf("C%d", i), Type: c.Type}
	}
	wrap := true
	f, err := format.New("JSON", cs, format.Options{Wrap: &wrap})
	if err != nil {
		return nil
	}
	return f
}

func typeColumns(ts []*types.Type) []types.Column {
	cols := make([]types.Column, len(ts))
	for i, t := range ts {
		cols[i] = types.Column{Type: t}
	}
	return cols
}

// KeySerde returns the serde of src's key columns in its key format.
func KeySerde(src *ir.Source) (serde.Serde[Row], error) {
	return sourceSerde(src, src.KeyFormat, src.Schema.Key(), true, nil)
}

// ValueSerde returns the serde of src's value columns in its value format.
func ValueSerde(src *ir.Source) (serde.Serde[Row], error) {
	return sourceSerde(src, src.ValueFormat, ValueColumns(src), false, nil)
}

// ValueColumns are the columns stored in src's record values: its value columns but the headers.
func ValueColumns(src *ir.Source) []types.Column {
	var out []types.Column
	for _, c := range src.Schema.Value() {
		if c.Namespace != types.NamespaceHeader {
			out = append(out, c)
		}
	}
	return out
}

// sourceSerde is the serde of cols, stored in src's records in format fm; unread are the columns it
// need not build (format.Options.Unread).
func sourceSerde(src *ir.Source, fm string, cols []types.Column, isKey bool, unread []bool) (serde.Serde[Row], error) {
	opts := format.Options{IsKey: isKey, Unread: unread}
	prefix := "VALUE_"
	if isKey {
		prefix = "KEY_"
	}
	if d, ok := src.Props[prefix+"DELIMITER"]; ok {
		opts.Delimiter = d
	}
	if w, ok := src.Props["WRAP_SINGLE_VALUE"]; ok && !isKey {
		b := strings.EqualFold(w, "true")
		opts.Wrap = &b
	}
	f, err := format.New(fm, cols, opts)
	if err != nil {
		return nil, err
	}
	return rowSerde{f: f, isKey: isKey}, nil
}
