package types

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"
)

// JavaDouble formats f the way Java's Double.toString does on the JDKs ksqlDB runs on (8 to 17), which is
// what ksqlDB writes for a DOUBLE everywhere: CAST(d AS STRING), string concatenation, the JSON format
// (Jackson writes doubles with Double.toString) and the REST API's rows.
//
// The shape is Java's: for 10^-3 <= |f| < 10^7 a plain decimal with at least one digit after the point
// ("100.0", "0.001"), otherwise computerized scientific notation ("1.0E7", "1.0E-5", "-2.5E10"), and
// "NaN", "Infinity", "-Infinity", "0.0", "-0.0" for the special values.
//
// The digits are those of the JDK's FloatingDecimal.dtoa, not the shortest digits that round-trip (which
// JDK 19 and later, and Go's strconv, produce). The two agree for most doubles but not all: 2^62 is
// "4.6116860184273879E18" here, where the shortest form is "4.611686018427388E18", and 1e23 is
// "9.999999999999999E22" rather than "1.0E23". dtoa stops generating digits with a symmetric test and,
// for doubles that are integers below 2^63, keeps every digit above the ones it may drop, so it
// sometimes emits a digit more than needed. Both strings parse back to the same double.
func JavaDouble(f float64) string {
	return string(AppendJavaDouble(make([]byte, 0, 24), f))
}

// AppendJavaDouble appends JavaDouble(f) to dst.
func AppendJavaDouble(dst []byte, f float64) []byte {
	const (
		expShift = 52
		fractHOB = uint64(1) << expShift
		signif   = fractHOB - 1
		expBias  = 1023
	)
	b := math.Float64bits(f)
	neg := b>>63 != 0
	fract := b & signif
	binExp := int(b>>expShift) & 0x7ff
	if binExp == 0x7ff {
		switch {
		case fract != 0:
			return append(dst, "NaN"...)
		case neg:
			return append(dst, "-Infinity"...)
		}
		return append(dst, "Infinity"...)
	}
	var nSignificantBits int
	if binExp == 0 {
		if fract == 0 {
			if neg {
				return append(dst, "-0.0"...)
			}
			return append(dst, "0.0"...)
		}
		// Subnormal: normalize so the high-order bit sits where the hidden bit would.
		lz := bits.LeadingZeros64(fract)
		shift := lz - (63 - expShift)
		fract <<= uint(shift)
		binExp = 1 - shift
		nSignificantBits = 64 - lz
	} else {
		fract |= fractHOB
		nSignificantBits = expShift + 1
	}
	binExp -= expBias
	var d javaDecimal
	d.dtoa(binExp, fract, nSignificantBits)
	if neg {
		dst = append(dst, '-')
	}
	return d.appendTo(dst)
}

// javaDecimal is the digit string dtoa produces: the value is 0.d1d2...dn × 10^decExponent.
type javaDecimal struct {
	buf         [24]byte
	first, n    int
	decExponent int
}

func (d *javaDecimal) digits() []byte { return d.buf[d.first : d.first+d.n] }

// n5Bits[i] is the bit length of 5^i (0 for i = 0), the estimate dtoa uses to choose int, long or big
// arithmetic. The choice matters: the big-integer path's stopping test is not strict where the others are.
var n5Bits = [...]int{0, 3, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28, 31, 33, 35, 38, 40, 42, 45, 47, 49, 52, 54, 56, 59, 61}

func n5BitsOf(i int) int {
	if i < len(n5Bits) {
		return n5Bits[i]
	}
	return i * 3
}

func pow5Int64(i int) int64 {
	p := int64(1)
	for ; i > 0; i-- {
		p *= 5
	}
	return p
}

