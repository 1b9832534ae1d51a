package types

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
)

// Value is a SQL value: nil (NULL) or one of the Go types listed in the package doc.
type Value = any

// Row is a record positioned by its schema.
type Row = []Value

// DateValue is a DATE: days since 1970-01-01.
type DateValue int32

// TimeValue is a TIME of day: milliseconds since midnight.
type TimeValue int32

// TimestampValue is a TIMESTAMP: milliseconds since the Unix epoch (UTC).
type TimestampValue int64

// GoTime returns t as a time.Time in UTC.
func (t TimestampValue) GoTime() time.Time { return time.UnixMilli(int64(t)).UTC() }

// GoTime returns d at midnight UTC.
func (d DateValue) GoTime() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String renders like ksqlDB: 2020-01-31.
func (d DateValue) String() string { return d.GoTime().Format("2006-01-02") }

// String renders like ksqlDB: 12:34:56 (with .SSS when there are milliseconds).
func (t TimeValue) String() string {
	g := time.UnixMilli(int64(t)).UTC()
	if t%1000 != 0 {
		return g.Format("15:04:05.000")
	}
	return g.Format("15:04:05")
}

// String renders like ksqlDB: 2020-01-31T12:34:56.789.
func (t TimestampValue) String() string { return t.GoTime().Format("2006-01-02T15:04:05.000") }

// Map is an insertion-ordered MAP value. Lookups are linear for small maps and indexed past that.
type Map struct {
	Keys, Vals []Value
	index      map[any]int
}

// NewMap returns a map of the given entries; a repeated key keeps its first position and its last value,
// like the Java LinkedHashMap ksqlDB uses.
func NewMap(keys, vals []Value) *Map {
	m := &Map{}
	for i := range keys {
		m.put(keys[i], vals[i])
	}
	return m
}

func (m *Map) put(k, v Value) {
	if i, ok := m.find(k); ok {
		m.Vals[i] = v
		return
	}
	m.Keys = append(m.Keys, k)
	m.Vals = append(m.Vals, v)
	if m.index != nil || len(m.Keys) > 8 {
		m.reindex()
	}
}

func (m *Map) reindex() {
	m.index = make(map[any]int, len(m.Keys))
	for i, k := range m.Keys {
		if hk, ok := hashKey(k); ok {
			m.index[hk] = i
		}
	}
}

// hashKey returns a comparable Go value that identifies k, for keys whose Go representation is comparable.
func hashKey(k Value) (any, bool) {
	switch v := k.(type) {
	case nil, bool, int32, int64, float64, string, DateValue, TimeValue, TimestampValue:
		return v, true
	case *apd.Decimal:
		r := new(apd.Decimal)
		r.Reduce(v)
		return "D" + r.String(), true
	}
	return nil, false
}

func (m *Map) find(k Value) (int, bool) {
	if m.index != nil {
		if hk, ok := hashKey(k); ok {
			i, ok := m.index[hk]
			return i, ok
		}
	}
	for i, mk := range m.Keys {
		if Equal(mk, k) {
			return i, true
		}
	}
	return 0, false
}

// Get returns the value for key k.
func (m *Map) Get(k Value) (Value, bool) {
	i, ok := m.find(k)
	if !ok {
		return nil, false
	}
	return m.Vals[i], true
}

// Len returns the number of entries.
func (m *Map) Len() int { return len(m.Keys) }

// Struct is a STRUCT value; Vals is positioned by the struct type's Fields.
type Struct struct {
	Vals []Value
}

// IsTrue reports whether v is the BOOLEAN true (NULL and false are not).
func IsTrue(v Value) bool { b, ok := v.(bool); return ok && b }

// Equal reports SQL equality of two non-null values of comparable types; numbers of different kinds are
// compared after widening. Nil equals nil here (IS NOT DISTINCT FROM semantics); callers implementing `=`
// handle NULL first.
func Equal(a, b Value) bool {
	c, ok := Compare(a, b)
	return ok && c == 0
}

// Compare orders two values. ok is false when the values are not comparable (different type families).
// Nil sorts before everything.
func Compare(a, b Value) (int, bool) {
	if a == nil || b == nil {
		switch {
		case a == nil && b == nil:
			return 0, true
		case a == nil:
			return -1, true
		default:
			return 1, true
		}
	}
	switch x := a.(type) {
	case bool:
		y, ok := b.(bool)
		if !ok {
			return 0, false
		}
		switch {
		case x == y:
			return 0, true
		case !x:
			return -1, true
		}
		return 1, true
	case string:
		y, ok := b.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(x, y), true
	case []byte:
		y, ok := b.([]byte)
		if !ok {
			return 0, false
		}
		return bytes.Compare(x, y), true
	case int32, int64, float64, *apd.Decimal:
		return compareNumbers(a, b)
	case DateValue:
		y, ok := b.(DateValue)
		return cmpOrdered(x, y), ok
	case TimeValue:
		y, ok := b.(TimeValue)
		return cmpOrdered(x, y), ok
	case TimestampValue:
		y, ok := b.(TimestampValue)
		return cmpOrdered(x, y), ok
	case []Value:
		y, ok := b.([]Value)
		if !ok {
			return 0, false
		}
		for i := 0; i < len(x) && i < len(y); i++ {
			if c, ok := Compare(x[i], y[i]); !ok || c != 0 {
				return c, ok
			}
		}
		return cmpOrdered(len(x), len(y)), true
	case *Map:
		y, ok := b.(*Map)
		if !ok {
			return 0, false
		}
		if x.Len() != y.Len() {
			return cmpOrdered(x.Len(), y.Len()), true
		}
		for i, k := range x.Keys {
			v, ok := y.Get(k)
			if !ok {
				return 1, true
			}
			if c, ok := Compare(x.Vals[i], v); !ok || c != 0 {
				return c, ok
			}
		}
		return 0, true
	case *Struct:
		y, ok := b.(*Struct)
		if !ok {
			return 0, false
		}
		return Compare(x.Vals, y.Vals)
	}
	return 0, false
}

