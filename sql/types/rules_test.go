package types

import "testing"

func TestArithResult(t *testing.T) {
	for _, tc := range []struct {
		op   ArithOp
		a, b *Type
		want string
	}{
		{Add, Int, Int, "INTEGER"},
		{Add, Int, Bigint, "BIGINT"},
		{Mul, Bigint, Double, "DOUBLE"},
		{Add, DecimalOf(4, 2), DecimalOf(3, 1), "DECIMAL(5, 2)"},
		{Sub, DecimalOf(4, 2), Int, "DECIMAL(13, 2)"},
		{Mul, DecimalOf(4, 2), DecimalOf(3, 1), "DECIMAL(8, 3)"},
		{Div, DecimalOf(4, 2), DecimalOf(3, 1), "DECIMAL(9, 6)"},
		{Mod, DecimalOf(4, 2), DecimalOf(3, 1), "DECIMAL(4, 2)"},
		{Add, DecimalOf(38, 0), DecimalOf(38, 0), "DECIMAL(38, 0)"},
		{Add, DecimalOf(4, 2), Double, "DOUBLE"},
	} {
		if got := ArithResult(tc.op, tc.a, tc.b); got == nil || got.String() != tc.want {
			t.Errorf("%s %s %s: got %v want %s", tc.a, tc.op, tc.b, got, tc.want)
		}
	}
	if ArithResult(Add, String, Int) != nil {
		t.Error("STRING + INT typed")
	}
}

func TestWidening(t *testing.T) {
	for _, tc := range []struct {
		from, to *Type
		ok       bool
	}{
		{Int, Bigint, true}, {Bigint, Int, false}, {Int, Double, true}, {Int, DecimalOf(12, 2), true},
		{Int, DecimalOf(5, 0), false}, {DecimalOf(4, 2), DecimalOf(6, 3), true}, {DecimalOf(4, 2), DecimalOf(4, 3), false},
		{Null, String, true}, {String, Int, false}, {ArrayOf(Int), ArrayOf(Bigint), true},
	} {
		if got := CanWiden(tc.from, tc.to); got != tc.ok {
			t.Errorf("CanWiden(%s, %s) = %v", tc.from, tc.to, got)
		}
	}
	if ct := CommonType(Int, DecimalOf(4, 2)); ct.String() != "DECIMAL(12, 2)" {
		t.Errorf("CommonType(INT, DECIMAL(4,2)) = %s", ct)
	}
}

func TestDecimal(t *testing.T) {
	d, _ := ParseDecimal("1.005")
	r, err := RoundDecimal(d, 4, 2)
	if err != nil || DecimalString(r) != "1.01" {
		t.Fatalf("round half up: %v %v", r, err)
	}
	if _, err := RoundDecimal(d, 2, 2); err == nil {
		t.Fatal("overflow not detected")
	}
	if dt := DecimalTypeOf(d); dt.String() != "DECIMAL(4, 3)" {
		t.Fatalf("literal type %s", dt)
	}
}

// TestParseBoolean checks ksqlDB's boolean strings: any non-empty prefix of true/yes or false/no.
func TestParseBoolean(t *testing.T) {
	for in, want := range map[string]Value{"true": true, "TrUe": true, "tr": true, "Y": true, "yes": true,
		"f": false, "FALSE": false, "n": false, "No": false, "": nil, "maybe": nil, "truer": nil} {
		got, err := ParseBoolean(in)
		if got != want || (want == nil) != (err != nil) {
			t.Errorf("ParseBoolean(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
