package ir

import "github.com/seichedb/seiche/sql/types"

// SourceKind is what a source is: a STREAM or a TABLE.
type SourceKind uint8

const (
	Stream SourceKind = iota
	Table
)

func (k SourceKind) String() string {
	if k == Table {
		return "TABLE"
	}
	return "STREAM"
}

// Source is a stream or table: a topic, its formats and the schema of its rows.
type Source struct {
	Name   string
	Kind   SourceKind
	Schema *types.Schema
	Topic  string
	// KeyFormat and ValueFormat are upper-case format names (KAFKA, JSON, DELIMITED, NONE, AVRO, ...).
	KeyFormat, ValueFormat string
	// Props are the WITH properties as given (upper-case names), for formats' options.
	Props map[string]string
	// Window is the window type of a windowed source ("" when not windowed): TUMBLING, HOPPING, SESSION.
	Window string
	// ReadOnly marks CREATE SOURCE STREAM|TABLE sources.
	ReadOnly bool
	// TimestampColumn is the TIMESTAMP property's column, if any.
	TimestampColumn string
	// SQL is the statement that created the source.
	SQL string
}