// dtoa computes the digits of fractBits × 2^(binExp-52), where fractBits has bit 52 set.
func (d *javaDecimal) dtoa(binExp int, fractBits uint64, nSignificantBits int) {
	tailZeros := bits.TrailingZeros64(fractBits)
	nFractBits := 53 - tailZeros // significant bits in fractBits
	nTinyBits := max(0, nFractBits-binExp-1)

	// An integer below 2^63: its decimal digits, with the ones below the double's precision rounded off.
	if nTinyBits == 0 && binExp <= 62 && binExp >= -21 {
		insignificant := 0
		if binExp > nSignificantBits {
			// Digits of 2^p, the spacing of doubles here, that are below the precision: floor(log10 2^p).
			if p := binExp - nSignificantBits - 1; p > 1 {
				for x := int64(1) << uint(p); x >= 10; x /= 10 {
					insignificant++
				}
			}
		}
		v := fractBits
		if binExp >= 52 {
			v <<= uint(binExp - 52)
		} else {
			v >>= uint(52 - binExp)
		}
		d.developLongDigits(int64(v), insignificant)
		return
	}

	// B / S × 10^decExp is the value with 1 <= B/S < 10; M is half an ulp scaled like B. Digits are
	// generated while the remainder stays more than M away from both neighbours.
	decExp := estimateDecExp(fractBits, binExp)
	b5 := max(0, -decExp)
	b2 := b5 + nTinyBits + binExp
	s5 := max(0, decExp)
	s2 := s5 + nTinyBits
	m5 := b5
	m2 := b2 - nSignificantBits

	fractBits >>= uint(tailZeros)
	b2 -= nFractBits - 1
	common := min(b2, s2)
	b2 -= common
	s2 -= common
	m2 -= common
	if nFractBits == 1 { // a power of two: the double below is half as far away
		m2--
	}
	if m2 < 0 {
		b2 -= m2
		s2 -= m2
		m2 = 0
	}

	ndigit := 0
	var low, high bool
	var lowDigitDifference int64
	// E-form output needs a digit after the point, so the first digit alone never ends it.
	eForm := func() bool { return decExp < -3 || decExp >= 8 }
	bBits := nFractBits + b2 + n5BitsOf(b5)
	tenSBits := s2 + 1 + n5BitsOf(s5+1)
	switch {
	case bBits < 32 && tenSBits < 32:
		b := int32(int32(fractBits)*int32(pow5Int64(b5))) << uint(b2)
		s := int32(pow5Int64(s5)) << uint(s2)
		m := int32(pow5Int64(m5)) << uint(m2)
		tens := s * 10
		q := b / s
		b = 10 * (b % s)
		m *= 10
		low = b < m
		high = b+m > tens
		if q == 0 && !high {
			decExp--
		} else {
			d.buf[ndigit] = byte('0' + q)
			ndigit++
		}
		if eForm() {
			low, high = false, false
		}
		for !low && !high {
			q = b / s
			b = 10 * (b % s)
			m *= 10
			if m > 0 {
				low = b < m
				high = b+m > tens
			} else { // m overflowed: it is certainly past both bounds
				low, high = true, true
			}
			d.buf[ndigit] = byte('0' + q)
			ndigit++
		}
		lowDigitDifference = int64(b<<1 - tens)
	case bBits < 64 && tenSBits < 64:
		b := (int64(fractBits) * pow5Int64(b5)) << uint(b2)
		s := pow5Int64(s5) << uint(s2)
		m := pow5Int64(m5) << uint(m2)
		tens := s * 10
		q := b / s
		b = 10 * (b % s)
		m *= 10
		low = b < m
		high = b+m > tens
		if q == 0 && !high {
			decExp--
		} else {
			d.buf[ndigit] = byte('0' + q)
			ndigit++
		}
		if eForm() {
			low, high = false, false
		}
		for !low && !high {
			q = b / s
			b = 10 * (b % s)
			m *= 10
			if m > 0 {
				low = b < m
				high = b+m > tens
			} else {
				low, high = true, true
			}
			d.buf[ndigit] = byte('0' + q)
			ndigit++
		}
		lowDigitDifference = b<<1 - tens
	default:
		pow52 := func(p5, p2 int) *big.Int {
			v := new(big.Int).Exp(big.NewInt(5), big.NewInt(int64(p5)), nil)
			return v.Lsh(v, uint(p2))
		}
		S := pow52(s5, s2)
		B := pow52(b5, b2)
		B.Mul(B, new(big.Int).SetUint64(fractBits))
		M := pow52(m5+1, m2+1)    // 10·M: the first quotient multiplies the remainder by 10
		tenS := pow52(s5+1, s2+1) // 10·S
		ten := big.NewInt(10)
		var q, sum big.Int
		next := func() int { // q = B / S; B = 10·(B mod S)
			q.QuoRem(B, S, B)
			B.Mul(B, ten)
			return int(q.Int64())
		}
		bounds := func() {
			low = B.Cmp(M) < 0
			high = tenS.Cmp(sum.Add(B, M)) <= 0
		}
		q0 := next()
		bounds()
		if q0 == 0 && !high {
			decExp--
		} else {
			d.buf[ndigit] = byte('0' + q0)
			ndigit++
		}
		if eForm() {
			low, high = false, false
		}
		for !low && !high {
			qi := next()
			M.Mul(M, ten)
			bounds()
			d.buf[ndigit] = byte('0' + qi)
			ndigit++
		}
		if high && low {
			lowDigitDifference = int64(new(big.Int).Lsh(B, 1).Cmp(tenS))
		}
	}
	d.decExponent = decExp + 1
	d.first = 0
	d.n = ndigit
	// The last digit is rounded by where the remainder stopped.
	if high {
		switch {
		case !low:
			d.roundup()
		case lowDigitDifference == 0:
			if d.buf[ndigit-1]&1 != 0 { // a tie: round to even
				d.roundup()
			}
		case lowDigitDifference > 0:
			d.roundup()
		}
	}
}

