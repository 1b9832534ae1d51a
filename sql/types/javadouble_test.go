package types

import (
	"bufio"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestJavaDouble(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{0, "0.0"},
		{math.Copysign(0, -1), "-0.0"},
		{1, "1.0"},
		{100, "100.0"},
		{-2.5e10, "-2.5E10"},
		{123.456, "123.456"},
		{1e7, "1.0E7"},
		{9999999.0, "9999999.0"},
		{1.2345678e7, "1.2345678E7"},
		{0.001, "0.001"},
		{9.99e-4, "9.99E-4"},
		{1e-5, "1.0E-5"},
		{1.5e-5, "1.5E-5"},
		{1e23, "9.999999999999999E22"}, // JDK-4511638, fixed only in JDK 19
		{4611686018427387904, "4.6116860184273879E18"}, // 2^62: not the shortest "4.611686018427388E18"
		{math.MaxInt64, "9.223372036854776E18"},
		{math.MaxFloat64, "1.7976931348623157E308"},
		{math.SmallestNonzeroFloat64, "4.9E-324"},
		{math.NaN(), "NaN"},
		{math.Inf(1), "Infinity"},
		{math.Inf(-1), "-Infinity"},
	} {
		if got := JavaDouble(tc.f); got != tc.want {
			t.Errorf("JavaDouble(%v) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

// TestJavaDoubleJDK compares with Double.toString from JDK 17 over powers of two and ten, random bit
// patterns and random decimals (testdata/JavaDoubles.java generates the file).
func TestJavaDoubleJDK(t *testing.T) {
	f, err := os.Open("testdata/javadouble.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, bad := 0, 0
	for sc.Scan() {
		hex, want, _ := strings.Cut(sc.Text(), " ")
		b, err := strconv.ParseUint(hex, 16, 64)
		if err != nil {
			t.Fatal(err)
		}
		n++
		if got := JavaDouble(math.Float64frombits(b)); got != want {
			if bad++; bad <= 20 {
				t.Errorf("JavaDouble(%s) = %s, want %s", hex, got, want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d differ", bad, n)
	}
}
