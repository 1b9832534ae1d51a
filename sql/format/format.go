// Package format serializes and deserializes the key or value of a record given the columns stored in it:
// ksqlDB's KAFKA, JSON, DELIMITED and NONE formats. AVRO, PROTOBUF and JSON_SR need a schema registry and
// will plug in behind the same Serde interface.
//
// A Serde is fixed at New and safe for concurrent use (the JSON reader keeps the last record's field
// layout behind an atomic pointer, see fieldsOf).
//
// # Why not serde.Serde
//
// Seiche's serde abstraction for typed Go values is serde.Serde[T], which the runtime, the dsl and
// the state stores share. A format Serde is the SQL side of it: its values are untyped rows
// ([]types.Value) whose columns and format are known only when a statement runs, so one Go type
// serves every schema and a generic parameter would say nothing. The planner adapts a format Serde
// to serde.Serde[types.Row] (sql/planner's rowSerde) where rows enter the dsl; nothing else converts
// between the two.
//
// # Unsafe
//
// The JSON reader builds the values of one record pointing into one allocation (json_arena.go):
// boxing each number and string on its own was most of a record's allocations. It relies on Go's
// layout of an interface value, and on values never being modified once made; the values it
// returns are ordinary to every reader of them.
package format

import (
	"fmt"
	"slices"
	"strings"

	"github.com/seichedb/seiche/sql/types"
)

// Serde converts between bytes and the values of a list of columns.
type Serde interface {
	// Serialize encodes vals, positioned like the serde's columns. It returns nil for a NULL record
	// (all values nil in a single-column unwrapped format) where the format encodes NULL as no bytes.
	Serialize(vals []types.Value) ([]byte, error)
	// Deserialize decodes data; nil data (a tombstone or a missing key) decodes to nil.
	Deserialize(data []byte) ([]types.Value, error)
}

// IntoDeserializer is a Serde that decodes into the caller's slice, so that the values of a record
// land where the caller keeps them without a slice of their own.
type IntoDeserializer interface {
	Serde
	// DeserializeInto decodes data as Deserialize does, writing column i's value to dst[pos[i]] (dst[i] when
	// pos is nil); dst
	// must hold NULL at those positions. null is set where Deserialize returns nil, and then, as
	// after an error, dst holds some of the values or none.
	DeserializeInto(dst []types.Value, pos []int, data []byte) (null bool, err error)
}

// Options configure a serde (from the WITH clause: VALUE_DELIMITER, WRAP_SINGLE_VALUE, ...).
type Options struct {
	// IsKey is set for key serdes.
	IsKey bool
	// Wrap says whether a single column is wrapped in an object/record (WRAP_SINGLE_VALUE). nil means the
	// format's default: wrapped for values, unwrapped for keys.
	Wrap *bool
	// Delimiter is DELIMITED's field separator (default ',').
	Delimiter string
	// Unread marks the columns (by position, nil for none) whose values the caller never reads:
	// a format may leave them NULL in what Deserialize returns instead of building them. It still
	// checks them as it would read them, so a record fails (and with the same error) exactly when it
	// would without Unread. Only JSON uses it; the other formats build every column.
	Unread []bool
}

var known = map[string]bool{"KAFKA": true, "JSON": true, "DELIMITED": true, "NONE": true, "AVRO": true,
	"PROTOBUF": true, "PROTOBUF_NOSR": true, "JSON_SR": true}

// Known reports whether name (upper case) is a format ksqlDB defines.
func Known(name string) bool { return known[name] }

// Implemented reports whether Seiche can serialize name today.
func Implemented(name string) bool {
	switch name {
	case "KAFKA", "JSON", "DELIMITED", "NONE":
		return true
	}
	return false
}

