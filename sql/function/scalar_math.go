package function

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/seichedb/seiche/sql/types"
)

func f64(v Value) float64 { f, _ := types.ToFloat(v); return f }

// doubleFn defines a DOUBLE → DOUBLE function (integers widen).
func doubleFn(name string, fn func(float64) float64) {
	def(name, Sig{Params: p(tD), Ret: tD, Impl: func(a []Value) (Value, error) { return fn(f64(a[0])), nil }})
}

func decimalRound(d *apd.Decimal, scale int32, mode apd.Rounder) *apd.Decimal {
	c := apd.BaseContext.WithPrecision(100)
	c.Rounding = mode
	r := new(apd.Decimal)
	_, _ = c.Quantize(r, d, -scale)
	return r
}

// javaLog is the natural logarithm rounded to the nearest double, as Java's Math.log returns it (Go's
// math.Log may be one unit in the last place off, which shows in results compared exactly).
func javaLog(x float64) float64 {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 1) || x == 1:
		return math.Log(x)
	case x < 0:
		return math.NaN()
	case x == 0:
		return math.Inf(-1)
	}
	d, _, err := apd.NewFromString(strconv.FormatFloat(x, 'g', -1, 64))
	if err != nil {
		return math.Log(x)
	}
	c := apd.BaseContext.WithPrecision(25)
	r := new(apd.Decimal)
	if _, err := c.Ln(r, d); err != nil {
		return math.Log(x)
	}
	f, err := r.Float64()
	if err != nil {
		return math.Log(x)
	}
	return f
}

// roundHalfPositive rounds to scale places with halves toward positive infinity, like Math.round and
// ksqlDB's ROUND (HALF_UP above zero, HALF_DOWN below).
func roundHalfPositive(d *apd.Decimal, scale int32) *apd.Decimal {
	if d.Negative {
		return decimalRound(d, scale, apd.RoundHalfDown)
	}
	return decimalRound(d, scale, apd.RoundHalfUp)
}

// javaRound is Math.round: half up toward positive infinity.
func javaRound(f float64) float64 { return math.Floor(f + 0.5) }

