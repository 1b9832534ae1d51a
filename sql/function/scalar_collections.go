package function

import (
	"fmt"
	"sort"
	"strings"

	"github.com/seichedb/seiche/sql/types"
)

// generic registers a function with a hand-written resolver; impl receives raw argument values.
func generic(name string, resolve func(args []*types.Type) (*types.Type, Impl, error)) {
	builtins.AddScalar(&Scalar{Name: name, Resolve: resolve})
}

func arr(v Value) []Value { return v.([]Value) }

// nullIn wraps an Impl so that a NULL argument at any of the given positions yields NULL.
func nullIn(impl Impl, positions ...int) Impl {
	return func(a []Value) (Value, error) {
		for _, i := range positions {
			if a[i] == nil {
				return nil, nil
			}
		}
		return impl(a)
	}
}

func isArray(t *types.Type) bool { return t.Kind == types.KindArray }

// elemOf returns the element type of an array argument, treating an untyped NULL as ARRAY<NULL>.
func elemOf(t *types.Type) (*types.Type, bool) {
	switch t.Kind {
	case types.KindArray:
		return t.Elem, true
	case types.KindNull:
		return types.Null, true
	}
	return nil, false
}

func contains(l []Value, v Value) bool {
	for _, e := range l {
		if types.Equal(e, v) {
			return true
		}
	}
	return false
}

func distinct(l []Value) []Value {
	out := []Value{}
	for _, e := range l {
		if !contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// twoArrays resolves functions over two arrays of a common element type.
func twoArrays(name string, fn func(a, b []Value) []Value) { twoArraysNulls(name, fn, false) }

// twoArraysNulls is twoArrays where, with oneNull, a NULL array counts as empty when the other is not NULL.
func twoArraysNulls(name string, fn func(a, b []Value) []Value, oneNull bool) {
	generic(name, func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) != 2 {
			return nil, nil, ErrArgs
		}
		e1, ok1 := elemOf(args[0])
		e2, ok2 := elemOf(args[1])
		if !ok1 || !ok2 {
			return nil, nil, ErrArgs
		}
		et := types.CommonType(e1, e2)
		if et == nil {
			return nil, nil, ErrArgs
		}
		if oneNull {
			return types.ArrayOf(et), func(a []Value) (Value, error) {
				if a[0] == nil && a[1] == nil {
					return nil, nil
				}
				x, _ := a[0].([]Value)
				y, _ := a[1].([]Value)
				return fn(x, y), nil
			}, nil
		}
		return types.ArrayOf(et), nullIn(func(a []Value) (Value, error) { return fn(arr(a[0]), arr(a[1])), nil }, 0, 1), nil
	})
}