func colList(cols []types.Column, isKey bool) string {
	var parts []string
	for _, c := range cols {
		s := "`" + c.Name + "` " + c.Type.String()
		if isKey {
			s += " KEY"
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// ValidateSchema checks that the columns can be stored in the format, with ksqlDB's messages.
func ValidateSchema(format string, cols []types.Column, isKey bool) error {
	if isKey {
		for _, c := range cols {
			if containsMap(c.Type) {
				return fmt.Errorf("Map keys, including types that contain maps, are not supported as they may lead to unexpected behavior due to inconsistent serialization. Key column name: `%s`. Column type: %s. See https://github.com/confluentinc/ksql/issues/6621 for more.", c.Name, c.Type)
			}
		}
	}
	switch format {
	case "NONE":
		if len(cols) > 0 {
			return fmt.Errorf("The 'NONE' format can only be used when no columns are defined. Got: %s", colList(cols, isKey))
		}
	case "KAFKA":
		if len(cols) > 1 {
			return fmt.Errorf("The 'KAFKA' format only supports a single field. Got: %s", colList(cols, isKey))
		}
		for _, c := range cols {
			switch c.Type.Kind {
			case types.KindInt, types.KindBigint, types.KindDouble, types.KindString, types.KindBytes:
			default:
				return fmt.Errorf("The 'KAFKA' format does not support type '%s'", kindName(c.Type))
			}
		}
	case "DELIMITED":
		for _, c := range cols {
			if !c.Type.IsPrimitive() {
				return fmt.Errorf("The 'DELIMITED' format does not support type '%s', column: `%s`", kindName(c.Type), c.Name)
			}
		}
	case "JSON":
		for _, c := range cols {
			if err := checkStringMapKeys(c.Type, "JSON only supports MAP types with STRING keys"); err != nil {
				return err
			}
		}
	case "AVRO":
		for _, c := range cols {
			if err := checkStringMapKeys(c.Type, "Avro only supports MAPs with STRING keys"); err != nil {
				return err
			}
		}
	case "PROTOBUF", "PROTOBUF_NOSR":
		for _, c := range cols {
			if err := checkStringMapKeys(c.Type, "PROTOBUF format only supports MAP types with STRING keys"); err != nil {
				return err
			}
		}
	}
	return nil
}

func kindName(t *types.Type) string {
	switch t.Kind {
	case types.KindArray:
		return "ARRAY"
	case types.KindMap:
		return "MAP"
	case types.KindStruct:
		return "STRUCT"
	case types.KindDecimal:
		return "DECIMAL"
	}
	return t.String()
}

func containsMap(t *types.Type) bool {
	switch t.Kind {
	case types.KindMap:
		return true
	case types.KindArray:
		return containsMap(t.Elem)
	case types.KindStruct:
		for _, f := range t.Fields {
			if containsMap(f.Type) {
				return true
			}
		}
	}
	return false
}

func checkStringMapKeys(t *types.Type, msg string) error {
	switch t.Kind {
	case types.KindMap:
		if t.Key.Kind != types.KindString {
			return fmt.Errorf("%s", msg)
		}
		return checkStringMapKeys(t.Elem, msg)
	case types.KindArray:
		return checkStringMapKeys(t.Elem, msg)
	case types.KindStruct:
		for _, f := range t.Fields {
			if err := checkStringMapKeys(f.Type, msg); err != nil {
				return err
			}
		}
	}
	return nil
}

// ValidateKeySchema is ValidateSchema for key columns, with ksqlDB's message naming the format, the key
// schema and the reason.
func ValidateKeySchema(format string, cols []types.Column) error {
	err := ValidateSchema(format, cols, true)
	if err == nil {
		return nil
	}
	return fmt.Errorf("Key format does not support schema.\nformat: %s\nschema: Persistence{columns=%s, features=[]}\nreason: %v", format, colList(cols, true), err)
}

// New returns the serde of format for cols.
func New(format string, cols []types.Column, opts Options) (Serde, error) {
	if err := ValidateSchema(format, cols, opts.IsKey); err != nil {
		return nil, err
	}
	switch format {
	case "NONE":
		return noneSerde{}, nil
	case "KAFKA":
		return &kafkaSerde{cols: cols}, nil
	case "JSON":
		wrap := !opts.IsKey || len(cols) != 1
		if opts.Wrap != nil {
			if !*opts.Wrap && len(cols) != 1 {
				return nil, fmt.Errorf("'WRAP_SINGLE_VALUE' is only valid for single-field value schemas")
			}
			wrap = *opts.Wrap
		}
		s := newJSONSerde(cols, wrap)
		if slices.Contains(opts.Unread, true) {
			s.unread = slices.Clone(opts.Unread)
		}
		return s, nil
	case "DELIMITED":
		d := opts.Delimiter
		switch strings.ToUpper(d) {
		case "":
			d = ","
		case "TAB":
			d = "\t"
		case "SPACE":
			d = " "
		}
		if len([]rune(d)) != 1 {
			return nil, fmt.Errorf("Configuration VALUE_DELIMITER is invalid: Invalid delimiter value: '%s'. Delimiter must be a single character or TAB or SPACE", d)
		}
		return &delimitedSerde{cols: cols, delim: []rune(d)[0]}, nil
	}
	return nil, fmt.Errorf("format: %s is not supported yet", format)
}

type noneSerde struct{}

func (noneSerde) Serialize([]types.Value) ([]byte, error)   { return nil, nil }
func (noneSerde) Deserialize([]byte) ([]types.Value, error) { return []types.Value{}, nil }