func cmpOrdered[T int | int32 | int64 | float64 | DateValue | TimeValue | TimestampValue](x, y T) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func compareNumbers(a, b Value) (int, bool) {
	switch x := a.(type) {
	case int32:
		switch y := b.(type) {
		case int32:
			return cmpOrdered(x, y), true
		case int64:
			return cmpOrdered(int64(x), y), true
		}
	case int64:
		switch y := b.(type) {
		case int32:
			return cmpOrdered(x, int64(y)), true
		case int64:
			return cmpOrdered(x, y), true
		}
	}
	_, ad := a.(*apd.Decimal)
	_, bd := b.(*apd.Decimal)
	_, af := a.(float64)
	_, bf := b.(float64)
	if (ad || bd) && !af && !bf {
		x, ok1 := ToDecimal(a)
		y, ok2 := ToDecimal(b)
		if !ok1 || !ok2 {
			return 0, false
		}
		return x.Cmp(y), true
	}
	x, ok1 := ToFloat(a)
	y, ok2 := ToFloat(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	// Java's Double.compare: NaN is greater than everything and equal to itself.
	switch {
	case math.IsNaN(x) && math.IsNaN(y):
		return 0, true
	case math.IsNaN(x):
		return 1, true
	case math.IsNaN(y):
		return -1, true
	}
	return cmpOrdered(x, y), true
}

// ToFloat converts a numeric value to float64.
func ToFloat(v Value) (float64, bool) {
	switch x := v.(type) {
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case float64:
		return x, true
	case *apd.Decimal:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// ToDecimal converts an INT, BIGINT or DECIMAL value to a decimal (exactly).
func ToDecimal(v Value) (*apd.Decimal, bool) {
	switch x := v.(type) {
	case int32:
		return apd.New(int64(x), 0), true
	case int64:
		return apd.New(x, 0), true
	case *apd.Decimal:
		return x, true
	case float64:
		d, err := DoubleToDecimal(x)
		return d, err == nil
	}
	return nil, false
}

// DoubleToDecimal converts f to a decimal with the digits Double.toString gives it, as Java's
// BigDecimal.valueOf(double) does (ksqlDB's CAST to DECIMAL, ROUND and TRUNC), not f's exact binary value.
func DoubleToDecimal(f float64) (*apd.Decimal, error) {
	d := new(apd.Decimal)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return d.SetFloat64(f)
	}
	_, _, err := d.SetString(JavaDouble(f))
	return d, err
}

// Format renders a value the way ksqlDB's CAST(x AS STRING) and string concatenation do (Java toString
// semantics: 1.0 for a DOUBLE, [1, 2] for an ARRAY, {k=v} for a MAP, Struct{F=1} for a STRUCT).
func Format(v Value) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return JavaDouble(x)
	case *apd.Decimal:
		return DecimalString(x)
	case string:
		return x
	case []byte:
		return fmt.Sprintf("%v", x)
	case DateValue:
		return x.String()
	case TimeValue:
		return x.String()
	case TimestampValue:
		return x.String()
	case []Value:
		var b strings.Builder
		b.WriteString("[")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(Format(e))
		}
		b.WriteString("]")
		return b.String()
	case *Map:
		var b strings.Builder
		b.WriteString("{")
		for i := range x.Keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(Format(x.Keys[i]))
			b.WriteString("=")
			b.WriteString(Format(x.Vals[i]))
		}
		b.WriteString("}")
		return b.String()
	case *Struct:
		var b strings.Builder
		b.WriteString("Struct{")
		for i, e := range x.Vals {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(Format(e))
		}
		b.WriteString("}")
		return b.String()
	}
	return fmt.Sprint(v)
}

// FormatStruct renders a struct value with its field names, as Java's Struct.toString does:
// Struct{A=1,B=x}. Null fields are omitted, like Kafka Connect's Struct.
func FormatStruct(t *Type, s *Struct) string {
	var b strings.Builder
	b.WriteString("Struct{")
	first := true
	for i, f := range t.Fields {
		if s.Vals[i] == nil {
			continue
		}
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString(f.Name)
		b.WriteString("=")
		if f.Type.Kind == KindStruct {
			b.WriteString(FormatStruct(f.Type, s.Vals[i].(*Struct)))
		} else {
			b.WriteString(Format(s.Vals[i]))
		}
	}
	b.WriteString("}")
	return b.String()
}