func init() {
	def("ABS",
		Sig{Params: p(tI), Ret: tI, Impl: func(a []Value) (Value, error) {
			x := i32(a[0])
			if x < 0 {
				x = -x
			}
			return x, nil
		}},
		Sig{Params: p(tB), Ret: tB, Impl: func(a []Value) (Value, error) {
			x := a[0].(int64)
			if x < 0 {
				x = -x
			}
			return x, nil
		}},
		Sig{Params: p(tD), Ret: tD, Impl: func(a []Value) (Value, error) { return math.Abs(a[0].(float64)), nil }},
		Sig{Params: p(AnyDecimal), RetFn: firstArg, Impl: func(a []Value) (Value, error) {
			r := new(apd.Decimal)
			r.Abs(a[0].(*apd.Decimal))
			return r, nil
		}})
	for _, fn := range []struct {
		name string
		f    func(float64) float64
	}{{"ACOS", math.Acos}, {"ASIN", math.Asin}, {"ATAN", math.Atan}, {"COS", math.Cos}, {"COSH", math.Cosh},
		{"SIN", math.Sin}, {"SINH", math.Sinh}, {"TAN", math.Tan}, {"TANH", math.Tanh}, {"CBRT", math.Cbrt},
		{"SQRT", math.Sqrt}, {"EXP", math.Exp}, {"LN", javaLog},
		{"COT", func(x float64) float64 { return 1 / math.Tan(x) }},
		{"DEGREES", func(x float64) float64 { return x * 180 / math.Pi }},
		{"RADIANS", func(x float64) float64 { return x / 180 * math.Pi }}} {
		doubleFn(fn.name, fn.f)
	}
	def("ATAN2", Sig{Params: p(tD, tD), Ret: tD, Impl: func(a []Value) (Value, error) { return math.Atan2(f64(a[0]), f64(a[1])), nil }})
	def("LOG",
		Sig{Params: p(tD), Ret: tD, Impl: func(a []Value) (Value, error) { return javaLog(f64(a[0])), nil }},
		Sig{Params: p(tD, tD), Ret: tD, Impl: func(a []Value) (Value, error) {
			base, x := f64(a[0]), f64(a[1])
			if base <= 0 || base == 1 || x < 0 {
				return math.NaN(), nil
			}
			return javaLog(x) / javaLog(base), nil
		}})
	def("POWER", Sig{Params: p(tD, tD), Ret: tD, Impl: func(a []Value) (Value, error) { return math.Pow(f64(a[0]), f64(a[1])), nil }})
	def("PI", Sig{Params: p(), Ret: tD, Impl: func([]Value) (Value, error) { return math.Pi, nil }})
	def("RANDOM", Sig{Params: p(), Ret: tD, Impl: func([]Value) (Value, error) { return rand.Float64(), nil }})
	def("SIGN",
		Sig{Params: p(tI), Ret: tI, Impl: func(a []Value) (Value, error) { return int32(sign(float64(i32(a[0])))), nil }},
		Sig{Params: p(tB), Ret: tI, Impl: func(a []Value) (Value, error) { return int32(sign(float64(a[0].(int64)))), nil }},
		Sig{Params: p(tD), Ret: tI, Impl: func(a []Value) (Value, error) { return int32(sign(a[0].(float64))), nil }},
		Sig{Params: p(AnyDecimal), Ret: tI, Impl: func(a []Value) (Value, error) { return int32(a[0].(*apd.Decimal).Sign()), nil }})
	for _, name := range []string{"CEIL", "FLOOR"} {
		ceil := name == "CEIL"
		mode := apd.RoundFloor
		gof := math.Floor
		if ceil {
			mode, gof = apd.RoundCeiling, math.Ceil
		}
		def(name,
			Sig{Params: p(tI), Ret: tI, Impl: func(a []Value) (Value, error) { return a[0], nil }},
			Sig{Params: p(tB), Ret: tB, Impl: func(a []Value) (Value, error) { return a[0], nil }},
			Sig{Params: p(tD), Ret: tD, Impl: func(a []Value) (Value, error) { return gof(a[0].(float64)), nil }},
			// ksqlDB's Ceil and Floor keep a DECIMAL's type: the integral value at the argument's scale.
			Sig{Params: p(AnyDecimal), RetFn: firstArg, Build: func(args []*types.Type) (Impl, error) {
				scale := args[0].Scale
				return func(a []Value) (Value, error) {
					return decimalRound(decimalRound(a[0].(*apd.Decimal), 0, mode), int32(scale), mode), nil
				}, nil
			}})
	}
	// ROUND and TRUNC of an INT are BIGINTs, as ksqlDB's UDFs return a Long for an int.
	def("ROUND",
		Sig{Params: p(tI), Ret: tB, Impl: func(a []Value) (Value, error) { return int64(a[0].(int32)), nil }},
		Sig{Params: p(tB), Ret: tB, Impl: func(a []Value) (Value, error) { return a[0], nil }},
		Sig{Params: p(tD), Ret: tB, Impl: func(a []Value) (Value, error) { return int64(javaRound(a[0].(float64))), nil }},
		Sig{Params: p(tD, tI), Ret: tD, Impl: func(a []Value) (Value, error) {
			d, err := types.DoubleToDecimal(a[0].(float64))
			if err != nil {
				return a[0], nil
			}
			f, _ := roundHalfPositive(d, i32(a[1])).Float64()
			if f == 0 {
				f = 0 // no negative zero, as BigDecimal.doubleValue
			}
			return f, nil
		}},
		Sig{Params: p(AnyDecimal), RetFn: func(args []*types.Type) (*types.Type, error) {
			t := args[0]
			return types.DecimalOf(max(t.Precision-t.Scale, 1), 0), nil
		}, Impl: func(a []Value) (Value, error) { return roundHalfPositive(a[0].(*apd.Decimal), 0), nil }},
		Sig{Params: p(AnyDecimal, tI), RetFn: firstArg, Build: func(args []*types.Type) (Impl, error) {
			scale := args[0].Scale
			return func(a []Value) (Value, error) {
				r := roundHalfPositive(a[0].(*apd.Decimal), i32(a[1]))
				return decimalRound(r, int32(scale), apd.RoundHalfUp), nil
			}, nil
		}})
	def("TRUNC",
		Sig{Params: p(tI), Ret: tB, Impl: func(a []Value) (Value, error) { return int64(a[0].(int32)), nil }},
		Sig{Params: p(tB), Ret: tB, Impl: func(a []Value) (Value, error) { return a[0], nil }},
		Sig{Params: p(tD), Ret: tB, Impl: func(a []Value) (Value, error) { return int64(math.Trunc(a[0].(float64))), nil }},
		Sig{Params: p(tD, tI), Ret: tD, Impl: func(a []Value) (Value, error) {
			d, err := types.DoubleToDecimal(a[0].(float64))
			if err != nil {
				return a[0], nil
			}
			f, _ := decimalRound(d, i32(a[1]), apd.RoundDown).Float64()
			return f, nil
		}},
		Sig{Params: p(AnyDecimal), RetFn: func(args []*types.Type) (*types.Type, error) {
			t := args[0]
			return types.DecimalOf(max(t.Precision-t.Scale, 1), 0), nil
		}, Impl: func(a []Value) (Value, error) { return decimalRound(a[0].(*apd.Decimal), 0, apd.RoundDown), nil }},
		// TRUNC(DECIMAL, places) keeps the argument's type: digits past places become zeros.
		Sig{Params: p(AnyDecimal, tI), RetFn: firstArg, Build: func(args []*types.Type) (Impl, error) {
			scale := args[0].Scale
			return func(a []Value) (Value, error) {
				r := decimalRound(a[0].(*apd.Decimal), i32(a[1]), apd.RoundDown)
				return decimalRound(r, int32(scale), apd.RoundDown), nil
			}, nil
		}})
	// GREATEST and LEAST have one overload per comparable type, all arguments of it (ksqlDB's Greatest and
	// Least UDFs); NULL arguments are ignored. The DECIMAL overload's result holds every argument.
	for _, name := range []string{"GREATEST", "LEAST"} {
		greatest := name == "GREATEST"
		impl := func(vals []Value) (Value, error) { return extreme(vals, greatest), nil }
		var sigs []Sig
		for _, t := range []*types.Type{tI, tB, tD, AnyDecimal, tS, types.Bytes, types.Date, types.Time, types.Timestamp} {
			sig := Sig{Params: p(t), Variadic: t, Names: []string{"val", "vals"}, Ret: t, NullSafe: true, Impl: impl}
			if t == AnyDecimal {
				sig.Ret, sig.RetFn, sig.Impl = nil, commonDecimal, nil
				sig.Build = func(args []*types.Type) (Impl, error) {
					// Every argument is brought to the result's scale, so the result is at its type's.
					t, _ := commonDecimal(args)
					convs := make([]types.Converter, len(args))
					for i, a := range args {
						convs[i] = types.Widener(a, t)
					}
					return func(vals []Value) (Value, error) {
						vals, err := convert(convs, vals)
						if err != nil {
							return nil, err
						}
						return impl(vals)
					}, nil
				}
			}
			sigs = append(sigs, sig)
		}
		def(name, sigs...)
	}

	// GEO_DISTANCE(lat1, lon1, lat2, lon2 [, unit]): the great-circle (haversine) distance in kilometres, or
	// miles for unit 'mi'/'mile'/'miles'.
	geo := func(a []Value) (Value, error) {
		lat1, lon1, lat2, lon2 := a[0].(float64), a[1].(float64), a[2].(float64), a[3].(float64)
		if lat1 < -90 || lat2 < -90 || lat1 > 90 || lat2 > 90 {
			return nil, fmt.Errorf("valid latitude values for GeoDistance function are in the range of -90 to 90 decimal degrees")
		}
		if lon1 < -180 || lon2 < -180 || lon1 > 180 || lon2 > 180 {
			return nil, fmt.Errorf("valid longitude values for GeoDistance function are in the range of -180 to +180 decimal degrees")
		}
		radius := 6371.0
		if len(a) > 4 && a[4] != nil {
			switch strings.ToLower(strings.TrimSpace(a[4].(string))) {
			case "":
			case "mi", "mile", "miles":
				radius = 3959
			case "km", "kilometer", "kilometers", "kilometre", "kilometres":
			default:
				return nil, fmt.Errorf("GeoDistance function units parameter must be one of mi, mile, miles, km, kilometer, kilometers, kilometre or kilometres. Values are case-insensitive.")
			}
		}
		rad := func(deg float64) float64 { return deg * (math.Pi / 180) }
		hav := func(x float64) float64 { s := math.Sin(x / 2); return s * s }
		dLat, dLon := rad(lat2-lat1), rad(lon2-lon1)
		h := hav(dLat) + hav(dLon)*math.Cos(rad(lat1))*math.Cos(rad(lat2))
		return 2 * math.Asin(math.Sqrt(h)) * radius, nil
	}
	def("GEO_DISTANCE", Sig{Params: p(tD, tD, tD, tD), Ret: tD, Impl: geo},
		Sig{Params: p(tD, tD, tD, tD, tS), Ret: tD, Impl: geo})
}

// commonDecimal is the DECIMAL that holds every DECIMAL argument.
func commonDecimal(args []*types.Type) (*types.Type, error) {
	t := types.Null
	for _, a := range args {
		t = types.CommonType(t, a)
	}
	return t, nil
}

func sign(f float64) float64 {
	switch {
	case f > 0:
		return 1
	case f < 0:
		return -1
	}
	return 0
}

func firstArg(args []*types.Type) (*types.Type, error) { return args[0], nil }
