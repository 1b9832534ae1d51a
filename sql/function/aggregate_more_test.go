package function

import (
	"math"
	"testing"

	"github.com/seichedb/seiche/sql/types"
)

// foldAgg resolves an aggregate over argument types and folds rows (one argument slice per row) into it.
func foldAgg(t *testing.T, name string, args []*types.Type, init []Value, rows [][]Value) (*Resolved, Value, Value) {
	t.Helper()
	af, ok := Builtins().Aggregate(name)
	if !ok {
		t.Fatalf("no aggregate %s", name)
	}
	r, err := af.ResolveWith(args, init, nil)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	acc := r.Agg.Init()
	for _, row := range rows {
		if acc, err = r.Agg.Add(acc, row); err != nil {
			t.Fatal(err)
		}
	}
	res, err := r.Agg.Result(acc)
	if err != nil {
		t.Fatal(err)
	}
	return r, acc, res
}

func col(vals ...Value) [][]Value {
	out := make([][]Value, len(vals))
	for i, v := range vals {
		out[i] = []Value{v}
	}
	return out
}

func TestMoreAggregates(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []*types.Type
		init []Value
		rows [][]Value
		want string
	}{
		{"ATTR", p(types.String), nil, col("a", "a"), "a"},
		{"ATTR", p(types.String), nil, col("a", "b"), "null"},
		{"ATTR", p(types.String), nil, col("a", nil), "null"},
		{"ATTR", p(types.String), nil, col(nil, nil), "null"},
		{"ATTR", p(types.String), nil, nil, "null"},
		{"TOPKDISTINCT", p(types.Int), []Value{int32(3)}, col(int32(0), int32(100), nil, int32(99), int32(7), int32(100)), "[100, 99, 7]"},
		{"TOPKDISTINCT", p(types.String), []Value{int32(2)}, col("a", "b", "a"), "[b, a]"},
		{"HISTOGRAM", p(types.String), nil, col("foo", "baz", nil, "foo"), "{foo=2, baz=1}"},
		{"COUNT_DISTINCT", p(types.String), nil, col("one", "two", "one", nil), "2"},
		{"COUNT_DISTINCT", p(types.String), nil, nil, "0"},
		{"SUM_LIST", p(types.ArrayOf(types.Int)), nil, col([]Value{int32(1), nil, int32(2)}, nil, []Value{int32(3)}), "6"},
		{"SUM_LIST", p(types.ArrayOf(types.Int)), nil, col([]Value{int32(math.MaxInt32)}, []Value{int32(1)}), "-2147483648"},
		{"SUM_LIST", p(types.ArrayOf(types.Double)), nil, col([]Value{0.5, 0.25}), "0.75"},
		{"STDDEV_SAMP", p(types.Int), nil, col(int32(10), nil, int32(0)), "50.0"},
		{"STDDEV_SAMPLE", p(types.Int), nil, col(int32(0), int32(10)), "7.0710678118654755"},
		{"STDDEV_SAMPLE", p(types.Double), nil, col(10.0), "0.0"},
		{"CORRELATION", p(types.Int, types.Bigint), nil, [][]Value{{int32(1), int64(3)}, {int32(2), int64(1)}, {nil, int64(9)}, {int32(3), int64(2)}},
			"-0.5"},
		{"CORRELATION", p(types.Int, types.Int), nil, [][]Value{{int32(1), int32(8)}}, "NaN"},
	} {
		_, _, got := foldAgg(t, tc.name, tc.args, tc.init, tc.rows)
		if s := types.Format(got); s != tc.want {
			t.Errorf("%s %v: got %s want %s", tc.name, tc.rows, s, tc.want)
		}
	}
}

