package function

import (
	"fmt"
	"sort"
	"strings"

	"github.com/seichedb/seiche/sql/types"
)

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

// sortArray is ARRAY_SORT: NULLs sort last in both directions; an unknown direction gives NULL.
func sortArray(l []Value, dir string) Value {
	var desc bool
	switch strings.ToUpper(dir) {
	case "ASC":
	case "DESC":
		desc = true
	default:
		return nil
	}
	out := append([]Value{}, l...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i] == nil || out[j] == nil {
			return out[j] == nil && out[i] != nil
		}
		c, _ := types.Compare(out[i], out[j])
		if desc {
			return c > 0
		}
		return c < 0
	})
	return out
}

// extreme is ARRAY_MAX (max) and ARRAY_MIN: NULL elements are ignored.
func extreme(l []Value, max bool) Value {
	var best Value
	for _, e := range l {
		if e == nil {
			continue
		}
		if best == nil {
			best = e
			continue
		}
		c, _ := types.Compare(e, best)
		if (max && c > 0) || (!max && c < 0) {
			best = e
		}
	}
	return best
}

// comparableElems is the Build of functions that order an array's elements: ksqlDB declares them over
// ARRAY<T> with T comparable, so an ARRAY of ARRAY, MAP or STRUCT is refused.
func comparableElems(name string, impl Impl) func(args []*types.Type) (Impl, error) {
	return func(args []*types.Type) (Impl, error) {
		if args[0].Kind == types.KindArray && !args[0].Elem.IsPrimitive() {
			return nil, ArgsError(name, args)
		}
		return impl, nil
	}
}

func joinArray(l []Value, sep string) Value {
	parts := make([]string, 0, len(l))
	for _, e := range l {
		parts = append(parts, types.Format(e))
	}
	return strings.Join(parts, sep)
}

