package types

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"
)

// Converter converts a non-nil value of one type to another; nil is always passed through by callers.
type Converter func(Value) (Value, error)

// Widener returns the converter that implements the implicit widening from → to (see CanWiden), or nil if
// no conversion is needed.
func Widener(from, to *Type) Converter {
	if from.Kind == KindNull || from.Equal(to) {
		return nil
	}
	c, err := Caster(from, to)
	if err != nil {
		return nil
	}
	return c
}

// Caster returns the conversion of CAST(x AS to) for a value of type from, following ksqlDB's cast rules:
// anything to STRING; numbers to numbers (DOUBLE to INT truncates toward zero, to DECIMAL rounds half up and
// fails when the value needs more digits than the precision); STRING to numbers, BOOLEAN, DATE, TIME,
// TIMESTAMP by parsing; TIMESTAMP to DATE and TIME and DATE to TIMESTAMP; ARRAY, MAP and STRUCT element-wise.
func Caster(from, to *Type) (Converter, error) {
	if from.Kind == KindNull || from.Equal(to) {
		return func(v Value) (Value, error) { return v, nil }, nil
	}
	if to.Kind == KindString {
		if from.Kind == KindStruct {
			return func(v Value) (Value, error) { return FormatStruct(from, v.(*Struct)), nil }, nil
		}
		return func(v Value) (Value, error) { return Format(v), nil }, nil
	}
	switch to.Kind {
	case KindInt, KindBigint, KindDouble, KindDecimal:
		switch {
		case from.IsNumeric():
			return numberCaster(to), nil
		case from.Kind == KindString:
			nc := numberCaster(to)
			return func(v Value) (Value, error) {
				s := strings.TrimSpace(v.(string))
				var n Value
				switch to.Kind {
				case KindInt, KindBigint:
					i, err := strconv.ParseInt(s, 10, 64)
					if err != nil {
						return nil, fmt.Errorf("Cannot convert %q to %s", s, to)
					}
					if to.Kind == KindInt && (i > math.MaxInt32 || i < math.MinInt32) {
						return nil, fmt.Errorf("Cannot convert %q to %s", s, to)
					}
					n = i
				case KindDouble:
					f, err := strconv.ParseFloat(s, 64)
					if err != nil {
						return nil, fmt.Errorf("Cannot convert %q to %s", s, to)
					}
					n = f
				default:
					d, err := ParseDecimal(s)
					if err != nil {
						return nil, err
					}
					n = d
				}
				return nc(n)
			}, nil
		}
	case KindBoolean:
		if from.Kind == KindString {
			return func(v Value) (Value, error) { return ParseBoolean(v.(string)) }, nil
		}
	case KindTimestamp:
		switch from.Kind {
		case KindString:
			return func(v Value) (Value, error) { return ParseTimestamp(v.(string)) }, nil
		case KindDate:
			return func(v Value) (Value, error) { return TimestampValue(int64(v.(DateValue)) * 86_400_000), nil }, nil
		}
	case KindDate:
		switch from.Kind {
		case KindString:
			return func(v Value) (Value, error) { return ParseDate(v.(string)) }, nil
		case KindTimestamp:
			return func(v Value) (Value, error) {
				return DateValue(floorDiv(int64(v.(TimestampValue)), 86_400_000)), nil
			}, nil
		}
	case KindTime:
		switch from.Kind {
		case KindString:
			return func(v Value) (Value, error) { return ParseTime(v.(string)) }, nil
		case KindTimestamp:
			return func(v Value) (Value, error) {
				ms := int64(v.(TimestampValue)) % 86_400_000
				if ms < 0 {
					ms += 86_400_000
				}
				return TimeValue(ms), nil
			}, nil
		}
	case KindBytes:
	case KindArray:
		if from.Kind == KindArray {
			ec, err := Caster(from.Elem, to.Elem)
			if err != nil {
				return nil, err
			}
			return func(v Value) (Value, error) {
				in := v.([]Value)
				out := make([]Value, len(in))
				for i, e := range in {
					if e == nil {
						continue
					}
					c, err := ec(e)
					if err != nil {
						return nil, err
					}
					out[i] = c
				}
				return out, nil
			}, nil
		}
	case KindMap:
		if from.Kind == KindMap {
			kc, err := Caster(from.Key, to.Key)
			if err != nil {
				return nil, err
			}
			vc, err := Caster(from.Elem, to.Elem)
			if err != nil {
				return nil, err
			}
			return func(v Value) (Value, error) {
				in := v.(*Map)
				keys, vals := make([]Value, in.Len()), make([]Value, in.Len())
				for i := range in.Keys {
					k, err := castNullable(kc, in.Keys[i])
					if err != nil {
						return nil, err
					}
					val, err := castNullable(vc, in.Vals[i])
					if err != nil {
						return nil, err
					}
					keys[i], vals[i] = k, val
				}
				return NewMap(keys, vals), nil
			}, nil
		}
	case KindStruct:
		if from.Kind == KindStruct {
			// Fields are matched by name; fields missing from the source are null.
			idx := make([]int, len(to.Fields))
			convs := make([]Converter, len(to.Fields))
			for i, f := range to.Fields {
				idx[i] = from.FieldIndex(f.Name)
				if idx[i] >= 0 {
					c, err := Caster(from.Fields[idx[i]].Type, f.Type)
					if err != nil {
						return nil, err
					}
					convs[i] = c
				}
			}
			return func(v Value) (Value, error) {
				in := v.(*Struct)
				out := &Struct{Vals: make([]Value, len(to.Fields))}
				for i := range to.Fields {
					if idx[i] < 0 {
						continue
					}
					c, err := castNullable(convs[i], in.Vals[idx[i]])
					if err != nil {
						return nil, err
					}
					out.Vals[i] = c
				}
				return out, nil
			}, nil
		}
	}
	return nil, fmt.Errorf("Cast of %s to %s is not supported", from, to)
}

