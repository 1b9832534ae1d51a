package function

import (
	"strings"
	"testing"

	"github.com/seichedb/seiche/sql/types"
)

// callScalar resolves a scalar function against argument types and calls it once.
func callScalar(t *testing.T, name string, argTypes []*types.Type, args ...Value) (Value, error) {
	t.Helper()
	fn, ok := Builtins().Scalar(name)
	if !ok {
		t.Fatalf("no function %s", name)
	}
	_, impl, err := fn.Resolve(argTypes)
	if err != nil {
		t.Fatalf("%s%v: %v", name, argTypes, err)
	}
	return impl(args)
}

func TestScalarFunctions(t *testing.T) {
	tS, tI, tD, tB, tBy := types.String, types.Int, types.Double, types.Bigint, types.Bytes
	for _, tc := range []struct {
		name string
		ts   []*types.Type
		args []Value
		want string
	}{
		{"GEO_DISTANCE", p(tD, tD, tD, tD), []Value{37.4439, -122.1663, 51.0, 0.0}, "8682.459061368269"},
		{"GEO_DISTANCE", p(tD, tD, tD, tD, tS), []Value{37.4439, -122.1663, 51.0, 0.0, "MI"}, "5395.362646987439"},
		{"GEO_DISTANCE", p(tD, tD, tD, tD), []Value{nil, -122.1663, 51.0, 0.0}, "null"},
		{"GREATEST", p(types.Date, types.Null, tS), []Value{types.DateValue(19071), nil, "2022-06-14"}, "2022-06-14"},
		{"LEAST", p(types.Time, tS), []Value{types.TimeValue(10), "09:16:00"}, "00:00:00.010"},
		{"LEAST", p(tI, tB, types.DecimalOf(30, 18), tD), []Value{int32(3), int64(2), nil, 5.5}, "2.0"},
		{"LPAD", p(tBy, tI, tBy), []Value{[]byte("yes"), int32(8), []byte("no")}, "nononyes"},
		{"RPAD", p(tBy, tI, tBy), []Value{[]byte("yes"), int32(2), []byte("no")}, "ye"},
		{"RPAD", p(tBy, tI, tBy), []Value{[]byte("yes"), int32(3), []byte{}}, "null"},
		{"LPAD", p(tBy, tI, tBy), []Value{[]byte("yes"), nil, []byte("no")}, "null"},
		{"ENCODE", p(tS, tS, tS), []Value{"0x578616d706C6521", "hex", "base64"}, "BXhhbXBsZSE="},
		{"ENCODE", p(tS, tS, tS), []Value{"X'4578616d706C6521'", "hex", "utf8"}, "Example!"},
		{"ENCODE", p(tS, tS, tS), []Value{"Ελλάδα", "ascii", "hex"}, "3f3f3f3f3f3f"},
		{"ENCODE", p(tS, tS, tS), []Value{"RXhhbXBsZSE=", "base64", "hex"}, "4578616d706c6521"},
		{"ENCODE", p(tS, tS, tS), []Value{nil, "hex", "utf8"}, "null"},
		{"CHR", p(tI), []Value{int32(99000)}, "\U000182B8"},
		{"CHR", p(tI), []Value{int32(-1)}, "null"},
		{"CHR", p(tS), []Value{`\ud820\udeb8`}, "\U000182B8"},
		{"CHR", p(tS), []Value{"75"}, "null"},
		{"REGEXP_EXTRACT", p(tS, tS, tI), []Value{"(.*) (.*)", "steven zhang", int32(2)}, "zhang"},
		{"REGEXP_EXTRACT", p(tS, tS), []Value{"x+", "abc"}, "null"},
		{"REGEXP_EXTRACT_ALL", p(tS, tS), []Value{"test.", "test_ testa"}, "[test_, testa]"},
		{"SPLIT_TO_MAP", p(tS, tS, tS), []Value{"apple:green/banana:yellow", "&&", ":"}, "{apple=green/banana}"},
		{"SPLIT_TO_MAP", p(tS, tS, tS), []Value{"a:1//b:2/", "/", ":"}, "{a=1, b=2}"},
		{"SPLIT_TO_MAP", p(tS, tS, tS), []Value{"a:1", "", ":"}, "null"},
		{"JSON_CONCAT", p(tS, tS, tS), []Value{"[1, 2]", `{"a": 1}`, "4"}, `[1,2,{"a":1},4]`},
		{"JSON_CONCAT", p(tS, tS), []Value{`{"b": 1, "a": 2}`, `{"b": 3}`}, `{"b":3,"a":2}`},
		{"JSON_CONCAT", p(tS, tS), []Value{"[]", "[]"}, "[]"},
		{"JSON_CONCAT", p(tS, tS), []Value{"1", ""}, "null"},
		{"JSON_RECORDS", p(tS), []Value{`{"White": "Seven", "Pink": 8}`}, "{White=Seven, Pink=8}"},
		{"PARSE_DATE", p(tS, tS), []Value{"2003-12-24-01-01", "yyyy-MM-dd"}, "2003-12-24"},
		{"PARSE_TIMESTAMP", p(tS, tS), []Value{"2018-05-11T21:58:33 PST", "yyyy-MM-dd'T'HH:mm:ss zzz"}, "2018-05-12T04:58:33.000"},
		{"STRINGTOTIMESTAMP", p(tS, tS), []Value{"2020-05-11T21:58:33z", "yyyy-MM-dd'T'HH:mm:ssX"}, "1589234313000"},
		{"STRINGTOTIMESTAMP", p(tS, tS), []Value{"2019-08-27T13:31:09.2+0000", "yyyy-MM-dd'T'HH:mm:ss.SX"}, "1566912669200"},
		{"CONVERT_TZ", p(types.Timestamp, tS, tS), []Value{types.TimestampValue(100), "+0200", "+0500"}, "1970-01-01T03:00:00.100"},
		{"ARRAY_CONCAT", p(types.ArrayOf(tI), types.ArrayOf(tI)), []Value{nil, []Value{int32(1)}}, "[1]"},
		{"ARRAY_CONCAT", p(types.ArrayOf(tI), types.ArrayOf(tI)), []Value{nil, nil}, "null"},
		{"ROUND", p(tD, tI), []Value{-1.5, int32(0)}, "-1.0"},
		{"ROUND", p(tD, tI), []Value{1.25, int32(1)}, "1.3"},
		{"LN", p(tD), []Value{3.0}, "1.0986122886681098"},
		{"LOG", p(tD, tD), []Value{15.0, 0.0}, "-Infinity"},
		{"LOG", p(tD, tD), []Value{1.0, 13.0}, "NaN"},
		{"TO_JSON_STRING", p(types.Date), []Value{types.DateValue(1000)}, `"1972-09-27"`},
	} {
		got, err := callScalar(t, tc.name, tc.ts, tc.args...)
		if err != nil {
			t.Errorf("%s%v: %v", tc.name, tc.args, err)
			continue
		}
		s := types.Format(got)
		if b, ok := got.([]byte); ok {
			s = string(b)
		}
		if s != tc.want {
			t.Errorf("%s%v: got %s want %s", tc.name, tc.args, s, tc.want)
		}
	}
}