func series(t *types.Type) Impl {
	return func(a []Value) (Value, error) {
		start, end, step := toInt(a[0]), toInt(a[1]), int64(1)
		if end < start {
			step = -1
		}
		if len(a) == 3 {
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
	}
}

func mapUnion(a []Value) (Value, error) {
	if a[0] == nil && a[1] == nil {
		return nil, nil
	}
	var keys, vals []Value
	for _, v := range a {
		if v == nil {
			continue
		}
		m := v.(*types.Map)
		keys, vals = append(keys, m.Keys...), append(vals, m.Vals...)
	}
	return types.NewMap(keys, vals), nil
}

func transformArray(a []Value) (Value, error) {
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
}

func transformMap(a []Value) (Value, error) {
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
}

func filterArray(a []Value) (Value, error) {
	fn := a[1].(Lambda)
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
}

func filterMap(a []Value) (Value, error) {
	m := a[0].(*types.Map)
	fn := a[1].(Lambda)
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

// reduce is REDUCE: a NULL collection or initial state gives the initial state.
func reduce(a []Value) (Value, error) {
	if a[0] == nil || a[1] == nil {
		return a[1], nil
	}
	fn := a[2].(Lambda)
	state := a[1]
	var err error
	if m, ok := a[0].(*types.Map); ok {
		for i := range m.Keys {
			if state, err = fn(state, m.Keys[i], m.Vals[i]); err != nil {
				return nil, err
			}
		}
		return state, nil
	}
	for _, e := range arr(a[0]) {
		if state, err = fn(state, e); err != nil {
			return nil, err
		}
	}
	return state, nil
}

func init() {
	var (
		arrT   = types.ArrayOf(T)
		mapKV  = types.MapOf(K, V)
		mapStr = types.MapOf(tS, T)
	)
	def("ARRAY_LENGTH", Sig{Params: p(arrT), Names: []string{"array"}, Ret: tI, Impl: func(a []Value) (Value, error) {
		return int32(len(arr(a[0]))), nil
	}})
	def("ARRAY_CONTAINS", Sig{Params: p(arrT, T), Names: []string{"array", "val"}, Ret: types.Boolean, NullSafe: true,
		Impl: func(a []Value) (Value, error) { return a[0] != nil && contains(arr(a[0]), a[1]), nil }})
	def("ARRAY_DISTINCT", Sig{Params: p(arrT), Names: []string{"input"}, Ret: arrT, Impl: func(a []Value) (Value, error) {
		return distinct(arr(a[0])), nil
	}})
	def("ARRAY_MAX", Sig{Params: p(arrT), Names: []string{"input"}, Ret: T, Build: comparableElems("array_max",
		func(a []Value) (Value, error) { return extreme(arr(a[0]), true), nil })})
	def("ARRAY_MIN", Sig{Params: p(arrT), Names: []string{"input"}, Ret: T, Build: comparableElems("array_min",
		func(a []Value) (Value, error) { return extreme(arr(a[0]), false), nil })})
	def("ARRAY_SORT",
		Sig{Params: p(arrT), Names: []string{"input"}, Ret: arrT, Build: comparableElems("array_sort",
			func(a []Value) (Value, error) { return sortArray(arr(a[0]), "ASC"), nil })},
		Sig{Params: p(arrT, tS), Names: []string{"input", "direction"}, Ret: arrT, Build: comparableElems("array_sort",
			func(a []Value) (Value, error) { return sortArray(arr(a[0]), str(a[1])), nil })})
	def("ARRAY_REMOVE", Sig{Params: p(arrT, T), Names: []string{"array", "victim"}, Ret: arrT, NullSafe: true,
		Impl: nullIn(func(a []Value) (Value, error) {
			out := []Value{}
			for _, e := range arr(a[0]) {
				if !types.Equal(e, a[1]) {
					out = append(out, e)
				}
			}
			return out, nil
		}, 0)})
	// ARRAY_CONCAT is NULL only when both arrays are: ksqlDB returns the other array.
	def("ARRAY_CONCAT", Sig{Params: p(arrT, arrT), Names: []string{"left", "right"}, Ret: arrT, NullSafe: true,
		Impl: func(a []Value) (Value, error) {
			if a[0] == nil && a[1] == nil {
				return nil, nil
			}
			x, _ := a[0].([]Value)
			y, _ := a[1].([]Value)
			return append(append([]Value{}, x...), y...), nil
		}})
	def("ARRAY_UNION", Sig{Params: p(arrT, arrT), Names: []string{"left", "right"}, Ret: arrT, Impl: func(a []Value) (Value, error) {
		return distinct(append(append([]Value{}, arr(a[0])...), arr(a[1])...)), nil
	}})
	def("ARRAY_INTERSECT", Sig{Params: p(arrT, arrT), Names: []string{"left", "right"}, Ret: arrT, Impl: func(a []Value) (Value, error) {
		out := []Value{}
		for _, e := range distinct(arr(a[0])) {
			if contains(arr(a[1]), e) {
				out = append(out, e)
			}
		}
		return out, nil
	}})
	def("ARRAY_EXCEPT", Sig{Params: p(arrT, arrT), Names: []string{"left", "right"}, Ret: arrT, Impl: func(a []Value) (Value, error) {
		out := []Value{}
		for _, e := range distinct(arr(a[0])) {
			if !contains(arr(a[1]), e) {
				out = append(out, e)
			}
		}
		return out, nil
	}})
	def("ARRAY_JOIN",
		Sig{Params: p(arrT), Names: []string{"array"}, Ret: tS, Build: comparableElems("array_join",
			func(a []Value) (Value, error) { return joinArray(arr(a[0]), ","), nil })},
		// A NULL delimiter joins with nothing between the elements.
		Sig{Params: p(arrT, tS), Names: []string{"array", "delimiter"}, Ret: tS, NullSafe: true, Build: comparableElems("array_join",
			nullIn(func(a []Value) (Value, error) {
				sep, _ := a[1].(string)
				return joinArray(arr(a[0]), sep), nil
			}, 0))})
	// SLICE(array, from, to): 1-based and inclusive; a NULL bound is the array's start or end.
	def("SLICE", Sig{Params: p(arrT, tI, tI), Names: []string{"list", "from", "to"}, Ret: arrT, NullSafe: true,
		Impl: nullIn(func(a []Value) (Value, error) {
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
		}, 0)})
	entry := types.StructOf(types.Field{Name: "K", Type: tS}, types.Field{Name: "V", Type: T})
	def("ENTRIES", Sig{Params: p(mapStr, types.Boolean), Names: []string{"map", "sorted"}, Ret: types.ArrayOf(entry),
		Impl: func(a []Value) (Value, error) {
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
		}})
	def("GENERATE_SERIES",
		Sig{Params: p(tI, tI), Names: []string{"start", "end"}, Ret: types.ArrayOf(tI), Impl: series(tI)},
		Sig{Params: p(tI, tI, tI), Names: []string{"start", "end", "step"}, Ret: types.ArrayOf(tI), Impl: series(tI)},
		Sig{Params: p(tB, tB), Names: []string{"start", "end"}, Ret: types.ArrayOf(tB), Impl: series(tB)},
		Sig{Params: p(tB, tB, tI), Names: []string{"start", "end", "step"}, Ret: types.ArrayOf(tB), Impl: series(tB)})
	def("MAP_KEYS", Sig{Params: p(mapKV), Names: []string{"input"}, Ret: types.ArrayOf(K), Impl: func(a []Value) (Value, error) {
		return append([]Value{}, a[0].(*types.Map).Keys...), nil
	}})
	def("MAP_VALUES", Sig{Params: p(mapKV), Names: []string{"input"}, Ret: types.ArrayOf(V), Impl: func(a []Value) (Value, error) {
		return append([]Value{}, a[0].(*types.Map).Vals...), nil
	}})
	def("MAP_UNION", Sig{Params: p(mapKV, mapKV), Names: []string{"map1", "map2"}, Ret: mapKV, NullSafe: true, Impl: mapUnion})
	def("AS_MAP", Sig{Params: p(types.ArrayOf(tS), arrT), Names: []string{"keys", "values"}, Ret: mapStr,
		Impl: func(a []Value) (Value, error) {
			ks, vs := arr(a[0]), arr(a[1])
			n := min(len(ks), len(vs))
			return types.NewMap(ks[:n], vs[:n]), nil
		}})
	def("ARRAY", Sig{Variadic: T, Names: []string{"elements"}, Ret: arrT, NullSafe: true, Impl: func(a []Value) (Value, error) {
		return append([]Value{}, a...), nil
	}})
	// ELT(n, args...): the n-th of args (1-based), NULL when n is NULL or out of range.
	def("ELT", Sig{Params: p(tI), Variadic: tS, Names: []string{"n", "args"}, Ret: tS, NullSafe: true,
		Impl: func(a []Value) (Value, error) {
			if a[0] == nil {
				return nil, nil
			}
			n := int(a[0].(int32))
			if n < 1 || n >= len(a) {
				return nil, nil
			}
			return a[n], nil
		}})
	// FIELD(str, args...): the 1-based position of str among args, 0 when absent or NULL.
	def("FIELD", Sig{Params: p(tS), Variadic: tS, Names: []string{"str", "args"}, Ret: tI, NullSafe: true,
		Impl: func(a []Value) (Value, error) {
			if a[0] == nil {
				return int32(0), nil
			}
			for i, v := range a[1:] {
				if v != nil && v.(string) == a[0].(string) {
					return int32(i + 1), nil
				}
			}
			return int32(0), nil
		}})

	// Higher-order functions.
	def("TRANSFORM",
		Sig{Params: p(arrT, LambdaOf(U, T)), Names: []string{"array", "function"}, Ret: types.ArrayOf(U), NullSafe: true,
			Impl: nullIn(transformArray, 0)},
		Sig{Params: p(mapKV, LambdaOf(K2, K, V), LambdaOf(V2, K, V)), Names: []string{"map", "key_function", "value_function"},
			Ret: types.MapOf(K2, V2), NullSafe: true, Impl: nullIn(transformMap, 0)})
	def("FILTER",
		Sig{Params: p(arrT, LambdaOf(types.Boolean, T)), Names: []string{"array", "function"}, Ret: arrT, NullSafe: true,
			Impl: nullIn(filterArray, 0)},
		Sig{Params: p(mapKV, LambdaOf(types.Boolean, K, V)), Names: []string{"map", "function"}, Ret: mapKV, NullSafe: true,
			Impl: nullIn(filterMap, 0)})
	def("REDUCE",
		Sig{Params: p(arrT, S, LambdaOf(S, S, T)), Names: []string{"array", "initialState", "function"}, Ret: S, NullSafe: true, Impl: reduce},
		Sig{Params: p(mapKV, S, LambdaOf(S, S, K, V)), Names: []string{"map", "initialState", "function"}, Ret: S, NullSafe: true, Impl: reduce})
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
