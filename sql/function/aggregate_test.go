package function

import (
	"strings"
	"testing"

	"github.com/seichedb/seiche/sql/types"
)

func runAgg(t *testing.T, name string, argType *types.Type, init []Value, rows []Value) (*Resolved, Value) {
	t.Helper()
	af, ok := Builtins().Aggregate(name)
	if !ok {
		t.Fatalf("no aggregate %s", name)
	}
	var args []*types.Type
	if argType != nil {
		args = []*types.Type{argType}
	}
	r, err := af.ResolveWith(args, init, nil)
	if err != nil {
		t.Fatal(err)
	}
	acc := r.Agg.Init()
	for _, v := range rows {
		var vals []Value
		if argType != nil {
			vals = []Value{v}
		}
		if acc, err = r.Agg.Add(acc, vals); err != nil {
			t.Fatal(err)
		}
	}
	res, err := r.Agg.Result(acc)
	if err != nil {
		t.Fatal(err)
	}
	return r, res
}

func TestAggregates(t *testing.T) {
	ints := []Value{int32(3), nil, int32(1), int32(3), int32(2)}
	for _, tc := range []struct {
		name string
		t    *types.Type
		init []Value
		want string
	}{
		{"COUNT", types.Int, nil, "4"},
		{"COUNT", nil, nil, "5"},
		{"SUM", types.Int, nil, "9"},
		{"MIN", types.Int, nil, "1"},
		{"MAX", types.Int, nil, "3"},
		{"AVG", types.Int, nil, "2.25"},
		{"COLLECT_LIST", types.Int, nil, "[3, null, 1, 3, 2]"},
		{"COLLECT_SET", types.Int, nil, "[3, null, 1, 2]"},
		{"LATEST_BY_OFFSET", types.Int, nil, "2"},
		{"EARLIEST_BY_OFFSET", types.Int, nil, "3"},
		{"LATEST_BY_OFFSET", types.Int, []Value{int32(2)}, "[3, 2]"},
		{"TOPK", types.Int, []Value{int32(2)}, "[3, 3]"},
	} {
		_, got := runAgg(t, tc.name, tc.t, tc.init, ints)
		if s := types.Format(got); s != tc.want {
			t.Errorf("%s(%v): got %s want %s", tc.name, tc.init, s, tc.want)
		}
	}
}

func TestAggregateUndoAndMerge(t *testing.T) {
	r, _ := runAgg(t, "SUM", types.Bigint, nil, nil)
	acc := r.Agg.Init()
	acc, _ = r.Agg.Add(acc, []Value{int64(5)})
	acc, _ = r.Agg.Add(acc, []Value{int64(7)})
	if !r.CanUndo {
		t.Fatal("SUM cannot undo")
	}
	acc, _ = r.Agg.Undo(acc, []Value{int64(5)})
	if acc != int64(7) {
		t.Fatalf("undo: %v", acc)
	}
	m, _ := r.Agg.Merge(acc, int64(3))
	if m != int64(10) {
		t.Fatalf("merge: %v", m)
	}
	// AVG keeps a typed accumulator the state store can serialize.
	avg, _ := runAgg(t, "AVG", types.Double, nil, nil)
	if avg.AccType.Kind != types.KindStruct {
		t.Fatalf("AVG accumulator %s", avg.AccType)
	}
}

func TestTableFunctions(t *testing.T) {
	ex, _ := Builtins().Table("EXPLODE")
	_, impl, err := ex.Resolve([]*types.Type{types.ArrayOf(types.Int)})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := impl([]Value{[]Value{int32(1), int32(2)}})
	if types.Format(out) != "[1, 2]" {
		t.Fatalf("explode: %v", out)
	}
	if out, _ := impl([]Value{nil}); len(out) != 0 {
		t.Fatalf("explode(null): %v", out)
	}
	cube := Cube([]Value{int32(1), int32(2)})
	if got := types.Format(cube); got != "[[null, null], [null, 2], [1, null], [1, 2]]" {
		t.Fatalf("cube: %s", got)
	}
}

// TestCollectLimitProperty checks that the ksql.functions.collect_*.limit session properties cap
// COLLECT_LIST and COLLECT_SET.
func TestCollectLimitProperty(t *testing.T) {
	for _, tc := range []struct {
		name, prop, limit, want string
	}{
		{"COLLECT_LIST", "ksql.functions.collect_list.limit", "2", "[3, null]"},
		{"COLLECT_SET", "ksql.functions.collect_set.limit", "3", "[3, null, 1]"},
		{"COLLECT_LIST", "ksql.functions.collect_set.limit", "1", "[3, null, 1, 3, 2]"},
	} {
		af, _ := Builtins().Aggregate(tc.name)
		r, err := af.ResolveWith([]*types.Type{types.Int}, nil, map[string]string{tc.prop: tc.limit})
		if err != nil {
			t.Fatal(err)
		}
		acc := r.Agg.Init()
		for _, v := range []Value{int32(3), nil, int32(1), int32(3), int32(2)} {
			if acc, err = r.Agg.Add(acc, []Value{v}); err != nil {
				t.Fatal(err)
			}
		}
		if got := types.Format(acc); got != tc.want {
			t.Errorf("%s with %s=%s: got %s, want %s", tc.name, tc.prop, tc.limit, got, tc.want)
		}
	}
	af, _ := Builtins().Aggregate("COLLECT_LIST")
	if _, err := af.ResolveWith([]*types.Type{types.Int}, nil, map[string]string{"ksql.functions.collect_list.limit": "x"}); err == nil {
		t.Error("a non-integer limit resolved")
	}
}

// TestAggregateSignatures checks that aggregate calls go through the declared overloads: an implicit cast
// is accepted, and a refused call gets ksqlDB's message listing the alternatives.
func TestAggregateSignatures(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []*types.Type
		init []Value
		err  string
	}{
		{"SUM", p(types.String), nil, "Function 'sum' does not accept parameters (STRING).\nValid alternatives are:\nsum(INTEGER)\nsum(BIGINT)"},
		{"TOPK", p(types.Int), []Value{int64(3)}, "Function 'topk' does not accept parameters (INTEGER, BIGINT)."},
		// The variadic TOPK needs its k too: one argument matches no overload.
		{"TOPK", p(types.Int), nil, "Function 'topk' does not accept parameters (INTEGER)."},
		{"TOPK", p(types.Int, types.String, types.Boolean), []Value{int32(2)}, ""},
		{"TOPK", p(types.Int, types.String), []Value{int64(2)}, "Function 'topk' does not accept parameters (INTEGER, STRING, BIGINT)."},
		{"COUNT", p(types.Int, types.Int), nil, "Function 'count' does not accept parameters (INTEGER, INTEGER)."},
		{"AVG", p(types.Null), nil, "Function 'avg' cannot be resolved due to ambiguous method parameters (null)."},
		{"CORRELATION", p(types.Int, types.DecimalOf(4, 2)), nil, ""},
		{"LATEST_BY_OFFSET", p(types.Int), []Value{int32(2), false}, ""},
	} {
		af, _ := Builtins().Aggregate(tc.name)
		_, err := af.ResolveWith(tc.args, tc.init, nil)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s%v %v: %v", tc.name, tc.args, tc.init, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s%v %v: got %v, want %q", tc.name, tc.args, tc.init, err, tc.err)
		}
	}
}