func init() {
	generic("ARRAY_LENGTH", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) != 1 {
			return nil, nil, ErrArgs
		}
		if _, ok := elemOf(args[0]); !ok {
			return nil, nil, ErrArgs
		}
		return types.Int, nullIn(func(a []Value) (Value, error) { return int32(len(arr(a[0]))), nil }, 0), nil
	})
	generic("ARRAY_CONTAINS", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) != 2 {
			return nil, nil, ErrArgs
		}
		if _, ok := elemOf(args[0]); !ok {
			return nil, nil, ErrArgs
		}
		return types.Boolean, func(a []Value) (Value, error) {
			if a[0] == nil {
				return false, nil
			}
			return contains(arr(a[0]), a[1]), nil
		}, nil
	})
	generic("ARRAY_DISTINCT", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) != 1 || !isArray(args[0]) {
			return nil, nil, ErrArgs
		}
		return args[0], nullIn(func(a []Value) (Value, error) { return distinct(arr(a[0])), nil }, 0), nil
	})
	for _, name := range []string{"ARRAY_MAX", "ARRAY_MIN"} {
		isMax := name == "ARRAY_MAX"
		generic(name, func(args []*types.Type) (*types.Type, Impl, error) {
			if len(args) != 1 || !isArray(args[0]) || !args[0].Elem.IsPrimitive() {
				return nil, nil, ErrArgs
			}
			return args[0].Elem, nullIn(func(a []Value) (Value, error) {
				var best Value
				for _, e := range arr(a[0]) {
					if e == nil {
						continue
					}
					if best == nil {
						best = e
						continue
					}
					c, _ := types.Compare(e, best)
					if (isMax && c > 0) || (!isMax && c < 0) {
						best = e
					}
				}
				return best, nil
			}, 0), nil
		})
	}
	generic("ARRAY_SORT", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) < 1 || len(args) > 2 || !isArray(args[0]) || !args[0].Elem.IsPrimitive() {
			return nil, nil, ErrArgs
		}
		return args[0], func(a []Value) (Value, error) {
			if a[0] == nil {
				return nil, nil
			}
			desc := false
			if len(a) == 2 {
				if a[1] == nil {
					return nil, nil
				}
				switch strings.ToUpper(a[1].(string)) {
				case "ASC":
				case "DESC":
					desc = true
				default:
					return nil, nil
				}
			}
			out := append([]Value{}, arr(a[0])...)
			sort.SliceStable(out, func(i, j int) bool {
				// NULLs sort last in both directions.
				if out[i] == nil || out[j] == nil {
					return out[j] == nil && out[i] != nil
				}
				c, _ := types.Compare(out[i], out[j])
				if desc {
					return c > 0
				}
				return c < 0
			})
			return out, nil
		}, nil
	})
	generic("ARRAY_REMOVE", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) != 2 || !isArray(args[0]) {
			return nil, nil, ErrArgs
		}
		return args[0], nullIn(func(a []Value) (Value, error) {
			out := []Value{}
			for _, e := range arr(a[0]) {
				if !types.Equal(e, a[1]) {
					out = append(out, e)
				}
			}
			return out, nil
		}, 0), nil
	})
	// ARRAY_CONCAT is NULL only when both arrays are: ksqlDB returns the other array.
	twoArraysNulls("ARRAY_CONCAT", func(a, b []Value) []Value { return append(append([]Value{}, a...), b...) }, true)
	twoArrays("ARRAY_UNION", func(a, b []Value) []Value { return distinct(append(append([]Value{}, a...), b...)) })
	twoArrays("ARRAY_INTERSECT", func(a, b []Value) []Value {
		out := []Value{}
		for _, e := range distinct(a) {
			if contains(b, e) {
				out = append(out, e)
			}
		}
		return out
	})
	twoArrays("ARRAY_EXCEPT", func(a, b []Value) []Value {
		out := []Value{}
		for _, e := range distinct(a) {
			if !contains(b, e) {
				out = append(out, e)
			}
		}
		return out
	})
	generic("ARRAY_JOIN", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) < 1 || len(args) > 2 || !isArray(args[0]) || !args[0].Elem.IsPrimitive() {
			return nil, nil, ErrArgs
		}
		return types.String, func(a []Value) (Value, error) {
			if a[0] == nil {
				return nil, nil
			}
			sep := ","
			if len(a) == 2 {
				if a[1] == nil {
					sep = ""
				} else {
					sep = a[1].(string)
				}
			}
			parts := make([]string, 0, len(arr(a[0])))
			for _, e := range arr(a[0]) {
				parts = append(parts, types.Format(e))
			}
			return strings.Join(parts, sep), nil
		}, nil
	})
	generic("SLICE", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) != 3 || !isArray(args[0]) {
			return nil, nil, ErrArgs
		}
		return args[0], func(a []Value) (Value, error) {
			if a[0] == nil {
				return nil, nil
			}
			l := arr(a[0])
			from, to := 1, len(l)
			if a[1] != nil {
				from = int(toInt(a[1]))
			}
			if a[2] != nil {
				to = int(toInt(a[2]))
			}
			if from < 1 || from > len(l) || to < from {
				return nil, nil
			}
			to = min(to, len(l))
			return append([]Value{}, l[from-1:to]...), nil
		}, nil
	})
	generic("ENTRIES", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) != 2 || args[0].Kind != types.KindMap || args[0].Key.Kind != types.KindString {
			return nil, nil, ErrArgs
		}
		entry := types.StructOf(types.Field{Name: "K", Type: types.String}, types.Field{Name: "V", Type: args[0].Elem})
		return types.ArrayOf(entry), nullIn(func(a []Value) (Value, error) {
			m := a[0].(*types.Map)
			idx := make([]int, m.Len())
			for i := range idx {
				idx[i] = i
			}
			if a[1] == true {
				sort.Slice(idx, func(i, j int) bool { return m.Keys[idx[i]].(string) < m.Keys[idx[j]].(string) })
			}
			out := make([]Value, len(idx))
			for i, k := range idx {
				out[i] = &types.Struct{Vals: []Value{m.Keys[k], m.Vals[k]}}
			}
			return out, nil
		}, 0, 1), nil
	})
	generic("GENERATE_SERIES", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) < 2 || len(args) > 3 {
			return nil, nil, ErrArgs
		}
		t := types.Int
		for _, a := range args {
			switch a.Kind {
			case types.KindBigint:
				t = types.Bigint
			case types.KindInt:
			default:
				return nil, nil, ErrArgs
			}
		}
		return types.ArrayOf(t), nullIn(func(a []Value) (Value, error) {
			start, end, step := toInt(a[0]), toInt(a[1]), int64(1)
			if end < start {
				step = -1
			}
			if len(a) == 3 {
				if a[2] == nil {
					return nil, nil
				}
				step = toInt(a[2])
			}
			if step == 0 || (end-start)*step < 0 {
				return nil, fmt.Errorf("GENERATE_SERIES step has wrong sign")
			}
			out := []Value{}
			for v := start; (step > 0 && v <= end) || (step < 0 && v >= end); v += step {
				if t.Kind == types.KindInt {
					out = append(out, int32(v))
				} else {
					out = append(out, v)
				}
			}
			return out, nil
		}, 0, 1), nil
	})
	generic("MAP_KEYS", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) != 1 || args[0].Kind != types.KindMap {
			return nil, nil, ErrArgs
		}
		return types.ArrayOf(args[0].Key), nullIn(func(a []Value) (Value, error) {
			return append([]Value{}, a[0].(*types.Map).Keys...), nil
		}, 0), nil
	})
	generic("MAP_VALUES", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) != 1 || args[0].Kind != types.KindMap {
			return nil, nil, ErrArgs
		}
		return types.ArrayOf(args[0].Elem), nullIn(func(a []Value) (Value, error) {
			return append([]Value{}, a[0].(*types.Map).Vals...), nil
		}, 0), nil
	})
	generic("MAP_UNION", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) != 2 {
			return nil, nil, ErrArgs
		}
		t := types.CommonType(args[0], args[1])
		if t == nil || t.Kind != types.KindMap {
			return nil, nil, ErrArgs
		}
		return t, func(a []Value) (Value, error) {
			var keys, vals []Value
			for _, v := range a {
				if v == nil {
					continue
				}
				m := v.(*types.Map)
				keys, vals = append(keys, m.Keys...), append(vals, m.Vals...)
			}
			if a[0] == nil && a[1] == nil {
				return nil, nil
			}
			return types.NewMap(keys, vals), nil
		}, nil
	})
	generic("AS_MAP", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) != 2 || !isArray(args[0]) || !isArray(args[1]) || args[0].Elem.Kind != types.KindString {
			return nil, nil, ErrArgs
		}
		return types.MapOf(types.String, args[1].Elem), nullIn(func(a []Value) (Value, error) {
			ks, vs := arr(a[0]), arr(a[1])
			n := min(len(ks), len(vs))
			return types.NewMap(ks[:n], vs[:n]), nil
		}, 0, 1), nil
	})
	generic("ARRAY", func(args []*types.Type) (*types.Type, Impl, error) {
		var t *types.Type = types.Null
		for _, a := range args {
			if t = types.CommonType(t, a); t == nil {
				return nil, nil, ErrArgs
			}
		}
		return types.ArrayOf(t), func(a []Value) (Value, error) { return append([]Value{}, a...), nil }, nil
	})
	generic("ELT", func(args []*types.Type) (*types.Type, Impl, error) {
		if len(args) < 1 || (args[0].Kind != types.KindInt && args[0].Kind != types.KindNull) {
			return nil, nil, ErrArgs
		}
		for _, a := range args[1:] {
			if a.Kind != types.KindString && a.Kind != types.KindNull {
				return nil, nil, ErrArgs
			}
		}
		return types.String, func(a []Value) (Value, error) {
			if a[0] == nil {
				return nil, nil
			}
			n := int(a[0].(int32))
			if n < 1 || n >= len(a) {
				return nil, nil
			}
			return a[n], nil
		}, nil
	})
	generic("FIELD", func(args []*types.Type) (*types.Type, Impl, error) {
		for _, a := range args {
			if a.Kind != types.KindString && a.Kind != types.KindNull {
				return nil, nil, ErrArgs
			}
		}
		return types.Int, func(a []Value) (Value, error) {
			if len(a) == 0 || a[0] == nil {
				return int32(0), nil
			}
			for i, v := range a[1:] {
				if v != nil && v.(string) == a[0].(string) {
					return int32(i + 1), nil
				}
			}
			return int32(0), nil
		}, nil
	})

	// Higher-order functions.
	builtins.AddScalar(&Scalar{Name: "TRANSFORM",
		LambdaParams: func(args []*types.Type, i int) ([]*types.Type, error) {
			if len(args) == 0 || (args[0].Kind == types.KindArray && i != 1) || (args[0].Kind == types.KindMap && i != 1 && i != 2) {
				return nil, fmt.Errorf("TRANSFORM takes an ARRAY and one lambda, or a MAP and two lambdas")
			}
			switch args[0].Kind {
			case types.KindArray:
				return []*types.Type{args[0].Elem}, nil
			case types.KindMap:
				return []*types.Type{args[0].Key, args[0].Elem}, nil
			}
			return nil, fmt.Errorf("TRANSFORM expects an ARRAY or MAP, got %s", args[0])
		},
		Resolve: func(args []*types.Type) (*types.Type, Impl, error) {
			switch {
			case len(args) == 2 && isArray(args[0]) && args[1].Kind == types.KindLambda:
				return types.ArrayOf(args[1].Elem), nullIn(func(a []Value) (Value, error) {
					fn := a[1].(Lambda)
					in := arr(a[0])
					out := make([]Value, len(in))
					for i, e := range in {
						v, err := fn(e)
						if err != nil {
							return nil, err
						}
						out[i] = v
					}
					return out, nil
				}, 0), nil
			case len(args) == 3 && args[0].Kind == types.KindMap && args[1].Kind == types.KindLambda && args[2].Kind == types.KindLambda:
				return types.MapOf(args[1].Elem, args[2].Elem), nullIn(func(a []Value) (Value, error) {
					m := a[0].(*types.Map)
					kf, vf := a[1].(Lambda), a[2].(Lambda)
					keys, vals := make([]Value, m.Len()), make([]Value, m.Len())
					for i := range m.Keys {
						k, err := kf(m.Keys[i], m.Vals[i])
						if err != nil {
							return nil, err
						}
						v, err := vf(m.Keys[i], m.Vals[i])
						if err != nil {
							return nil, err
						}
						keys[i], vals[i] = k, v
					}
					return types.NewMap(keys, vals), nil
				}, 0), nil
			}
			return nil, nil, ErrArgs
		}})
	builtins.AddScalar(&Scalar{Name: "FILTER",
		LambdaParams: func(args []*types.Type, i int) ([]*types.Type, error) {
			if i != 1 || len(args) != 1 {
				return nil, fmt.Errorf("FILTER takes a collection and a lambda")
			}
			switch args[0].Kind {
			case types.KindArray:
				return []*types.Type{args[0].Elem}, nil
			case types.KindMap:
				return []*types.Type{args[0].Key, args[0].Elem}, nil
			}
			return nil, fmt.Errorf("FILTER expects an ARRAY or MAP, got %s", args[0])
		},
		Resolve: func(args []*types.Type) (*types.Type, Impl, error) {
			if len(args) != 2 || args[1].Kind != types.KindLambda || args[1].Elem.Kind != types.KindBoolean {
				return nil, nil, ErrArgs
			}
			return args[0], nullIn(func(a []Value) (Value, error) {
				fn := a[1].(Lambda)
				if m, ok := a[0].(*types.Map); ok {
					var keys, vals []Value
					for i := range m.Keys {
						ok, err := fn(m.Keys[i], m.Vals[i])
						if err != nil {
							return nil, err
						}
						if types.IsTrue(ok) {
							keys, vals = append(keys, m.Keys[i]), append(vals, m.Vals[i])
						}
					}
					return types.NewMap(keys, vals), nil
				}
				out := []Value{}
				for _, e := range arr(a[0]) {
					ok, err := fn(e)
					if err != nil {
						return nil, err
					}
					if types.IsTrue(ok) {
						out = append(out, e)
					}
				}
				return out, nil
			}, 0), nil
		}})
	builtins.AddScalar(&Scalar{Name: "REDUCE",
		LambdaParams: func(args []*types.Type, i int) ([]*types.Type, error) {
			if i != 2 || len(args) != 2 {
				return nil, fmt.Errorf("REDUCE takes a collection, an initial state and a lambda")
			}
			switch args[0].Kind {
			case types.KindArray:
				return []*types.Type{args[1], args[0].Elem}, nil
			case types.KindMap:
				return []*types.Type{args[1], args[0].Key, args[0].Elem}, nil
			}
			return nil, fmt.Errorf("REDUCE expects an ARRAY or MAP, got %s", args[0])
		},
		Resolve: func(args []*types.Type) (*types.Type, Impl, error) {
			if len(args) != 3 || args[2].Kind != types.KindLambda {
				return nil, nil, ErrArgs
			}
			st := args[1]
			if !types.CanWiden(args[2].Elem, st) && args[2].Elem.Kind != types.KindNull {
				return nil, nil, ErrArgs
			}
			back := types.Widener(args[2].Elem, st)
			return st, func(a []Value) (Value, error) {
				if a[0] == nil || a[1] == nil {
					return a[1], nil
				}
				fn := a[2].(Lambda)
				state := a[1]
				step := func(vals ...Value) error {
					v, err := fn(vals...)
					if err != nil {
						return err
					}
					state, err = conv(back, v)
					return err
				}
				if m, ok := a[0].(*types.Map); ok {
					for i := range m.Keys {
						if err := step(state, m.Keys[i], m.Vals[i]); err != nil {
							return nil, err
						}
					}
					return state, nil
				}
				for _, e := range arr(a[0]) {
					if err := step(state, e); err != nil {
						return nil, err
					}
				}
				return state, nil
			}, nil
		}})
}

func toInt(v Value) int64 {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int64:
		return x
	}
	return 0
}
