package function

import (
	"math"

	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// Aggregates beyond the core set: ATTR, TOPKDISTINCT, HISTOGRAM, COUNT_DISTINCT, SUM_LIST, CORRELATION,
// STDDEV_SAMP and STDDEV_SAMPLE. Accumulators are SQL values (see Aggregate) and are never modified in
// place.

// initInt returns the integer value of a literal initial argument.
func initInt(v Value) (int, bool) {
	switch x := v.(type) {
	case int32:
		return int(x), true
	case int64:
		return int(x), true
	}
	return 0, false
}

// removeAt returns l without its element i, in a new slice.
func removeAt(l []Value, i int) []Value {
	out := make([]Value, 0, len(l)-1)
	out = append(out, l[:i]...)
	return append(out, l[i+1:]...)
}

// withElem returns l with its element i replaced by v, in a new slice.
func withElem(l []Value, i int, v Value) []Value {
	out := append([]Value(nil), l...)
	out[i] = v
	return out
}

// countEntry is one (value, occurrences) pair of a counting accumulator: ATTR counts NULLs too.
func countEntry(v Value, n int64) Value { return &types.Struct{Vals: []Value{v, n}} }

func entryOf(e Value) (Value, int64) { s := e.(*types.Struct); return s.Vals[0], s.Vals[1].(int64) }

// bumpCount adds d occurrences of v to a list of count entries, dropping an entry that reaches zero.
func bumpCount(l []Value, v Value, d int64) []Value {
	for i, e := range l {
		ev, n := entryOf(e)
		if types.Equal(ev, v) {
			if n+d <= 0 {
				return removeAt(l, i)
			}
			return withElem(l, i, countEntry(ev, n+d))
		}
	}
	if d <= 0 {
		return l
	}
	out := make([]Value, len(l), len(l)+1)
	copy(out, l)
	return append(out, countEntry(v, d))
}

func mergeCounts(a, b Value) (Value, error) {
	l := a.([]Value)
	for _, e := range b.([]Value) {
		v, n := entryOf(e)
		l = bumpCount(l, v, n)
	}
	return l, nil
}

func init() {
	// ATTR(col): the value of col when every row of the group has the same value (NULL being one value),
	// else NULL. It keeps a count per distinct value so that a table's updates can be undone.
	agg("ATTR", []Sig{{Params: p(T), Ret: T}}, nil, func(args []*types.Type, _ []Value) (*Resolved, error) {
		accT := types.ArrayOf(types.StructOf(types.Field{Name: "VAL", Type: args[0]}, types.Field{Name: "CNT", Type: types.Bigint}))
		return &Resolved{Return: args[0], AccType: accT, CanUndo: true, Agg: &funcAgg{
			init:  func() Value { return []Value{} },
			add:   func(acc Value, vals []Value) (Value, error) { return bumpCount(acc.([]Value), vals[0], 1), nil },
			merge: mergeCounts,
			undo:  func(acc Value, vals []Value) (Value, error) { return bumpCount(acc.([]Value), vals[0], -1), nil },
			result: func(acc Value) (Value, error) {
				if l := acc.([]Value); len(l) == 1 {
					v, _ := entryOf(l[0])
					return v, nil
				}
				return nil, nil
			},
		}}, nil
	})

	// TOPKDISTINCT(col, k): the k largest distinct non-NULL values, descending.
	agg("TOPKDISTINCT", overloads(comparableTypes, types.ArrayOf, tI), func(int) int { return 1 }, func(args []*types.Type, init []Value) (*Resolved, error) {
		k, _ := initInt(init[0])
		if k <= 0 {
			return nil, sqlerr.New(sqlerr.InvalidArguments, sqlerr.Pos{}, "TOPKDISTINCT must be 1 or greater")
		}
		insert := func(l []Value, v Value) []Value {
			i := 0
			for ; i < len(l); i++ {
				c, _ := types.Compare(v, l[i])
				if c == 0 {
					return l
				}
				if c > 0 {
					break
				}
			}
			if i >= k {
				return l
			}
			out := make([]Value, 0, len(l)+1)
			out = append(append(append(out, l[:i]...), v), l[i:]...)
			if len(out) > k {
				out = out[:k]
			}
			return out
		}
		return topKResolved(types.ArrayOf(args[0]), insert), nil
	})

	// HISTOGRAM(col): a MAP from each distinct non-NULL STRING to its number of rows, capped at 1000
	// distinct values like ksqlDB's.
	agg("HISTOGRAM", []Sig{{Params: p(tS), Ret: types.MapOf(tS, tB)}}, nil, func(args []*types.Type, _ []Value) (*Resolved, error) {
		const limit = 1000
		t := types.MapOf(types.String, types.Bigint)
		bump := func(m *types.Map, k Value, d int64) Value {
			keys := make([]Value, 0, m.Len()+1)
			vals := make([]Value, 0, m.Len()+1)
			found := false
			for i, mk := range m.Keys {
				n := m.Vals[i].(int64)
				if types.Equal(mk, k) {
					found = true
					if n += d; n <= 0 {
						continue
					}
				}
				keys, vals = append(keys, mk), append(vals, n)
			}
			if !found {
				if d <= 0 || m.Len() >= limit {
					return m
				}
				keys, vals = append(keys, k), append(vals, d)
			}
			return types.NewMap(keys, vals)
		}
		return &Resolved{Return: t, AccType: t, CanUndo: true, Agg: &funcAgg{
			init: func() Value { return types.NewMap(nil, nil) },
			add: func(acc Value, vals []Value) (Value, error) {
				if vals[0] == nil {
					return acc, nil
				}
				return bump(acc.(*types.Map), vals[0], 1), nil
			},
			merge: func(a, b Value) (Value, error) {
				mb := b.(*types.Map)
				for i, k := range mb.Keys {
					a = bump(a.(*types.Map), k, mb.Vals[i].(int64))
				}
				return a, nil
			},
			undo: func(acc Value, vals []Value) (Value, error) {
				if vals[0] == nil {
					return acc, nil
				}
				return bump(acc.(*types.Map), vals[0], -1), nil
			},
		}}, nil
	})

	// COUNT_DISTINCT(col): the number of distinct non-NULL values. ksqlDB estimates it with a
	// HyperLogLog sketch, exact for small groups; this keeps the distinct values and is exact.
	agg("COUNT_DISTINCT", []Sig{{Params: p(T), Ret: tB}}, nil, func(args []*types.Type, _ []Value) (*Resolved, error) {
		t := types.ArrayOf(args[0])
		add := func(l []Value, v Value) []Value {
			for _, e := range l {
				if types.Equal(e, v) {
					return l
				}
			}
			out := make([]Value, len(l), len(l)+1)
			copy(out, l)
			return append(out, v)
		}
		return &Resolved{Return: types.Bigint, AccType: t, Agg: &funcAgg{
			init: func() Value { return []Value{} },
			add: func(acc Value, vals []Value) (Value, error) {
				if vals[0] == nil {
					return acc, nil
				}
				return add(acc.([]Value), vals[0]), nil
			},
			merge: func(a, b Value) (Value, error) {
				for _, v := range b.([]Value) {
					a = add(a.([]Value), v)
				}
				return a, nil
			},
			undo:   func(acc Value, _ []Value) (Value, error) { return acc, nil },
			result: func(acc Value) (Value, error) { return int64(len(acc.([]Value))), nil },
		}}, nil
	})

	// SUM_LIST(col): the sum of the non-NULL elements of every row's ARRAY<INT|BIGINT|DOUBLE>; integers
	// wrap like Java's.
	agg("SUM_LIST", overloads([]*types.Type{types.ArrayOf(tI), types.ArrayOf(tB), types.ArrayOf(tD)},
		func(t *types.Type) *types.Type { return t.Elem }), nil, func(args []*types.Type, _ []Value) (*Resolved, error) {
		t := args[0].Elem
		sum := func(v Value) Value {
			s := zeroOf(t)
			for _, e := range v.([]Value) {
				if e != nil {
					s, _ = addNum(t, s, e)
				}
			}
			return s
		}
		return &Resolved{Return: t, AccType: t, CanUndo: true, Agg: &funcAgg{
			init: func() Value { return zeroOf(t) },
			add: func(acc Value, vals []Value) (Value, error) {
				if vals[0] == nil {
					return acc, nil
				}
				return addNum(t, acc, sum(vals[0]))
			},
			merge: func(a, b Value) (Value, error) { return addNum(t, a, b) },
			undo: func(acc Value, vals []Value) (Value, error) {
				if vals[0] == nil {
					return acc, nil
				}
				return subNum(t, acc, sum(vals[0]))
			},
		}}, nil
	})

	agg("CORRELATION", []Sig{{Params: p(tD, tD), Ret: tD}}, nil, resolveCorrelation)
	stddev := overloads([]*types.Type{tI, tB, tD}, toDouble)
	agg("STDDEV_SAMP", stddev, nil, func(args []*types.Type, _ []Value) (*Resolved, error) {
		return resolveStddev("STDDEV_SAMP", args, false)
	})
	agg("STDDEV_SAMPLE", stddev, nil, func(args []*types.Type, _ []Value) (*Resolved, error) {
		return resolveStddev("STDDEV_SAMPLE", args, true)
	})
}

// resolveCorrelation is CORRELATION(x, y): the Pearson correlation coefficient of the rows where both are
// non-NULL, from running sums (NaN for fewer than two distinct points, like ksqlDB's).
func resolveCorrelation(args []*types.Type, _ []Value) (*Resolved, error) {
	names := []string{"X_SUM", "Y_SUM", "X_SQUARED_SUM", "Y_SQUARED_SUM", "XY_SUM"}
	var fields []types.Field
	for _, n := range names {
		fields = append(fields, types.Field{Name: n, Type: types.Double})
	}
	accT := types.StructOf(append(fields, types.Field{Name: "COUNT", Type: types.Bigint})...)
	type sums struct{ x, y, xx, yy, xy float64 }
	get := func(v Value) (sums, int64) {
		s := v.(*types.Struct).Vals
		return sums{s[0].(float64), s[1].(float64), s[2].(float64), s[3].(float64), s[4].(float64)}, s[5].(int64)
	}
	mk := func(s sums, n int64) Value { return &types.Struct{Vals: []Value{s.x, s.y, s.xx, s.yy, s.xy, n}} }
	step := func(acc Value, vals []Value, sign float64) (Value, error) {
		if vals[0] == nil || vals[1] == nil {
			return acc, nil
		}
		x, _ := types.ToFloat(vals[0])
		y, _ := types.ToFloat(vals[1])
		s, n := get(acc)
		s = sums{s.x + sign*x, s.y + sign*y, s.xx + sign*(x*x), s.yy + sign*(y*y), s.xy + sign*(x*y)}
		return mk(s, n+int64(sign)), nil
	}
	return &Resolved{Return: types.Double, AccType: accT, CanUndo: true, Agg: &funcAgg{
		init: func() Value { return mk(sums{}, 0) },
		add:  func(acc Value, vals []Value) (Value, error) { return step(acc, vals, 1) },
		undo: func(acc Value, vals []Value) (Value, error) { return step(acc, vals, -1) },
		merge: func(a, b Value) (Value, error) {
			s1, n1 := get(a)
			s2, n2 := get(b)
			return mk(sums{s1.x + s2.x, s1.y + s2.y, s1.xx + s2.xx, s1.yy + s2.yy, s1.xy + s2.xy}, n1+n2), nil
		},
		result: func(acc Value) (Value, error) {
			s, n := get(acc)
			c := float64(n)
			num := c*s.xy - s.x*s.y
			dx := c*s.xx - s.x*s.x
			dy := c*s.yy - s.y*s.y
			return num / math.Sqrt(dx*dy), nil
		},
	}}, nil
}

// resolveStddev is STDDEV_SAMPLE (sample standard deviation) and STDDEV_SAMP, which, like ksqlDB's,
// returns the sample variance. Both use the Youngs-Cramer update over (SUM, COUNT, M2), with the sum kept
// in the argument's type (so INT and BIGINT sums wrap as in Java) and 0.0 for fewer than two rows.
func resolveStddev(name string, args []*types.Type, sqrt bool) (*Resolved, error) {
	t := args[0]
	accT := types.StructOf(types.Field{Name: "SUM", Type: t}, types.Field{Name: "COUNT", Type: types.Bigint},
		types.Field{Name: "M2", Type: types.Double})
	get := func(v Value) (Value, int64, float64) {
		s := v.(*types.Struct).Vals
		return s[0], s[1].(int64), s[2].(float64)
	}
	mk := func(sum Value, n int64, m2 float64) Value { return &types.Struct{Vals: []Value{sum, n, m2}} }
	// delta is newValue*(count+1) - (sum+newValue), evaluated in the argument's type as Java does.
	delta := func(sum Value, n int64, v Value) float64 {
		switch x := v.(type) {
		case int32:
			if sqrt {
				// STDDEV_SAMPLE counts in a BIGINT, which widens the product.
				return float64(int64(x)*(n+1) - int64(sum.(int32)+x))
			}
			return float64(x*int32(n+1) - (sum.(int32) + x))
		case int64:
			return float64(x*(n+1) - (sum.(int64) + x))
		}
		x := v.(float64)
		return x*float64(n+1) - (sum.(float64) + x)
	}
	mean := func(sum Value, n int64) float64 {
		f, _ := types.ToFloat(sum)
		return f / float64(n)
	}
	return &Resolved{Return: types.Double, AccType: accT, CanUndo: true, Agg: &funcAgg{
		init: func() Value { return mk(zeroOf(t), 0, 0) },
		add: func(acc Value, vals []Value) (Value, error) {
			if vals[0] == nil {
				return acc, nil
			}
			sum, n, m2 := get(acc)
			var add float64
			if n > 0 {
				d := delta(sum, n, vals[0])
				add = d * d / float64((n+1)*n)
			}
			s, err := addNum(t, sum, vals[0])
			return mk(s, n+1, m2+add), err
		},
		undo: func(acc Value, vals []Value) (Value, error) {
			if vals[0] == nil {
				return acc, nil
			}
			sum, n, m2 := get(acc)
			var sub float64
			if n-1 > 0 {
				d := delta(sum, n, vals[0])
				sub = d * d / float64((n-1)*n)
			}
			s, err := subNum(t, sum, vals[0])
			return mk(s, n-1, m2-sub), err
		},
		merge: func(a, b Value) (Value, error) {
			s1, n1, m1 := get(a)
			s2, n2, m2 := get(b)
			m := m1 + m2
			if n1 > 0 && n2 > 0 {
				d := mean(s1, n1) - mean(s2, n2)
				m += float64(n1*n2) * d * d / float64(n1+n2)
			}
			s, err := addNum(t, s1, s2)
			return mk(s, n1+n2, m), err
		},
		result: func(acc Value) (Value, error) {
			_, n, m2 := get(acc)
			if n < 2 {
				return 0.0, nil
			}
			v := m2 / float64(n-1)
			if sqrt {
				return math.Sqrt(v), nil
			}
			return v, nil
		},
	}}, nil
}
