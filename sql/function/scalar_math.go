package function

import (
	"math"
	"math/rand/v2"

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
		{"SQRT", math.Sqrt}, {"EXP", math.Exp}, {"LN", math.Log},
		{"COT", func(x float64) float64 { return 1 / math.Tan(x) }},
		{"DEGREES", func(x float64) float64 { return x * 180 / math.Pi }},
		{"RADIANS", func(x float64) float64 { return x / 180 * math.Pi }}} {
		doubleFn(fn.name, fn.f)
	}
	def("ATAN2", Sig{Params: p(tD, tD), Ret: tD, Impl: func(a []Value) (Value, error) { return math.Atan2(f64(a[0]), f64(a[1])), nil }})
	def("LOG",
		Sig{Params: p(tD), Ret: tD, Impl: func(a []Value) (Value, error) { return math.Log(f64(a[0])), nil }},
		Sig{Params: p(tD, tD), Ret: tD, Impl: func(a []Value) (Value, error) {
			base, x := f64(a[0]), f64(a[1])
			if base <= 0 || base == 1 || x <= 0 {
				return math.NaN(), nil
			}
			return math.Log(x) / math.Log(base), nil
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
			Sig{Params: p(AnyDecimal), RetFn: func(args []*types.Type) (*types.Type, error) {
				t := args[0]
				return types.DecimalOf(t.Precision-t.Scale+1, 0), nil
			}, Impl: func(a []Value) (Value, error) { return decimalRound(a[0].(*apd.Decimal), 0, mode), nil }})
	}
	def("ROUND",
		Sig{Params: p(tI), Ret: tI, Impl: func(a []Value) (Value, error) { return a[0], nil }},
		Sig{Params: p(tB), Ret: tB, Impl: func(a []Value) (Value, error) { return a[0], nil }},
		Sig{Params: p(tD), Ret: tB, Impl: func(a []Value) (Value, error) { return int64(javaRound(a[0].(float64))), nil }},
		Sig{Params: p(tD, tI), Ret: tD, Impl: func(a []Value) (Value, error) {
			d := new(apd.Decimal)
			if _, err := d.SetFloat64(a[0].(float64)); err != nil {
				return a[0], nil
			}
			f, _ := decimalRound(d, i32(a[1]), apd.RoundHalfUp).Float64()
			return f, nil
		}},
		Sig{Params: p(AnyDecimal), RetFn: func(args []*types.Type) (*types.Type, error) {
			t := args[0]
			return types.DecimalOf(t.Precision-t.Scale+1, 0), nil
		}, Impl: func(a []Value) (Value, error) { return decimalRound(a[0].(*apd.Decimal), 0, apd.RoundHalfUp), nil }},
		Sig{Params: p(AnyDecimal, tI), RetFn: func(args []*types.Type) (*types.Type, error) {
			t := args[0]
			return types.DecimalOf(t.Precision-t.Scale+1+t.Scale, t.Scale), nil
		}, Build: func(args []*types.Type) (Impl, error) {
			scale := args[0].Scale
			return func(a []Value) (Value, error) {
				r := decimalRound(a[0].(*apd.Decimal), i32(a[1]), apd.RoundHalfUp)
				return decimalRound(r, int32(scale), apd.RoundHalfUp), nil
			}, nil
		}})
	def("TRUNC",
		Sig{Params: p(tI), Ret: tI, Impl: func(a []Value) (Value, error) { return a[0], nil }},
		Sig{Params: p(tB), Ret: tB, Impl: func(a []Value) (Value, error) { return a[0], nil }},
		Sig{Params: p(tD), Ret: tB, Impl: func(a []Value) (Value, error) { return int64(math.Trunc(a[0].(float64))), nil }},
		Sig{Params: p(tD, tI), Ret: tD, Impl: func(a []Value) (Value, error) {
			d := new(apd.Decimal)
			if _, err := d.SetFloat64(a[0].(float64)); err != nil {
				return a[0], nil
			}
			f, _ := decimalRound(d, i32(a[1]), apd.RoundDown).Float64()
			return f, nil
		}},
		Sig{Params: p(AnyDecimal), RetFn: func(args []*types.Type) (*types.Type, error) {
			t := args[0]
			return types.DecimalOf(max(t.Precision-t.Scale, 1), 0), nil
		}, Impl: func(a []Value) (Value, error) { return decimalRound(a[0].(*apd.Decimal), 0, apd.RoundDown), nil }})
	for _, name := range []string{"GREATEST", "LEAST"} {
		greatest := name == "GREATEST"
		builtins.AddScalar(&Scalar{Name: name, Resolve: func(args []*types.Type) (*types.Type, Impl, error) {
			if len(args) == 0 {
				return nil, nil, ErrArgs
			}
			var t *types.Type = types.Null
			for _, a := range args {
				if t = types.CommonType(t, a); t == nil {
					return nil, nil, ErrArgs
				}
			}
			if t.Kind == types.KindNull {
				return nil, nil, ambiguous(name, len(args))
			}
			if !t.IsPrimitive() || t.Kind == types.KindBoolean {
				return nil, nil, ErrArgs
			}
			convs := make([]types.Converter, len(args))
			for i, a := range args {
				convs[i] = types.Widener(a, t)
			}
			return t, func(vals []Value) (Value, error) {
				var best Value
				for i, v := range vals {
					if v == nil {
						continue
					}
					if convs[i] != nil {
						var err error
						if v, err = convs[i](v); err != nil {
							return nil, err
						}
					}
					if best == nil {
						best = v
						continue
					}
					c, _ := types.Compare(v, best)
					if (greatest && c > 0) || (!greatest && c < 0) {
						best = v
					}
				}
				return best, nil
			}, nil
		}})
	}
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
