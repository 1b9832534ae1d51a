package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/seichedb/seiche/engine"
)

// TestDescribeFunction checks that DESCRIBE FUNCTION lists each overload from the function's declared
// signatures (argument names, generic types, variadic last argument, result type), for scalar and table
// functions, and that SHOW FUNCTIONS names every kind.
func TestDescribeFunction(t *testing.T) {
	s := engine.NewTestSession(nil)
	defer s.Close()
	overloads := func(name string) string {
		t.Helper()
		ents := mustExecute(t, s, "DESCRIBE FUNCTION "+name+";")
		var parts []string
		for _, f := range ents[0]["functions"].([]any) {
			fn := f.(map[string]any)
			var args []string
			for _, a := range fn["arguments"].([]any) {
				arg := a.(map[string]any)
				typ := arg["type"].(string)
				if arg["isVariadic"].(bool) {
					typ += "..."
				}
				args = append(args, strings.TrimSpace(typ+" "+arg["name"].(string)))
			}
			parts = append(parts, "("+strings.Join(args, ", ")+") "+fn["returnType"].(string))
		}
		return ents[0]["type"].(string) + " " + strings.Join(parts, " | ")
	}
	for _, tc := range []struct{ name, want string }{
		{"ARRAY_CONTAINS", "SCALAR (ARRAY<T> array, T val) BOOLEAN"},
		{"coalesce", "SCALAR (T first, T... others) T"},
		{"TRANSFORM", "SCALAR (ARRAY<T> array, LAMBDA (T) -> U function) ARRAY<U> | " +
			"(MAP<K, V> map, LAMBDA (K, V) -> K2 key_function, LAMBDA (K, V) -> V2 value_function) MAP<K2, V2>"},
		{"EXPLODE", "TABLE (ARRAY<DECIMAL> input) T | (ARRAY<T> list) T"},
		{"TOPK", "AGGREGATE (INTEGER, INTEGER) ARRAY<INTEGER> | (BIGINT, INTEGER) ARRAY<BIGINT> | (DOUBLE, INTEGER) ARRAY<DOUBLE> | " +
			"(DECIMAL, INTEGER) ARRAY<DECIMAL> | (STRING, INTEGER) ARRAY<STRING> | (BYTES, INTEGER) ARRAY<BYTES> | " +
			"(DATE, INTEGER) ARRAY<DATE> | (TIME, INTEGER) ARRAY<TIME> | (TIMESTAMP, INTEGER) ARRAY<TIMESTAMP> | " +
			// TOPK(col, other columns..., k): structs whose fields depend on the arguments.
			"(INTEGER, ANY..., INTEGER) ARRAY<STRUCT<>> | (BIGINT, ANY..., INTEGER) ARRAY<STRUCT<>> | " +
			"(DOUBLE, ANY..., INTEGER) ARRAY<STRUCT<>> | (DECIMAL, ANY..., INTEGER) ARRAY<STRUCT<>> | " +
			"(STRING, ANY..., INTEGER) ARRAY<STRUCT<>> | (BYTES, ANY..., INTEGER) ARRAY<STRUCT<>> | " +
			"(DATE, ANY..., INTEGER) ARRAY<STRUCT<>> | (TIME, ANY..., INTEGER) ARRAY<STRUCT<>> | " +
			"(TIMESTAMP, ANY..., INTEGER) ARRAY<STRUCT<>>"},
		{"ENTRIES", "SCALAR (MAP<STRING, T> map, BOOLEAN sorted) ARRAY<STRUCT<`K` STRING, `V` T>>"},
	} {
		if got := overloads(tc.name); got != tc.want {
			t.Errorf("DESCRIBE FUNCTION %s:\n got %s\nwant %s", tc.name, got, tc.want)
		}
	}
	ents := mustExecute(t, s, "SHOW FUNCTIONS;")
	b, _ := json.Marshal(ents[0]["functions"])
	for _, want := range []string{`{"category":"","name":"SUBSTRING","type":"SCALAR"}`,
		`{"category":"","name":"EXPLODE","type":"TABLE"}`, `{"category":"","name":"COLLECT_LIST","type":"AGGREGATE"}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("SHOW FUNCTIONS lacks %s", want)
		}
	}
}