// developLongDigits sets the digits of v with its lowest insignificant digits rounded off (half up) and
// its trailing zeros dropped.
func (d *javaDecimal) developLongDigits(v int64, insignificant int) {
	decExponent := 0
	if insignificant != 0 {
		pow10 := pow5Int64(insignificant) << uint(insignificant)
		residue := v % pow10
		v /= pow10
		decExponent += insignificant
		if residue >= pow10>>1 {
			v++
		}
	}
	for v%10 == 0 {
		decExponent++
		v /= 10
	}
	s := strconv.AppendInt(d.buf[:0], v, 10)
	d.first = 0
	d.n = len(s)
	d.decExponent = decExponent + d.n
}

// roundup adds one to the last digit. A carry out of the first digit leaves "1" followed by the
// zeros in place, with the exponent one larger, as the JDK does.
func (d *javaDecimal) roundup() {
	i := d.first + d.n - 1
	q := d.buf[i]
	if q == '9' {
		for q == '9' && i > d.first {
			d.buf[i] = '0'
			i--
			q = d.buf[i]
		}
		if q == '9' {
			d.decExponent++
			d.buf[d.first] = '1'
			return
		}
	}
	d.buf[i] = q + 1
}

// estimateDecExp is floor(log10(value)) by the JDK's estimate (possibly one too high, which the first
// quotient corrects), from log10(1.5) plus a linear term for the mantissa and binExp·log10(2).
func estimateDecExp(fractBits uint64, binExp int) int {
	d2 := math.Float64frombits(0x3ff0000000000000 | fractBits&(1<<52-1))
	// The explicit conversions keep Go from fusing the multiply-adds, which Java does not do.
	d := float64((d2-1.5)*0.289529654) + 0.176091259 + float64(float64(binExp)*0.301029995663981)
	return int(math.Floor(d))
}

// appendTo writes the digits in Double.toString's layout.
func (d *javaDecimal) appendTo(dst []byte) []byte {
	digits := d.digits()
	e := d.decExponent
	switch {
	case e > 0 && e < 8:
		n := min(len(digits), e)
		dst = append(dst, digits[:n]...)
		if n < e {
			for range e - n {
				dst = append(dst, '0')
			}
			return append(dst, ".0"...)
		}
		dst = append(dst, '.')
		if n < len(digits) {
			return append(dst, digits[n:]...)
		}
		return append(dst, '0')
	case e <= 0 && e > -3:
		dst = append(dst, "0."...)
		for range -e {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[0], '.')
	if len(digits) > 1 {
		dst = append(dst, digits[1:]...)
	} else {
		dst = append(dst, '0')
	}
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(e-1), 10)
}
