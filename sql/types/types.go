// Package types is the SQL type system and value model of Seiche's SQL front end: ksqlDB's types
// (BOOLEAN, INT, BIGINT, DOUBLE, DECIMAL(p,s), STRING, BYTES, DATE, TIME, TIMESTAMP, ARRAY, MAP, STRUCT),
// their implicit widening and arithmetic typing rules, and the Go representation of a value of each type.
//
// Values. A row is a []Value positioned by its schema; a Value is one of the Go types below, or nil for
// SQL NULL. Values are dynamically typed at Go level because a schema is only known at run time, but every
// compiled expression knows its static SQL type, so consumers type-switch once per column, not per value.
//
//	BOOLEAN      bool
//	INT          int32
//	BIGINT       int64
//	DOUBLE       float64
//	DECIMAL      *apd.Decimal, exact, always at the scale of its type
//	STRING       string
//	BYTES        []byte
//	DATE         DateValue (days since 1970-01-01)
//	TIME         TimeValue (milliseconds since midnight)
//	TIMESTAMP    TimestampValue (milliseconds since the Unix epoch, UTC)
//	ARRAY        []Value
//	MAP          *Map (insertion-ordered)
//	STRUCT       *Struct (field values positioned by the struct type)
//
// Values are immutable once built: functions return new arrays, maps and structs rather than editing their
// inputs, so a value may be shared between rows and goroutines.
package types

import (
	"strconv"
	"strings"
)

// Kind is the kind of a SQL type.
type Kind uint8

const (
	KindNull Kind = iota // the type of an untyped NULL literal; never a column type
	KindBoolean
	KindInt
	KindBigint
	KindDouble
	KindDecimal
	KindString
	KindBytes
	KindDate
	KindTime
	KindTimestamp
	KindArray
	KindMap
	KindStruct
	KindInterval // a time unit argument such as SECONDS in TIMESTAMPADD; never a column type
	KindLambda   // the type of a lambda argument during function resolution; never a column type
)

// Type is a SQL type. Types are immutable; compare them with Equal, not ==.
type Type struct {
	Kind Kind
	// Precision and Scale of a DECIMAL.
	Precision, Scale int
	// Elem is the element type of an ARRAY and the value type of a MAP.
	Elem *Type
	// Key is the key type of a MAP.
	Key *Type
	// Fields of a STRUCT, in declaration order.
	Fields []Field
	// Name is the custom type name (CREATE TYPE) this type was declared through, if any; informational.
	Name string
}

// Field is a STRUCT field.
type Field struct {
	Name string
	Type *Type
}

// The primitive types.
var (
	Null      = &Type{Kind: KindNull}
	Boolean   = &Type{Kind: KindBoolean}
	Int       = &Type{Kind: KindInt}
	Bigint    = &Type{Kind: KindBigint}
	Double    = &Type{Kind: KindDouble}
	String    = &Type{Kind: KindString}
	Bytes     = &Type{Kind: KindBytes}
	Date      = &Type{Kind: KindDate}
	Time      = &Type{Kind: KindTime}
	Timestamp = &Type{Kind: KindTimestamp}
	Interval  = &Type{Kind: KindInterval}
)

// MaxDecimalPrecision is the largest DECIMAL precision ksqlDB accepts.
const MaxDecimalPrecision = 38

// DecimalOf returns DECIMAL(p, s).
func DecimalOf(p, s int) *Type { return &Type{Kind: KindDecimal, Precision: p, Scale: s} }

// ArrayOf returns ARRAY<elem>.
func ArrayOf(elem *Type) *Type { return &Type{Kind: KindArray, Elem: elem} }

// MapOf returns MAP<key, val>.
func MapOf(key, val *Type) *Type { return &Type{Kind: KindMap, Key: key, Elem: val} }

// StructOf returns STRUCT<fields...>.
func StructOf(fields ...Field) *Type { return &Type{Kind: KindStruct, Fields: fields} }

