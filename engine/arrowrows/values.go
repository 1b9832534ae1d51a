package arrowrows

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/cockroachdb/apd/v3"

	"github.com/seichedb/seiche/sql/types"
)

// check reports why v cannot be appended as a value of t, or nil. Write checks a whole row before
// appending any of it, because builders cannot take back a half-appended row.
func check(t *types.Type, v types.Value) error {
	if v == nil {
		return nil
	}
	ok := false
	switch t.Kind {
	case types.KindBoolean:
		_, ok = v.(bool)
	case types.KindInt:
		_, ok = v.(int32)
	case types.KindBigint:
		_, ok = v.(int64)
	case types.KindDouble:
		_, ok = v.(float64)
	case types.KindDecimal:
		d, isDec := v.(*apd.Decimal)
		if isDec && d == nil {
			return errTypedNil(v)
		}
		if isDec {
			_, err := decimalNum(d, t)
			return err
		}
	case types.KindString:
		_, ok = v.(string)
	case types.KindBytes:
		_, ok = v.([]byte)
	case types.KindDate:
		_, ok = v.(types.DateValue)
	case types.KindTime:
		_, ok = v.(types.TimeValue)
	case types.KindTimestamp:
		_, ok = v.(types.TimestampValue)
	case types.KindArray:
		a, isArr := v.([]types.Value)
		if isArr {
			for i, e := range a {
				if err := check(t.Elem, e); err != nil {
					return fmt.Errorf("element %d: %w", i, err)
				}
			}
			return nil
		}
	case types.KindMap:
		m, isMap := v.(*types.Map)
		if isMap && m == nil {
			return errTypedNil(v)
		}
		if isMap {
			if len(m.Keys) != len(m.Vals) {
				return fmt.Errorf("map with %d keys and %d values", len(m.Keys), len(m.Vals))
			}
			for i, k := range m.Keys {
				if k == nil {
					return fmt.Errorf("NULL map key (Arrow map keys are never null)")
				}
				if err := check(t.Key, k); err != nil {
					return fmt.Errorf("map key %d: %w", i, err)
				}
				if err := check(t.Elem, m.Vals[i]); err != nil {
					return fmt.Errorf("value of map key %s: %w", types.Format(k), err)
				}
			}
			return nil
		}
	case types.KindStruct:
		s, isStruct := v.(*types.Struct)
		if isStruct && s == nil {
			return errTypedNil(v)
		}
		if isStruct {
			if len(s.Vals) != len(t.Fields) {
				return fmt.Errorf("struct with %d values for %d fields", len(s.Vals), len(t.Fields))
			}
			for i, f := range t.Fields {
				if err := check(f.Type, s.Vals[i]); err != nil {
					return fmt.Errorf("field %q: %w", f.Name, err)
				}
			}
			return nil
		}
	}
	if !ok {
		return fmt.Errorf("%T is not the Go type of %s", v, t)
	}
	return nil
}

// errTypedNil rejects a nil pointer in an interface, which is not SQL NULL (a nil interface is).
func errTypedNil(v types.Value) error { return fmt.Errorf("nil %T (NULL is a nil Value)", v) }

// decimalNum returns d as a decimal128 at t's scale. A value not at its type's scale (which package
// types promises never to produce) is rounded HALF_UP, as a CAST to t would.
func decimalNum(d *apd.Decimal, t *types.Type) (decimal128.Num, error) {
	if d.Form != apd.Finite {
		return decimal128.Num{}, fmt.Errorf("%s is not a finite decimal", d)
	}
	if d.Exponent != int32(-t.Scale) {
		r, err := types.RoundDecimal(d, t.Precision, t.Scale)
		if err != nil {
			return decimal128.Num{}, err
		}
		d = r
	}
	c := d.Coeff.MathBigInt()
	if c.BitLen() > 127 {
		return decimal128.Num{}, fmt.Errorf("%s does not fit %s", types.DecimalString(d), t)
	}
	n := decimal128.FromBigInt(c)
	if d.Negative {
		n = n.Negate()
	}
	if !n.FitsInPrecision(int32(t.Precision)) {
		return decimal128.Num{}, fmt.Errorf("%s does not fit %s", types.DecimalString(d), t)
	}
	return n, nil
}

// appender appends one value, already checked against its column's type, to the builder it was made
// for. Builders survive RecordBuilder.NewRecordBatch, so appenders are made once per Writer.
type appender func(v types.Value)

func newAppender(t *types.Type, b array.Builder) appender {
	switch t.Kind {
	case types.KindBoolean:
		b := b.(*array.BooleanBuilder)
		return nullOr(b, func(v types.Value) { b.Append(v.(bool)) })
	case types.KindInt:
		b := b.(*array.Int32Builder)
		return nullOr(b, func(v types.Value) { b.Append(v.(int32)) })
	case types.KindBigint:
		b := b.(*array.Int64Builder)
		return nullOr(b, func(v types.Value) { b.Append(v.(int64)) })
	case types.KindDouble:
		b := b.(*array.Float64Builder)
		return nullOr(b, func(v types.Value) { b.Append(v.(float64)) })
	case types.KindDecimal:
		b := b.(*array.Decimal128Builder)
		return nullOr(b, func(v types.Value) {
			n, _ := decimalNum(v.(*apd.Decimal), t) // checked
			b.Append(n)
		})
	case types.KindString:
		b := b.(*array.StringBuilder)
		return nullOr(b, func(v types.Value) { b.Append(v.(string)) })
	case types.KindBytes:
		b := b.(*array.BinaryBuilder)
		return nullOr(b, func(v types.Value) { b.Append(v.([]byte)) })
	case types.KindDate:
		b := b.(*array.Date32Builder)
		return nullOr(b, func(v types.Value) { b.Append(arrow.Date32(v.(types.DateValue))) })
	case types.KindTime:
		b := b.(*array.Time32Builder)
		return nullOr(b, func(v types.Value) { b.Append(arrow.Time32(v.(types.TimeValue))) })
	case types.KindTimestamp:
		b := b.(*array.TimestampBuilder)
		return nullOr(b, func(v types.Value) { b.Append(arrow.Timestamp(v.(types.TimestampValue))) })
	case types.KindArray:
		b := b.(*array.ListBuilder)
		elem := newAppender(t.Elem, b.ValueBuilder())
		return nullOr(b, func(v types.Value) {
			b.Append(true)
			for _, e := range v.([]types.Value) {
				elem(e)
			}
		})
	case types.KindMap:
		b := b.(*array.MapBuilder)
		key := newAppender(t.Key, b.KeyBuilder())
		val := newAppender(t.Elem, b.ItemBuilder())
		return nullOr(b, func(v types.Value) {
			m := v.(*types.Map)
			b.Append(true)
			for i, k := range m.Keys {
				key(k)
				val(m.Vals[i])
			}
		})
	case types.KindStruct:
		b := b.(*array.StructBuilder)
		fields := make([]appender, len(t.Fields))
		for i, f := range t.Fields {
			fields[i] = newAppender(f.Type, b.FieldBuilder(i))
		}
		return nullOr(b, func(v types.Value) {
			b.Append(true)
			for i, e := range v.(*types.Struct).Vals {
				fields[i](e)
			}
		})
	}
	// Schema has rejected every other kind.
	panic(fmt.Sprintf("arrowrows: no appender for %s", t))
}

func nullOr(b array.Builder, f appender) appender {
	return func(v types.Value) {
		if v == nil {
			b.AppendNull()
			return
		}
		f(v)
	}
}
