package format

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/apd/v3"
	"github.com/seichedb/seiche/sql/types"
)

// jsonSerde is ksqlDB's JSON format. Wrapped, a record is an object with one field per column; field names
// are matched case-insensitively on read (ksqlDB upper-cases them) and written as the column names.
// Unwrapped (a single column with WRAP_SINGLE_VALUE=false, and single-column keys by default), the record
// is the column's value itself. Reading is lenient like ksqlDB's: numbers from strings, strings from any
// scalar. DECIMAL is a JSON number; TIMESTAMP, TIME and DATE are numbers (millis, millis, days); BYTES are
// base64 strings.
type jsonSerde struct {
	cols []types.Column
	// upper holds the columns' names upper-cased, for matching field names without case.
	upper []string
	// fieldNames holds each column's name as the writer starts its field: quoted, then a colon.
	fieldNames [][]byte
	wrap       bool
	// unread marks the columns Deserialize checks but leaves NULL (Options.Unread); nil for none.
	unread []bool
	// layout is the fast path's last field layout (fieldsOf), shared by the goroutines using the
	// serde: each reads an immutable one and may replace it.
	layout *atomic.Pointer[fieldLayout]
}

func newJSONSerde(cols []types.Column, wrap bool) *jsonSerde {
	s := &jsonSerde{cols: cols, wrap: wrap, layout: new(atomic.Pointer[fieldLayout])}
	for _, c := range cols {
		s.upper = append(s.upper, strings.ToUpper(c.Name))
		var b bytes.Buffer
		writeJSONString(&b, c.Name)
		b.WriteByte(':')
		s.fieldNames = append(s.fieldNames, b.Bytes())
	}
	return s
}

// isUnread reports whether column i is one Deserialize need not build.
func (s *jsonSerde) isUnread(i int) bool { return i < len(s.unread) && s.unread[i] }

func (s *jsonSerde) Serialize(vals []types.Value) ([]byte, error) {
	if vals == nil {
		return nil, nil
	}
	if !s.wrap {
		if vals[0] == nil {
			return nil, nil
		}
		return appendJSON(make([]byte, 0, jsonSizeHint(vals[0])), s.cols[0].Type, vals[0])
	}
	size := 2
	for i, name := range s.fieldNames {
		size += len(name) + 1 + jsonSizeHint(vals[i])
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	var err error
	for i, c := range s.cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, s.fieldNames[i]...)
		if b, err = appendJSON(b, c.Type, vals[i]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// jsonSizeHint guesses how many bytes appendJSON writes for v, so that a record's buffer is allocated
// once: exact for plain strings and integers, enough for any other number, a guess for the rest.
func jsonSizeHint(v types.Value) int {
	switch x := v.(type) {
	case nil:
		return 4
	case string:
		return len(x) + 2
	case int64:
		return intLen(x)
	case int32:
		return intLen(int64(x))
	case types.TimestampValue:
		return intLen(int64(x))
	case []byte:
		return base64.StdEncoding.EncodedLen(len(x)) + 2
	case []types.Value, *types.Map, *types.Struct:
		return 64
	}
	return 24
}

// intLen is the length of i in decimal.
func intLen(i int64) int {
	n := 1
	u := uint64(i)
	if i < 0 {
		n++
		u = -u
	}
	for ; u >= 10; u /= 10 {
		n++
	}
	return n
}

func writeJSONString(b *bytes.Buffer, s string) { b.Write(appendJSONString(b.AvailableBuffer(), s)) }

// appendJSONString appends s as a JSON string, escaped as encoding/json escapes it.
func appendJSONString(b []byte, s string) []byte {
	if plainJSONString(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	enc, _ := json.Marshal(s)
	return append(b, enc...)
}

func writeJSON(b *bytes.Buffer, t *types.Type, v types.Value) error {
	out, err := appendJSON(b.AvailableBuffer(), t, v)
	b.Write(out)
	return err
}

// appendJSON appends v, of type t, as JSON.
func appendJSON(b []byte, t *types.Type, v types.Value) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}
	var err error
	switch x := v.(type) {
	case bool:
		b = strconv.AppendBool(b, x)
	case int32:
		b = strconv.AppendInt(b, int64(x), 10)
	case int64:
		b = strconv.AppendInt(b, x, 10)
	case float64:
		// Jackson writes a double with Double.toString, and NaN and the infinities as strings.
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return appendJSONString(b, types.JavaDouble(x)), nil
		}
		b = types.AppendJavaDouble(b, x)
	case *apd.Decimal:
		b = types.AppendDecimal(b, x)
	case string:
		b = appendJSONString(b, x)
	case []byte:
		b = appendJSONString(b, base64.StdEncoding.EncodeToString(x))
	case types.TimestampValue:
		b = strconv.AppendInt(b, int64(x), 10)
	case types.TimeValue:
		b = strconv.AppendInt(b, int64(x), 10)
	case types.DateValue:
		b = strconv.AppendInt(b, int64(x), 10)
	case []types.Value:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendJSON(b, t.Elem, e); err != nil {
				return b, err
			}
		}
		b = append(b, ']')
	case *types.Map:
		b = append(b, '{')
		for i := range x.Keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, types.Format(x.Keys[i]))
			b = append(b, ':')
			if b, err = appendJSON(b, t.Elem, x.Vals[i]); err != nil {
				return b, err
			}
		}
		b = append(b, '}')
	case *types.Struct:
		b = append(b, '{')
		for i, f := range t.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, f.Name)
			b = append(b, ':')
			if b, err = appendJSON(b, f.Type, x.Vals[i]); err != nil {
				return b, err
			}
		}
		b = append(b, '}')
	default:
		return b, fmt.Errorf("format: JSON cannot serialize %T", v)
	}
	return b, nil
}

