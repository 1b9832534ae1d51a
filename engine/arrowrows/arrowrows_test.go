package arrowrows

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/cockroachdb/apd/v3"

	"github.com/seichedb/seiche/sql/types"
)

func dec(s string) *apd.Decimal {
	d, err := types.ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// allTypes has a column of every SQL type, and nested types inside each other.
var allTypes = []types.Column{
	{Name: "B", Type: types.Boolean},
	{Name: "I", Type: types.Int},
	{Name: "L", Type: types.Bigint},
	{Name: "D", Type: types.Double},
	{Name: "DEC", Type: types.DecimalOf(38, 4)},
	{Name: "S", Type: types.String},
	{Name: "BY", Type: types.Bytes},
	{Name: "DT", Type: types.Date},
	{Name: "T", Type: types.Time},
	{Name: "TS", Type: types.Timestamp},
	{Name: "ARR", Type: types.ArrayOf(types.Int)},
	{Name: "M", Type: types.MapOf(types.String, types.DecimalOf(5, 2))},
	{Name: "ST", Type: types.StructOf(
		types.Field{Name: "A", Type: types.String},
		types.Field{Name: "inner", Type: types.StructOf(types.Field{Name: "X", Type: types.Bigint})},
	)},
	{Name: "nested", Type: types.ArrayOf(types.MapOf(types.Int, types.ArrayOf(types.StructOf(
		types.Field{Name: "TS", Type: types.Timestamp},
		types.Field{Name: "BY", Type: types.Bytes},
	))))},
	{Name: "lower case, spaces", Type: types.String},
}

const allTypesSchema = `schema:
  fields: 15
    - B: type=bool, nullable
    - I: type=int32, nullable
    - L: type=int64, nullable
    - D: type=float64, nullable
    - DEC: type=decimal(38, 4), nullable
    - S: type=utf8, nullable
    - BY: type=binary, nullable
    - DT: type=date32, nullable
    - T: type=time32[ms], nullable
    - TS: type=timestamp[ms, tz=UTC], nullable
    - ARR: type=list<item: int32, nullable>, nullable
    - M: type=map<utf8, decimal(5, 2), items_nullable>, nullable
    - ST: type=struct<A: utf8 nullable, inner: struct<X: int64 nullable> nullable>, nullable
    - nested: type=list<item: map<int32, list<item: struct<TS: timestamp[ms, tz=UTC] nullable, BY: binary nullable>, nullable>, items_nullable>, nullable>, nullable
    - lower case, spaces: type=utf8, nullable`

func allTypesRows() []types.Row {
	st := func(a, x types.Value) *types.Struct {
		return &types.Struct{Vals: []types.Value{a, &types.Struct{Vals: []types.Value{x}}}}
	}
	return []types.Row{
		{
			true, int32(-7), int64(math.MaxInt64), 1.5, dec("-1234567890123456789012345678901234.5678"),
			"héllo", []byte{0, 1, 255}, types.DateValue(-1), types.TimeValue(86399999),
			types.TimestampValue(1700000000123), []types.Value{int32(1), nil, int32(3)},
			types.NewMap([]types.Value{"z", "a", "n"}, []types.Value{dec("1.50"), dec("-999.99"), nil}),
			st("a", int64(42)),
			[]types.Value{
				types.NewMap([]types.Value{int32(2), int32(1)}, []types.Value{
					[]types.Value{&types.Struct{Vals: []types.Value{types.TimestampValue(-1), []byte("x")}}, nil},
					nil,
				}),
				nil,
				types.NewMap(nil, nil),
			},
			"",
		},
		// NULL in every column.
		make(types.Row, len(allTypes)),
		// NULLs inside every nested type, and empty nested values.
		{
			false, int32(math.MinInt32), int64(0), math.Inf(-1), dec("0.0000"), "", []byte{},
			types.DateValue(19000), types.TimeValue(0), types.TimestampValue(0), []types.Value{},
			types.NewMap(nil, nil), st(nil, nil),
			[]types.Value{nil, types.NewMap([]types.Value{int32(0)}, []types.Value{[]types.Value{}})},
			"x",
		},
		{nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, []types.Value{nil}, nil,
			&types.Struct{Vals: []types.Value{"b", nil}}, []types.Value{}, nil},
	}
}

func TestRoundTrip(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	var buf bytes.Buffer
	w, err := newWriter(&buf, allTypes, config{batchRows: DefaultBatchRows}, mem)
	if err != nil {
		t.Fatal(err)
	}
	rows := allTypesRows()
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	mem.AssertSize(t, 0)

	schema, got := readAll(t, &buf)
	if s := schema.String(); s != allTypesSchema {
		t.Errorf("schema:\n%s\nwant:\n%s", s, allTypesSchema)
	}
	if want, _ := Schema(allTypes); !schema.Equal(want) {
		t.Errorf("stream schema %s differs from Schema()", schema)
	}
	if len(got) != 1 || len(got[0]) != len(rows) {
		t.Fatalf("got batches of %v rows, want one of %d", batchSizes(got), len(rows))
	}
	for i, want := range rows {
		for j, c := range allTypes {
			if g := got[0][i][j]; !sameValue(g, want[j]) {
				t.Errorf("row %d column %s: got %s, want %s", i, c.Name, show(g), show(want[j]))
			}
		}
	}
}

func TestBatchBoundaries(t *testing.T) {
	cols := []types.Column{{Name: "N", Type: types.Bigint}}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, cols, BatchRows(3))
	if err != nil {
		t.Fatal(err)
	}
	// The schema is on the wire before any row, so a push query's client learns its columns at once.
	if schema, batches := readAll(t, bytes.NewReader(buf.Bytes())); len(batches) != 0 || schema.NumFields() != 1 {
		t.Fatalf("after NewWriter: schema %s, %d batches", schema, len(batches))
	}
	n := int64(0)
	write := func(k int) {
		t.Helper()
		for range k {
			if err := w.Write(types.Row{n}); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	flush := func() {
		t.Helper()
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	write(7) // 3, 3, and 1 buffered
	flush()  // 1
	flush()  // nothing
	write(2) // buffered
	flush()  // 2
	write(3) // 3
	flush()  // nothing
	write(1) // buffered, written by Close
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.Write(types.Row{n}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	if err := w.Flush(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Flush after Close: %v", err)
	}

	_, batches := readAll(t, &buf)
	if got, want := fmt.Sprint(batchSizes(batches)), "[3 3 1 2 3 1]"; got != want {
		t.Fatalf("batch sizes %s, want %s", got, want)
	}
	next := int64(0)
	for _, b := range batches {
		for _, r := range b {
			if r[0] != next {
				t.Fatalf("row %v, want %d", r[0], next)
			}
			next++
		}
	}
	if next != n {
		t.Fatalf("read %d rows, wrote %d", next, n)
	}
}

func TestNoRows(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, allTypes)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	schema, batches := readAll(t, &buf)
	if len(batches) != 0 || schema.String() != allTypesSchema {
		t.Fatalf("schema %s, %d batches", schema, len(batches))
	}
}

func TestBadValue(t *testing.T) {
	cols := []types.Column{
		{Name: "DEC", Type: types.DecimalOf(4, 2)},
		{Name: "M", Type: types.MapOf(types.String, types.ArrayOf(types.Int))},
		{Name: "ST", Type: types.StructOf(types.Field{Name: "F", Type: types.Timestamp})},
	}
	good := types.Row{dec("12.34"), types.NewMap([]types.Value{"k"}, []types.Value{[]types.Value{int32(1)}}),
		&types.Struct{Vals: []types.Value{types.TimestampValue(5)}}}
	for _, tc := range []struct {
		name string
		row  types.Row
		want string
	}{
		{"short row", types.Row{nil, nil}, "row has 2 values for 3 columns"},
		{"decimal overflow", types.Row{dec("123.45"), nil, nil}, `column "DEC": 123.45 does not fit DECIMAL(4, 2)`},
		{"decimal rounding overflow", types.Row{dec("99.999"), nil, nil}, `column "DEC": Numeric field overflow`},
		{"decimal type", types.Row{1.5, nil, nil}, `column "DEC": float64 is not the Go type of DECIMAL(4, 2)`},
		{"decimal NaN", types.Row{&apd.Decimal{Form: apd.NaN}, nil, nil}, `column "DEC": NaN is not a finite decimal`},
		{"null map key", types.Row{nil, types.NewMap([]types.Value{nil}, []types.Value{nil}), nil},
			`column "M": NULL map key`},
		{"deep element", types.Row{nil, types.NewMap([]types.Value{"k"}, []types.Value{[]types.Value{int32(1), int64(2)}}), nil},
			`column "M": value of map key k: element 1: int64 is not the Go type of INTEGER`},
		{"typed nil", types.Row{(*apd.Decimal)(nil), nil, nil}, `column "DEC": nil *apd.Decimal (NULL is a nil Value)`},
		{"struct arity", types.Row{nil, nil, &types.Struct{}}, `column "ST": struct with 0 values for 1 fields`},
		{"struct field", types.Row{nil, nil, &types.Struct{Vals: []types.Value{int64(5)}}},
			`column "ST": field "F": int64 is not the Go type of TIMESTAMP`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewWriter(&buf, cols)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.Write(good); err != nil {
				t.Fatal(err)
			}
			err = w.Write(tc.row)
			if !errors.Is(err, ErrBadValue) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want ErrBadValue with %q", err, tc.want)
			}
			// The rejected row left nothing behind: the stream has exactly the good rows.
			if err := w.Write(good); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			_, batches := readAll(t, &buf)
			if len(batches) != 1 || len(batches[0]) != 2 {
				t.Fatalf("batch sizes %v, want [2]", batchSizes(batches))
			}
			for _, r := range batches[0] {
				for j := range cols {
					if !sameValue(r[j], good[j]) {
						t.Fatalf("column %s: got %s, want %s", cols[j].Name, show(r[j]), show(good[j]))
					}
				}
			}
		})
	}
}

// A DECIMAL not at its type's scale is rescaled, exactly when it can be.
func TestDecimalScale(t *testing.T) {
	cols := []types.Column{{Name: "D", Type: types.DecimalOf(6, 3)}}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"1.5", "-2", "0.0005", "999.9994"} {
		if err := w.Write(types.Row{dec(s)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_, batches := readAll(t, &buf)
	var got []string
	for _, r := range batches[0] {
		got = append(got, types.DecimalString(r[0].(*apd.Decimal)))
	}
	if s := strings.Join(got, " "); s != "1.500 -2.000 0.001 999.999" {
		t.Fatalf("got %s", s)
	}
}

func TestSchemaErrors(t *testing.T) {
	for _, tc := range []struct {
		typ  *types.Type
		want string
	}{
		{types.Null, `column "C": null has no Arrow type`},
		{types.DecimalOf(39, 0), `column "C": DECIMAL(39, 0) does not fit decimal128`},
		{types.ArrayOf(types.Interval), `column "C": array element: INTERVALUNIT has no Arrow type`},
		{types.StructOf(types.Field{Name: "F", Type: types.MapOf(types.String, types.Null)}),
			`column "C": struct field "F": map value: null has no Arrow type`},
	} {
		_, err := Schema([]types.Column{{Name: "C", Type: tc.typ}})
		if err == nil || !strings.HasPrefix(err.Error(), "arrowrows: "+tc.want) {
			t.Errorf("%s: got %v, want %q", tc.typ, err, tc.want)
		}
		if _, err := NewWriter(io.Discard, []types.Column{{Name: "C", Type: tc.typ}}); err == nil {
			t.Errorf("%s: NewWriter accepted it", tc.typ)
		}
	}
	if _, err := NewWriter(io.Discard, nil, BatchRows(0)); err == nil {
		t.Error("BatchRows(0) accepted")
	}
}

// failingWriter fails every write after the first ok bytes.
type failingWriter struct{ ok int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if len(p) > f.ok {
		n := f.ok
		f.ok = 0
		return n, errors.New("disk on fire")
	}
	f.ok -= len(p)
	return len(p), nil
}

func TestWriteFailureIsSticky(t *testing.T) {
	cols := []types.Column{{Name: "S", Type: types.String}}
	if _, err := NewWriter(&failingWriter{}, cols); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("NewWriter onto a failing writer: %v", err)
	}
	var schema bytes.Buffer
	if _, err := NewWriter(&schema, cols); err != nil {
		t.Fatal(err)
	}
	w, err := NewWriter(&failingWriter{ok: schema.Len()}, cols, BatchRows(1))
	if err != nil {
		t.Fatal(err)
	}
	err = w.Write(types.Row{"a"})
	if err == nil || errors.Is(err, ErrBadValue) {
		t.Fatalf("Write: %v", err)
	}
	for _, f := range []func() error{func() error { return w.Write(types.Row{"b"}) }, w.Flush, w.Close} {
		if err2 := f(); err2 != err {
			t.Fatalf("after a failure: %v, want %v", err2, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// readAll reads an IPC stream with arrow-go's reader, returning its schema and each batch's rows as
// Seiche values.
func readAll(t *testing.T, r io.Reader) (*arrow.Schema, [][]types.Row) {
	t.Helper()
	rd, err := ipc.NewReader(r)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Release()
	var batches [][]types.Row
	for rd.Next() {
		rec := rd.RecordBatch()
		rows := make([]types.Row, rec.NumRows())
		for i := range rows {
			rows[i] = make(types.Row, rec.NumCols())
			for j, col := range rec.Columns() {
				rows[i][j] = fromArrow(t, col, i)
			}
		}
		batches = append(batches, rows)
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	return rd.Schema(), batches
}

// fromArrow converts element i of a back to a Seiche value, independently of the writer's code.
func fromArrow(t *testing.T, a arrow.Array, i int) types.Value {
	if a.IsNull(i) {
		return nil
	}
	switch a := a.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int32:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.Decimal128:
		return dec(a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale))
	case *array.String:
		return a.Value(i)
	case *array.Binary:
		return append([]byte{}, a.Value(i)...)
	case *array.Date32:
		return types.DateValue(a.Value(i))
	case *array.Time32:
		return types.TimeValue(a.Value(i))
	case *array.Timestamp:
		return types.TimestampValue(a.Value(i))
	case *array.Map: // before *array.List, which it embeds
		start, end := a.ValueOffsets(i)
		var keys, vals []types.Value
		for k := int(start); k < int(end); k++ {
			keys = append(keys, fromArrow(t, a.Keys(), k))
			vals = append(vals, fromArrow(t, a.Items(), k))
		}
		return types.NewMap(keys, vals)
	case *array.List:
		start, end := a.ValueOffsets(i)
		out := []types.Value{}
		for k := int(start); k < int(end); k++ {
			out = append(out, fromArrow(t, a.ListValues(), k))
		}
		return out
	case *array.Struct:
		vals := make([]types.Value, a.NumField())
		for f := range vals {
			vals[f] = fromArrow(t, a.Field(f), i)
		}
		return &types.Struct{Vals: vals}
	}
	t.Fatalf("unexpected array %T", a)
	return nil
}

// sameValue is strict equality of Seiche values: same Go types, decimals at the same scale, map entries
// in the same order.
func sameValue(a, b types.Value) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case *apd.Decimal:
		y, ok := b.(*apd.Decimal)
		return ok && x.Cmp(y) == 0 && x.Exponent == y.Exponent
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []types.Value:
		y, ok := b.([]types.Value)
		return ok && sameValues(x, y)
	case *types.Map:
		y, ok := b.(*types.Map)
		return ok && sameValues(x.Keys, y.Keys) && sameValues(x.Vals, y.Vals)
	case *types.Struct:
		y, ok := b.(*types.Struct)
		return ok && sameValues(x.Vals, y.Vals)
	}
	return a == b
}

func sameValues(a, b []types.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !sameValue(a[i], b[i]) {
			return false
		}
	}
	return true
}

func show(v types.Value) string { return fmt.Sprintf("%T %s", v, types.Format(v)) }

func batchSizes(batches [][]types.Row) []int {
	var n []int
	for _, b := range batches {
		n = append(n, len(b))
	}
	return n
}