func TestMoreAggregatesUndo(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []*types.Type
		rows, undo [][]Value
		want       string
	}{
		// A group whose conflicting value is retracted has a single value again.
		{"ATTR", p(types.String), col("1", "2"), col("2"), "1"},
		{"HISTOGRAM", p(types.String), col("a", "b", "a"), col("a", "b"), "{a=1}"},
		{"SUM_LIST", p(types.ArrayOf(types.Bigint)), col([]Value{int64(5)}, []Value{int64(7)}), col([]Value{int64(5)}), "7"},
		{"CORRELATION", p(types.Double, types.Double), [][]Value{{1.5, 8.0}, {-3.5, -2.0}, {9.0, 1.0}}, [][]Value{{9.0, 1.0}}, "1.0"},
		{"STDDEV_SAMPLE", p(types.Bigint), col(int64(0), int64(10), int64(50)), col(int64(50)), "7.0710678118654755"},
	} {
		r, acc, _ := foldAgg(t, tc.name, tc.args, nil, tc.rows)
		if !r.CanUndo {
			t.Fatalf("%s cannot undo", tc.name)
		}
		var err error
		for _, u := range tc.undo {
			if acc, err = r.Agg.Undo(acc, u); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := r.Agg.Result(acc)
		if s := types.Format(got); s != tc.want {
			t.Errorf("%s undo: got %s want %s", tc.name, s, tc.want)
		}
	}
}

func TestMoreAggregatesMerge(t *testing.T) {
	r, a, _ := foldAgg(t, "TOPKDISTINCT", p(types.Int), []Value{int32(2)}, col(int32(1), int32(5)))
	_, b, _ := foldAgg(t, "TOPKDISTINCT", p(types.Int), []Value{int32(2)}, col(int32(5), int32(3)))
	m, _ := r.Agg.Merge(a, b)
	if s := types.Format(m); s != "[5, 3]" {
		t.Fatalf("TOPKDISTINCT merge: %s", s)
	}
	r, a, _ = foldAgg(t, "STDDEV_SAMPLE", p(types.Double), nil, col(0.0, 10.0))
	_, b, _ = foldAgg(t, "STDDEV_SAMPLE", p(types.Double), nil, col(50.0))
	m, _ = r.Agg.Merge(a, b)
	_, _, whole := foldAgg(t, "STDDEV_SAMPLE", p(types.Double), nil, col(0.0, 10.0, 50.0))
	if got, _ := r.Agg.Result(m); math.Abs(got.(float64)-whole.(float64)) > 1e-9 {
		t.Fatalf("STDDEV_SAMPLE merge: %v, all rows: %v", got, whole)
	}
}

func TestMoreAggregatesRejectArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []*types.Type
		init []Value
	}{
		{"HISTOGRAM", p(types.Int), nil},
		{"SUM_LIST", p(types.Int), nil},
		{"CORRELATION", p(types.Double), nil},
		{"STDDEV_SAMP", p(types.String), nil},
		{"TOPKDISTINCT", p(types.Int), []Value{int32(0)}},
	} {
		af, _ := Builtins().Aggregate(tc.name)
		if _, err := af.ResolveWith(tc.args, tc.init, nil); err == nil {
			t.Errorf("%s(%v) resolved", tc.name, tc.args)
		}
	}
}

// TestTopKOtherColumns checks TOPK(col, other..., k): each kept value carries the other arguments of its
// row in a STRUCT<sort_col, col0, ...>, ordered by the sort value only (ties keep arrival order), NULL sort
// values skipped, and merging keeps the k largest.
func TestTopKOtherColumns(t *testing.T) {
	r, acc, res := foldAgg(t, "TOPK", p(types.Int, types.String), []Value{int32(2)},
		col2([]Value{int32(5), "a"}, []Value{nil, "n"}, []Value{int32(9), "b"}, []Value{int32(9), "c"}, []Value{int32(1), "d"}))
	if got := r.Return.String(); got != "ARRAY<STRUCT<`sort_col` INTEGER, `col0` STRING>>" {
		t.Fatalf("return type %s", got)
	}
	if s := types.Format(res); s != "[Struct{9,b}, Struct{9,c}]" {
		t.Fatalf("TOPK: %s", s)
	}
	_, other, _ := foldAgg(t, "TOPK", p(types.Int, types.String), []Value{int32(2)}, col2([]Value{int32(10), "z"}))
	merged, err := r.Agg.Merge(acc, other)
	if err != nil {
		t.Fatal(err)
	}
	if s := types.Format(merged); s != "[Struct{10,z}, Struct{9,b}]" {
		t.Fatalf("TOPK merge: %s", s)
	}
}

func col2(rows ...[]Value) [][]Value { return rows }