func (s *jsonSerde) Deserialize(data []byte) ([]types.Value, error) {
	if data == nil {
		return nil, nil
	}
	if out, ok := s.deserializeFast(data); ok {
		return out, nil
	}
	return s.deserializeGeneral(data)
}

// DeserializeInto implements IntoDeserializer.
func (s *jsonSerde) DeserializeInto(dst []types.Value, pos []int, data []byte) (bool, error) {
	if data == nil {
		return true, nil
	}
	if s.deserializeFastInto(dst, pos, data) {
		return false, nil
	}
	out, err := s.deserializeGeneral(data)
	if err != nil || out == nil {
		return out == nil, err
	}
	for i, v := range out {
		if pos != nil {
			dst[pos[i]] = v
		} else {
			dst[i] = v
		}
	}
	return false, nil
}

// deserializeGeneral is Deserialize by decoding the whole record first (decodeJSON), then converting
// each column's value (fromJSON). It decides every record deserializeFast leaves to it and words the
// errors. It builds the unread columns too: they are checked by converting them, and the caller
// ignores them.
func (s *jsonSerde) deserializeGeneral(data []byte) ([]types.Value, error) {
	raw, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("format: invalid JSON: %v", err)
	}
	if raw == nil {
		if s.wrap {
			return nil, nil
		}
		return []types.Value{nil}, nil
	}
	if !s.wrap {
		v, err := fromJSON(raw, s.cols[0].Type)
		if err != nil {
			return nil, err
		}
		return []types.Value{v}, nil
	}
	o, ok := raw.(*jsonObject)
	if !ok {
		// ksqlDB accepts an unwrapped value for a single-column schema.
		if len(s.cols) == 1 {
			v, err := fromJSON(raw, s.cols[0].Type)
			if err != nil {
				return nil, err
			}
			return []types.Value{v}, nil
		}
		return nil, fmt.Errorf("format: expected a JSON object, got %s", string(data))
	}
	obj := o.vals
	upper := upperFields(o)
	out := make([]types.Value, len(s.cols))
	for i, c := range s.cols {
		rv, ok := obj[c.Name]
		if !ok {
			rv = upper[strings.ToUpper(c.Name)]
		}
		v, err := fromJSON(rv, c.Type)
		if err != nil {
			return nil, fmt.Errorf("format: field %s: %w", c.Name, err)
		}
		out[i] = v
	}
	return out, nil
}

// upperFields maps o's keys upper-cased to their values. Where several keys upper-case alike, the
// last in the document wins, as in ksqlDB, which upper-cases an object's fields into a map in
// document order (and as a Go map's iteration order would not decide).
func upperFields(o *jsonObject) map[string]any {
	upper := make(map[string]any, len(o.keys))
	for _, k := range o.keys {
		upper[strings.ToUpper(k)] = o.vals[k]
	}
	return upper
}

