package format

import (
	"testing"

	"github.com/seichedb/seiche/sql/types"
)

func TestDelimitedQuoting(t *testing.T) {
	s, err := New("DELIMITED", cols(types.String, types.String, types.Int), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		row  []types.Value
		want string
	}{
		{[]types.Value{"a", "b", int32(1)}, "a,b,1"},
		{[]types.Value{"!", "!", int32(1)}, `"!","!",1`},         // up to '#' at the start of any field
		{[]types.Value{"-10", "-10", int32(-1)}, `"-10",-10,-1`}, // first field not starting alphanumeric
		{[]types.Value{"a,b", `say "hi"`, nil}, `"a,b","say ""hi""",`},
		{[]types.Value{"", nil, int32(1)}, `"",,1`},
		{[]types.Value{"x", "y ", int32(1)}, `x,"y ",1`},
	} {
		b, err := s.Serialize(tc.row)
		if err != nil || string(b) != tc.want {
			t.Errorf("%v: got %q, %v; want %q", tc.row, b, err, tc.want)
		}
		if tc.row[0] == "" {
			continue // an empty field reads back as NULL
		}
		back, err := s.Deserialize(b)
		if err != nil || types.Format(back) != types.Format(tc.row) {
			t.Errorf("%q: round trip got %v, %v", b, back, err)
		}
	}
}

func TestJSONMapOrder(t *testing.T) {
	s, err := New("JSON", cols(types.MapOf(types.String, types.Double)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// The entries come in java.util.HashMap order, the same on every read.
	for i := 0; i < 5; i++ {
		row, err := s.Deserialize([]byte(`{"A": {"yes, thanks": 3.5, "nope": 7.3, "sure, yeah": 2.1}}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := types.Format(row[0]); got != "{yes, thanks=3.5, sure, yeah=2.1, nope=7.3}" {
			t.Fatalf("map order: %s", got)
		}
	}
	// A STRING column reading an object gets its text with the fields in document order.
	s, _ = New("JSON", cols(types.String), Options{})
	row, err := s.Deserialize([]byte(`{"A": {"b": 1, "a": [true, null]}}`))
	if err != nil || row[0] != `{"b":1,"a":[true,null]}` {
		t.Fatalf("object as text: %v, %v", row, err)
	}
}