func TestScalarFunctionErrors(t *testing.T) {
	tS, tD := types.String, types.Double
	// Bad values are errors, which the expression compiler turns into NULL for the call.
	for _, tc := range []struct {
		name string
		ts   []*types.Type
		args []Value
	}{
		{"GEO_DISTANCE", p(tD, tD, tD, tD), []Value{91.0, 0.0, 0.0, 0.0}},
		{"GEO_DISTANCE", p(tD, tD, tD, tD, tS), []Value{1.0, 0.0, 0.0, 0.0, "furlong"}},
		{"ENCODE", p(tS, tS, tS), []Value{"578616d706C6521", "hex", "utf8"}},
		{"ENCODE", p(tS, tS, tS), []Value{"abc", "null", "utf8"}},
		{"REGEXP_EXTRACT", p(tS, tS), []Value{"(", "abc"}},
	} {
		if v, err := callScalar(t, tc.name, tc.ts, tc.args...); err == nil {
			t.Errorf("%s%v: got %v, want an error", tc.name, tc.args, v)
		}
	}
	// Resolution errors carry ksqlDB's messages.
	for _, tc := range []struct {
		name string
		ts   []*types.Type
		msg  string
	}{
		{"LEAST", p(types.Int, types.Bigint), "Function 'least' cannot be resolved due to ambiguous method parameters (INTEGER, BIGINT)."},
		{"GREATEST", p(types.Null, types.Null), "Function 'greatest' cannot be resolved due to ambiguous method parameters (null, null)."},
		{"COALESCE", nil, "Function 'COALESCE' does not accept parameters ()."},
	} {
		fn, _ := Builtins().Scalar(tc.name)
		_, _, err := fn.Resolve(tc.ts)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s%v: got %v, want %q", tc.name, tc.ts, err, tc.msg)
		}
	}
	for _, ts := range [][]*types.Type{p(types.String, types.Int), p(types.Date, types.Time, types.String), p()} {
		fn, _ := Builtins().Scalar("LEAST")
		if _, _, err := fn.Resolve(ts); err == nil || !strings.Contains(err.Error(), "Function 'least' does not accept parameters") {
			t.Errorf("LEAST%v: got %v, want no accepted overload", ts, err)
		}
	}
	ex, _ := Builtins().Table("EXPLODE")
	if _, _, err := ex.Resolve(p(types.MapOf(types.String, types.Int))); err == nil ||
		!strings.Contains(err.Error(), "Valid alternatives are:\nexplode(ARRAY<DECIMAL> input)\nexplode(ARRAY<T> list)") {
		t.Errorf("EXPLODE(MAP): %v", err)
	}
}
