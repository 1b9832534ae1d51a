package format

import (
	"math"
	"strings"
	"testing"

	"github.com/seichedb/seiche/sql/types"
)

func cols(ts ...*types.Type) []types.Column {
	var out []types.Column
	for i, t := range ts {
		out = append(out, types.Column{Name: string(rune('A' + i)), Type: t})
	}
	return out
}

func TestKafka(t *testing.T) {
	for _, tc := range []struct {
		t    *types.Type
		v    types.Value
		want string
	}{
		{types.Int, int32(1), "\x00\x00\x00\x01"},
		{types.Bigint, int64(-1), "\xff\xff\xff\xff\xff\xff\xff\xff"},
		{types.Double, 1.0, "\x3f\xf0\x00\x00\x00\x00\x00\x00"},
		{types.String, "héllo", "héllo"},
	} {
		s, err := New("KAFKA", cols(tc.t), Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Serialize([]types.Value{tc.v})
		if err != nil || string(b) != tc.want {
			t.Fatalf("%s: got %q, %v", tc.t, b, err)
		}
		back, err := s.Deserialize(b)
		if err != nil || !types.Equal(back[0], tc.v) {
			t.Fatalf("%s: round trip got %v, %v", tc.t, back, err)
		}
	}
	if _, err := New("KAFKA", cols(types.Boolean), Options{}); err == nil {
		t.Fatal("KAFKA accepted BOOLEAN")
	}
	if _, err := New("KAFKA", cols(types.Int, types.Int), Options{}); err == nil || !strings.Contains(err.Error(), "single field") {
		t.Fatalf("KAFKA accepted two columns: %v", err)
	}
	s, _ := New("KAFKA", cols(types.Int), Options{})
	if b, _ := s.Serialize([]types.Value{nil}); b != nil {
		t.Fatalf("NULL serialized to %q", b)
	}
}

func TestJSON(t *testing.T) {
	st := types.StructOf(types.Field{Name: "X", Type: types.Int})
	c := []types.Column{{Name: "ID", Type: types.Bigint}, {Name: "NAME", Type: types.String},
		{Name: "DEC", Type: types.DecimalOf(4, 2)}, {Name: "S", Type: st}, {Name: "M", Type: types.MapOf(types.String, types.Double)}}
	s, err := New("JSON", c, Options{})
	if err != nil {
		t.Fatal(err)
	}
	vals, err := s.Deserialize([]byte(`{"id": 5, "Name": "x", "dec": 1.5, "s": {"x": "7"}, "M": {"a": 1}}`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Serialize(vals)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"ID":5,"NAME":"x","DEC":1.50,"S":{"X":7},"M":{"a":1.0}}`; string(out) != want {
		t.Fatalf("got %s want %s", out, want)
	}
	// Unwrapped single values: keys by default, values with WRAP_SINGLE_VALUE=false.
	no := false
	for _, opts := range []Options{{IsKey: true}, {Wrap: &no}} {
		s, err := New("JSON", cols(types.Int), opts)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := s.Serialize([]types.Value{int32(3)})
		if string(b) != "3" {
			t.Fatalf("unwrapped got %s", b)
		}
	}
	if _, err := New("JSON", cols(types.MapOf(types.Int, types.Int)), Options{}); err == nil {
		t.Fatal("JSON accepted a non-string map key")
	}
}

// TestJSONDouble: the JSON format writes a DOUBLE as Jackson does, with Double.toString (JDK 17 digits),
// and NaN and the infinities as strings; values, unwrapped keys and DELIMITED alike.
func TestJSONDouble(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{100, "100.0"},
		{1e7, "1.0E7"},
		{9999999, "9999999.0"},
		{1.2345678e7, "1.2345678E7"},
		{0.001, "0.001"},
		{1e-5, "1.0E-5"},
		{4611686018427387904, "4.6116860184273879E18"},
		{math.Copysign(0, -1), "-0.0"},
		{math.NaN(), `"NaN"`},
		{math.Inf(-1), `"-Infinity"`},
	} {
		val, _ := New("JSON", cols(types.Double), Options{})
		key, _ := New("JSON", cols(types.Double), Options{IsKey: true})
		del, _ := New("DELIMITED", cols(types.Double, types.Double), Options{})
		v, _ := val.Serialize([]types.Value{tc.f})
		k, _ := key.Serialize([]types.Value{tc.f})
		d, _ := del.Serialize([]types.Value{1.0, tc.f})
		if string(v) != `{"A":`+tc.want+`}` || string(k) != tc.want || string(d) != "1.0,"+strings.Trim(tc.want, `"`) {
			t.Errorf("%v: value %s, key %s, delimited %s; want %s", tc.f, v, k, d, tc.want)
		}
	}
}

func TestDelimited(t *testing.T) {
	s, err := New("DELIMITED", cols(types.Int, types.String, types.Double), Options{Delimiter: "|"})
	if err != nil {
		t.Fatal(err)
	}
	vals, err := s.Deserialize([]byte(`1|"a|b"|`))
	if err != nil {
		t.Fatal(err)
	}
	if vals[0] != int32(1) || vals[1] != "a|b" || vals[2] != nil {
		t.Fatalf("got %v", vals)
	}
	b, _ := s.Serialize(vals)
	if string(b) != `1|"a|b"|` {
		t.Fatalf("got %s", b)
	}
	if _, err := s.Deserialize([]byte(`1|2`)); err == nil {
		t.Fatal("wrong field count accepted")
	}
	if _, err := New("DELIMITED", cols(types.ArrayOf(types.Int)), Options{}); err == nil || !strings.Contains(err.Error(), "'ARRAY'") {
		t.Fatalf("DELIMITED accepted ARRAY: %v", err)
	}
}

func TestNone(t *testing.T) {
	if _, err := New("NONE", cols(types.Int), Options{IsKey: true}); err == nil {
		t.Fatal("NONE accepted a column")
	}
	s, _ := New("NONE", nil, Options{})
	if b, _ := s.Serialize([]types.Value{}); b != nil {
		t.Fatal("NONE wrote bytes")
	}
}