func castNullable(c Converter, v Value) (Value, error) {
	if v == nil {
		return nil, nil
	}
	return c(v)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func numberCaster(to *Type) Converter {
	switch to.Kind {
	case KindInt:
		return func(v Value) (Value, error) {
			switch x := v.(type) {
			case int32:
				return x, nil
			case int64:
				return int32(x), nil
			case float64:
				return int32(javaD2L(x)), nil
			case *apd.Decimal:
				i, err := decimalToInt64(x)
				return int32(i), err
			}
			return nil, fmt.Errorf("cannot cast %T to INTEGER", v)
		}
	case KindBigint:
		return func(v Value) (Value, error) {
			switch x := v.(type) {
			case int32:
				return int64(x), nil
			case int64:
				return x, nil
			case float64:
				return javaD2L(x), nil
			case *apd.Decimal:
				return decimalToInt64(x)
			}
			return nil, fmt.Errorf("cannot cast %T to BIGINT", v)
		}
	case KindDouble:
		return func(v Value) (Value, error) {
			f, ok := ToFloat(v)
			if !ok {
				return nil, fmt.Errorf("cannot cast %T to DOUBLE", v)
			}
			return f, nil
		}
	}
	return func(v Value) (Value, error) {
		d, ok := ToDecimal(v)
		if !ok {
			return nil, fmt.Errorf("cannot cast %T to %s", v, to)
		}
		return RoundDecimal(d, to.Precision, to.Scale)
	}
}

// javaD2L is Java's (long) cast of a double: truncation toward zero, NaN to 0, saturating at the bounds.
func javaD2L(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

func decimalToInt64(d *apd.Decimal) (int64, error) {
	t := new(apd.Decimal)
	if _, err := decCtx.RoundToIntegralValue(t, truncated(d)); err != nil {
		return 0, err
	}
	return t.Int64()
}

func truncated(d *apd.Decimal) *apd.Decimal {
	r := new(apd.Decimal)
	c := decCtx
	c.Rounding = apd.RoundDown
	_, _ = c.Quantize(r, d, 0)
	return r
}

// ParseBoolean parses a BOOLEAN the way ksqlDB's SqlBooleans does: any non-empty prefix of true or yes
// is true, of false or no is false, in any case.
func ParseBoolean(s string) (Value, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	if l != "" {
		switch {
		case strings.HasPrefix("true", l), strings.HasPrefix("yes", l):
			return true, nil
		case strings.HasPrefix("false", l), strings.HasPrefix("no", l):
			return false, nil
		}
	}
	return nil, fmt.Errorf("invalid input syntax for type BOOLEAN: \"%s\".", s)
}

// ParseTimestamp parses an ISO-8601 timestamp as ksqlDB accepts it: 2020-01-02T03:04:05[.SSS][Z|+hh:mm],
// with the time part optional (midnight); without a zone it is UTC.
func ParseTimestamp(s string) (Value, error) {
	s = strings.TrimSpace(s)
	layouts := []string{"2006-01-02T15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999",
		"2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02T15:04",
		"2006-01-02T15", "2006-01-02", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05",
		"2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05Z0700"}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return TimestampValue(t.UnixMilli()), nil
		}
	}
	return nil, fmt.Errorf("Failed to parse timestamp '%s': Text '%s' could not be parsed", s, s)
}

// ParseDate parses yyyy-MM-dd.
func ParseDate(s string) (Value, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("Failed to parse date '%s'", s)
	}
	return DateValue(floorDiv(t.Unix(), 86400)), nil
}

// ParseTime parses HH:mm[:ss[.SSS]].
func ParseTime(s string) (Value, error) {
	s = strings.TrimSpace(s)
	for _, l := range []string{"15:04:05.999999999", "15:04:05", "15:04"} {
		if t, err := time.Parse(l, s); err == nil {
			return TimeValue(t.Hour()*3_600_000 + t.Minute()*60_000 + t.Second()*1000 + t.Nanosecond()/1e6), nil
		}
	}
	return nil, fmt.Errorf("Failed to parse time '%s'", s)
}