// FieldIndex returns the index of the struct field named name, or -1. Names are matched exactly: the
// parser has already upper-cased unquoted identifiers.
func (t *Type) FieldIndex(name string) int {
	for i, f := range t.Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// IsNumeric reports whether t is INT, BIGINT, DECIMAL or DOUBLE.
func (t *Type) IsNumeric() bool {
	switch t.Kind {
	case KindInt, KindBigint, KindDecimal, KindDouble:
		return true
	}
	return false
}

// IsPrimitive reports whether t is neither ARRAY, MAP nor STRUCT.
func (t *Type) IsPrimitive() bool {
	return t.Kind != KindArray && t.Kind != KindMap && t.Kind != KindStruct
}

// Equal reports whether two types are the same SQL type (custom type names are ignored).
func (t *Type) Equal(o *Type) bool {
	if t == o {
		return true
	}
	if t == nil || o == nil || t.Kind != o.Kind {
		return false
	}
	switch t.Kind {
	case KindDecimal:
		return t.Precision == o.Precision && t.Scale == o.Scale
	case KindArray:
		return t.Elem.Equal(o.Elem)
	case KindMap:
		return t.Key.Equal(o.Key) && t.Elem.Equal(o.Elem)
	case KindStruct:
		if len(t.Fields) != len(o.Fields) {
			return false
		}
		for i := range t.Fields {
			if t.Fields[i].Name != o.Fields[i].Name || !t.Fields[i].Type.Equal(o.Fields[i].Type) {
				return false
			}
		}
	}
	return true
}

// String renders t the way ksqlDB prints types in schemas and error messages: INTEGER, DECIMAL(4, 2),
// ARRAY<STRING>, MAP<STRING, INTEGER>, STRUCT<`F` BIGINT>.
func (t *Type) String() string {
	var b strings.Builder
	t.format(&b)
	return b.String()
}

func (t *Type) format(b *strings.Builder) {
	if t == nil {
		b.WriteString("null")
		return
	}
	switch t.Kind {
	case KindNull:
		b.WriteString("null")
	case KindBoolean:
		b.WriteString("BOOLEAN")
	case KindInt:
		b.WriteString("INTEGER")
	case KindBigint:
		b.WriteString("BIGINT")
	case KindDouble:
		b.WriteString("DOUBLE")
	case KindDecimal:
		b.WriteString("DECIMAL(")
		b.WriteString(strconv.Itoa(t.Precision))
		b.WriteString(", ")
		b.WriteString(strconv.Itoa(t.Scale))
		b.WriteString(")")
	case KindString:
		b.WriteString("STRING")
	case KindBytes:
		b.WriteString("BYTES")
	case KindDate:
		b.WriteString("DATE")
	case KindTime:
		b.WriteString("TIME")
	case KindTimestamp:
		b.WriteString("TIMESTAMP")
	case KindInterval:
		b.WriteString("INTERVALUNIT")
	case KindLambda:
		b.WriteString("LAMBDA")
	case KindArray:
		b.WriteString("ARRAY<")
		t.Elem.format(b)
		b.WriteString(">")
	case KindMap:
		b.WriteString("MAP<")
		t.Key.format(b)
		b.WriteString(", ")
		t.Elem.format(b)
		b.WriteString(">")
	case KindStruct:
		b.WriteString("STRUCT<")
		for i, f := range t.Fields {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("`")
			b.WriteString(f.Name)
			b.WriteString("` ")
			f.Type.format(b)
		}
		b.WriteString(">")
	}
}

// Column is a named, typed column of a schema.
type Column struct {
	Name string
	Type *Type
	// Namespace says where the column lives in a record.
	Namespace Namespace
	// HeaderKey is the header a HEADER('k') column reads; empty for HEADERS (all headers) and other columns.
	HeaderKey string
}

// Namespace is the part of a record a column is stored in.
type Namespace uint8

const (
	NamespaceValue Namespace = iota
	NamespaceKey
	NamespaceHeader
	// NamespacePseudo: ROWTIME, ROWPARTITION, ROWOFFSET, WINDOWSTART, WINDOWEND.
	NamespacePseudo
)

func (n Namespace) String() string {
	switch n {
	case NamespaceKey:
		return "KEY"
	case NamespaceHeader:
		return "HEADER"
	case NamespacePseudo:
		return "PSEUDO"
	}
	return "VALUE"
}

// Schema is the logical schema of a stream or table: key columns, then value columns. Headers columns are
// value-side columns with NamespaceHeader.
type Schema struct {
	Columns []Column
}

// Key returns the key columns, in order.
func (s *Schema) Key() []Column { return s.filter(NamespaceKey) }

// Value returns the non-key columns (value and header columns), in order.
func (s *Schema) Value() []Column {
	var out []Column
	for _, c := range s.Columns {
		if c.Namespace != NamespaceKey && c.Namespace != NamespacePseudo {
			out = append(out, c)
		}
	}
	return out
}

func (s *Schema) filter(ns Namespace) []Column {
	var out []Column
	for _, c := range s.Columns {
		if c.Namespace == ns {
			out = append(out, c)
		}
	}
	return out
}

// Index returns the position of the column named name, or -1.
func (s *Schema) Index(name string) int {
	for i, c := range s.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// String renders the schema like ksqlDB's post-condition schemas: "`ID` BIGINT KEY, `NAME` STRING".
func (s *Schema) String() string {
	var b strings.Builder
	for i, c := range s.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("`")
		b.WriteString(c.Name)
		b.WriteString("` ")
		b.WriteString(c.Type.String())
		switch c.Namespace {
		case NamespaceKey:
			b.WriteString(" KEY")
		case NamespaceHeader:
			if c.HeaderKey != "" {
				b.WriteString(" HEADER('" + c.HeaderKey + "')")
			} else {
				b.WriteString(" HEADERS")
			}
		}
	}
	return b.String()
}