func jsonText(raw any) (string, bool) {
	switch x := raw.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// fromJSON converts a decoded JSON value (with json.Number numbers) to a value of type t.
func fromJSON(raw any, t *types.Type) (types.Value, error) {
	if raw == nil {
		return nil, nil
	}
	switch t.Kind {
	case types.KindBoolean:
		switch x := raw.(type) {
		case bool:
			return x, nil
		case string:
			return types.ParseBoolean(x)
		}
	case types.KindInt, types.KindBigint, types.KindDouble, types.KindDecimal, types.KindTimestamp, types.KindTime, types.KindDate:
		txt, ok := jsonText(raw)
		if !ok {
			break
		}
		if _, isBool := raw.(bool); isBool {
			break
		}
		switch t.Kind {
		case types.KindInt, types.KindBigint:
			i, err := strconv.ParseInt(txt, 10, 64)
			if err != nil {
				f, ferr := strconv.ParseFloat(txt, 64)
				if ferr != nil {
					return nil, fmt.Errorf("Can't convert type. sourceType: %T, requiredType: %s, path: %s", raw, t, txt)
				}
				i = int64(f)
			}
			if t.Kind == types.KindInt {
				return int32(i), nil
			}
			return i, nil
		case types.KindDouble:
			f, err := strconv.ParseFloat(txt, 64)
			if err != nil {
				return nil, fmt.Errorf("Can't convert type. requiredType: DOUBLE, value: %s", txt)
			}
			return f, nil
		case types.KindDecimal:
			d, _, err := apd.NewFromString(txt)
			if err != nil {
				return nil, fmt.Errorf("Can't convert type. requiredType: %s, value: %s", t, txt)
			}
			return types.RoundDecimal(d, t.Precision, t.Scale)
		case types.KindTimestamp:
			if i, err := strconv.ParseInt(txt, 10, 64); err == nil {
				return types.TimestampValue(i), nil
			}
			return types.ParseTimestamp(txt)
		case types.KindTime:
			if i, err := strconv.ParseInt(txt, 10, 32); err == nil {
				return types.TimeValue(i), nil
			}
			return types.ParseTime(txt)
		case types.KindDate:
			if i, err := strconv.ParseInt(txt, 10, 32); err == nil {
				return types.DateValue(i), nil
			}
			return types.ParseDate(txt)
		}
	case types.KindString:
		if txt, ok := jsonText(raw); ok {
			return txt, nil
		}
		enc, _ := json.Marshal(raw)
		return string(enc), nil
	case types.KindBytes:
		if s, ok := raw.(string); ok {
			return base64.StdEncoding.DecodeString(s)
		}
	case types.KindArray:
		if arr, ok := raw.([]any); ok {
			out := make([]types.Value, len(arr))
			for i, e := range arr {
				v, err := fromJSON(e, t.Elem)
				if err != nil {
					return nil, err
				}
				out[i] = v
			}
			return out, nil
		}
	case types.KindMap:
		if o, ok := raw.(*jsonObject); ok {
			keys := make([]types.Value, 0, len(o.keys))
			vals := make([]types.Value, 0, len(o.keys))
			for _, k := range javaHashOrder(o.keys) {
				v, err := fromJSON(o.vals[k], t.Elem)
				if err != nil {
					return nil, err
				}
				kv, err := fromJSON(k, t.Key)
				if err != nil {
					return nil, err
				}
				keys, vals = append(keys, kv), append(vals, v)
			}
			return types.NewMap(keys, vals), nil
		}
	case types.KindStruct:
		if o, ok := raw.(*jsonObject); ok {
			obj := o.vals
			upper := upperFields(o)
			out := &types.Struct{Vals: make([]types.Value, len(t.Fields))}
			for i, f := range t.Fields {
				rv, ok := obj[f.Name]
				if !ok {
					rv = upper[strings.ToUpper(f.Name)]
				}
				v, err := fromJSON(rv, f.Type)
				if err != nil {
					return nil, err
				}
				out.Vals[i] = v
			}
			return out, nil
		}
	}
	return nil, fmt.Errorf("Can't convert type. sourceType: %s, requiredType: %s", jsonKind(raw), t)
}

func jsonKind(raw any) string {
	switch raw.(type) {
	case *jsonObject:
		return "ObjectNode"
	case []any:
		return "ArrayNode"
	case string:
		return "TextNode"
	case bool:
		return "BooleanNode"
	case json.Number:
		return "NumericNode"
	}
	return fmt.Sprintf("%T", raw)
}

// AppendJSON appends v, of type t, as JSON the way the JSON format writes it: one encoder for SQL
// values everywhere (topics, REST results).
func AppendJSON(b *bytes.Buffer, t *types.Type, v types.Value) error { return writeJSON(b, t, v) }
