package types

import (
	"fmt"

	"github.com/cockroachdb/apd/v3"
)

// decCtx is the context for exact decimal arithmetic: enough precision that + - * never round for
// DECIMAL(38, s) operands; results are then rounded to their SQL type with RoundDecimal.
var decCtx = apd.Context{Precision: 100, MaxExponent: apd.MaxExponent, MinExponent: apd.MinExponent,
	Traps: apd.DefaultTraps, Rounding: apd.RoundHalfUp}

// DecimalString renders d without exponent, keeping trailing zeros of its scale ("1.50"), like Java's
// BigDecimal.toPlainString.
func DecimalString(d *apd.Decimal) string { return d.Text('f') }

// AppendDecimal appends DecimalString(d) to dst.
func AppendDecimal(dst []byte, d *apd.Decimal) []byte { return d.Append(dst, 'f') }

// ParseDecimal parses a decimal literal exactly.
func ParseDecimal(s string) (*apd.Decimal, error) {
	d, _, err := apd.NewFromString(s)
	if err != nil {
		return nil, fmt.Errorf("invalid decimal %q", s)
	}
	return d, nil
}

// DecimalTypeOf returns the narrowest DECIMAL type that holds d exactly (ksqlDB's type of a decimal
// literal: 1.50 is DECIMAL(3, 2), 0.05 is DECIMAL(3, 2)).
func DecimalTypeOf(d *apd.Decimal) *Type {
	scale := 0
	if d.Exponent < 0 {
		scale = int(-d.Exponent)
	}
	digits := int(d.NumDigits())
	if d.Exponent > 0 {
		digits += int(d.Exponent)
	}
	p := digits
	if p < scale+1 && scale > 0 {
		// Java's BigDecimal precision of 0.05 is 1, and ksqlDB's type is DECIMAL(max(p, s), s);
		// the integer digit never counts when it is zero.
		p = scale
	}
	if p < scale {
		p = scale
	}
	if p == 0 {
		p = 1
	}
	return DecimalOf(p, scale)
}

// RoundDecimal returns d rounded (HALF_UP) to scale s, and an error if the result needs more than p digits.
func RoundDecimal(d *apd.Decimal, p, s int) (*apd.Decimal, error) {
	r := d
	// A finite d already at scale s, not a negative zero and within decCtx's precision, is what
	// Quantize would copy: decimals are never modified once made, so d itself is the result (an
	// allocation less, as for a DECIMAL product of a BIGINT and a decimal of the result's scale).
	if d.Form != apd.Finite || d.Exponent != int32(-s) || (d.IsZero() && d.Negative) || d.NumDigits() > int64(decCtx.Precision) {
		r = new(apd.Decimal)
		if _, err := decCtx.Quantize(r, d, int32(-s)); err != nil {
			return nil, err
		}
	}
	if r.IsZero() && r.Negative { // never d: a negative zero is quantized into a new r
		r.Negative = false
	}
	intDigits := int(r.NumDigits()) - s
	if r.IsZero() {
		intDigits = 0
	}
	if intDigits > p-s {
		return nil, fmt.Errorf("Numeric field overflow: A field with precision %d and scale %d must round to an absolute value less than 10^%d. Got %s", p, s, p-s, DecimalString(d))
	}
	return r, nil
}

// DecimalAdd, DecimalSub, DecimalMul compute exactly; DecimalDiv and DecimalRem round HALF_UP to the given
// scale. The caller rounds the result to its SQL type.
func DecimalAdd(a, b *apd.Decimal) (*apd.Decimal, error) {
	r := new(apd.Decimal)
	_, err := decCtx.Add(r, a, b)
	return r, err
}

func DecimalSub(a, b *apd.Decimal) (*apd.Decimal, error) {
	r := new(apd.Decimal)
	_, err := decCtx.Sub(r, a, b)
	return r, err
}

func DecimalMul(a, b *apd.Decimal) (*apd.Decimal, error) {
	r := new(apd.Decimal)
	_, err := decCtx.Mul(r, a, b)
	return r, err
}

// DecimalDiv divides and rounds to scale; dividing by zero is an error.
func DecimalDiv(a, b *apd.Decimal, scale int) (*apd.Decimal, error) {
	if b.IsZero() {
		return nil, fmt.Errorf("Division by zero")
	}
	r := new(apd.Decimal)
	if _, err := decCtx.Quo(r, a, b); err != nil {
		return nil, err
	}
	q := new(apd.Decimal)
	_, err := decCtx.Quantize(q, r, int32(-scale))
	return q, err
}

// DecimalRem is the remainder with the sign of the dividend (Java BigDecimal.remainder).
func DecimalRem(a, b *apd.Decimal) (*apd.Decimal, error) {
	if b.IsZero() {
		return nil, fmt.Errorf("Division by zero")
	}
	r := new(apd.Decimal)
	_, err := decCtx.Rem(r, a, b)
	return r, err
}

// DecimalNeg returns -a.
func DecimalNeg(a *apd.Decimal) *apd.Decimal {
	r := new(apd.Decimal)
	r.Neg(a)
	return r
}
