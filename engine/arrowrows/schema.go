package arrowrows

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"

	"github.com/seichedb/seiche/sql/types"
)

// Schema returns the Arrow schema of rows of the given columns: one nullable field per column, named as
// the column, typed as the package doc lists. It fails for a type that is never a column type (NULL,
// an interval unit, a lambda) and for a DECIMAL outside decimal128 (precision 1 to 38, scale 0 to
// precision).
func Schema(cols []types.Column) (*arrow.Schema, error) {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		t, err := arrowType(c.Type)
		if err != nil {
			return nil, fmt.Errorf("arrowrows: column %q: %w", c.Name, err)
		}
		fields[i] = arrow.Field{Name: c.Name, Type: t, Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

// timestampType is TIMESTAMP's Arrow type: an instant, in Seiche's unit.
var timestampType = &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}

func arrowType(t *types.Type) (arrow.DataType, error) {
	if t == nil {
		return nil, fmt.Errorf("no type")
	}
	switch t.Kind {
	case types.KindBoolean:
		return arrow.FixedWidthTypes.Boolean, nil
	case types.KindInt:
		return arrow.PrimitiveTypes.Int32, nil
	case types.KindBigint:
		return arrow.PrimitiveTypes.Int64, nil
	case types.KindDouble:
		return arrow.PrimitiveTypes.Float64, nil
	case types.KindDecimal:
		if t.Precision < 1 || t.Precision > decimal128.MaxPrecision || t.Scale < 0 || t.Scale > t.Precision {
			return nil, fmt.Errorf("%s does not fit decimal128 (precision 1 to %d, scale 0 to precision)",
				t, decimal128.MaxPrecision)
		}
		return &arrow.Decimal128Type{Precision: int32(t.Precision), Scale: int32(t.Scale)}, nil
	case types.KindString:
		return arrow.BinaryTypes.String, nil
	case types.KindBytes:
		return arrow.BinaryTypes.Binary, nil
	case types.KindDate:
		return arrow.FixedWidthTypes.Date32, nil
	case types.KindTime:
		return arrow.FixedWidthTypes.Time32ms, nil
	case types.KindTimestamp:
		return timestampType, nil
	case types.KindArray:
		elem, err := arrowType(t.Elem)
		if err != nil {
			return nil, fmt.Errorf("array element: %w", err)
		}
		return arrow.ListOfField(arrow.Field{Name: "item", Type: elem, Nullable: true}), nil
	case types.KindMap:
		key, err := arrowType(t.Key)
		if err != nil {
			return nil, fmt.Errorf("map key: %w", err)
		}
		val, err := arrowType(t.Elem)
		if err != nil {
			return nil, fmt.Errorf("map value: %w", err)
		}
		return arrow.MapOfFields(arrow.Field{Type: key}, arrow.Field{Type: val, Nullable: true}), nil
	case types.KindStruct:
		fields := make([]arrow.Field, len(t.Fields))
		for i, f := range t.Fields {
			ft, err := arrowType(f.Type)
			if err != nil {
				return nil, fmt.Errorf("struct field %q: %w", f.Name, err)
			}
			fields[i] = arrow.Field{Name: f.Name, Type: ft, Nullable: true}
		}
		return arrow.StructOf(fields...), nil
	}
	return nil, fmt.Errorf("%s has no Arrow type", t)
}
