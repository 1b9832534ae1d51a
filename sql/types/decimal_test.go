package types

import (
	"testing"

	"github.com/cockroachdb/apd/v3"
)

// TestRoundDecimalAtScale: a decimal already at the scale, which RoundDecimal returns as its own
// rounding, rounds to what the same value written with one more trailing zero (which RoundDecimal
// quantizes into a new decimal) rounds to: value, sign, scale and whether it overflows; and
// RoundDecimal never changes its argument.
func TestRoundDecimalAtScale(t *testing.T) {
	for _, tc := range []struct {
		in   string
		p, s int
	}{
		{"1.500", 10, 3}, {"-1.500", 10, 3}, {"0.000", 5, 3}, {"-0.000", 5, 3}, {"12345.678", 8, 3},
		{"12345.678", 7, 3}, {"100", 3, 0}, {"1000", 3, 0}, {"-99999999999999999999999999999999999999.9", 38, 1},
	} {
		d, _, err := apd.NewFromString(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		if d.Exponent != int32(-tc.s) {
			t.Fatalf("%s is not at scale %d", tc.in, tc.s)
		}
		longer := new(apd.Decimal)
		longer.Coeff.Mul(&d.Coeff, apd.NewBigInt(10))
		longer.Exponent, longer.Negative = d.Exponent-1, d.Negative
		before := d.String()
		got, err := RoundDecimal(d, tc.p, tc.s)
		want, werr := RoundDecimal(longer, tc.p, tc.s)
		if (err != nil) != (werr != nil) {
			t.Errorf("%s as DECIMAL(%d, %d): error %v, from %s: %v", tc.in, tc.p, tc.s, err, longer, werr)
			continue
		}
		if err == nil && (got.String() != want.String() || got.Negative != want.Negative || got.Exponent != want.Exponent) {
			t.Errorf("%s as DECIMAL(%d, %d): %s, from %s: %s", tc.in, tc.p, tc.s, got, longer, want)
		}
		if d.String() != before {
			t.Errorf("%s: RoundDecimal changed its argument to %s", tc.in, d)
		}
	}
}
