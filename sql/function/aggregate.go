package function

import (
	"math"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/cockroachdb/apd/v3"
	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// Aggregate is a resolved aggregate function (a UDAF). Its accumulator is a SQL value of AccType, so that a
// state store can serialize it with the query's formats; accumulators are treated as immutable (Add returns
// a new one) so a store may keep the previous one for its changelog.
type Aggregate interface {
	// Init returns the accumulator of an empty group.
	Init() Value
	// Add folds one row's argument values into acc.
	Add(acc Value, args []Value) (Value, error)
	// Merge combines two accumulators (session windows merging).
	Merge(a, b Value) (Value, error)
	// Undo removes one row's arguments from acc, for aggregations over a table (a row's old value is undone
	// before its new value is added). Only called when Resolved.CanUndo.
	Undo(acc Value, args []Value) (Value, error)
	// Result maps an accumulator to the function's result.
	Result(acc Value) (Value, error)
}

// Resolved is an aggregate resolved against its argument types.
type Resolved struct {
	Agg     Aggregate
	Return  *types.Type
	AccType *types.Type
	CanUndo bool
}

// AggregateFunction is an aggregate function. Args are the types of the column arguments; Init are the
// literal "initial arguments" that follow them (TOPK(col, 3): Args=[type of col], Init=[3]).
type AggregateFunction struct {
	// Signatures declares the overloads over the column arguments followed by the initial arguments; the
	// resolver accepts or refuses a call before Resolve builds the aggregate for its types.
	Signatures
	// SplitArgs says how many of a call's n arguments are columns; the rest are initial arguments.
	SplitArgs func(n int) (cols int)
	// Resolve builds the aggregate for argument types an overload accepted: the column arguments' own
	// types (an implementation reads an implicitly cast argument in its own type).
	Resolve func(args []*types.Type, init []Value) (*Resolved, error)
	// Configured, when set, is Resolve for a function that reads session properties (ksqlDB's
	// Configurable UDAFs, e.g. ksql.functions.collect_list.limit); props may be nil.
	Configured func(args []*types.Type, init []Value, props map[string]string) (*Resolved, error)
}

// ResolveWith resolves the function against its argument types under the session properties props.
func (f *AggregateFunction) ResolveWith(args []*types.Type, init []Value, props map[string]string) (*Resolved, error) {
	all := append([]*types.Type{}, args...)
	for _, v := range init {
		all = append(all, literalType(v))
	}
	if _, err := f.resolve(all); err != nil {
		return nil, err
	}
	if f.Configured != nil {
		return f.Configured(args, init, props)
	}
	return f.Resolve(args, init)
}

// literalType is the type of an initial argument's literal value.
func literalType(v Value) *types.Type {
	switch v.(type) {
	case int32:
		return types.Int
	case int64:
		return types.Bigint
	case float64:
		return types.Double
	case string:
		return types.String
	case bool:
		return types.Boolean
	}
	return types.Null
}

func agg(name string, sigs []Sig, split func(int) int, resolve func(args []*types.Type, init []Value) (*Resolved, error)) {
	if split == nil {
		split = func(n int) int { return n }
	}
	builtins.AddAggregate(&AggregateFunction{Signatures: Signatures{Name: strings.ToLower(name), Sigs: sigs}, SplitArgs: split, Resolve: resolve})
}

// overloads declares one overload per type t of the first parameter, followed by the parameters more,
// with the result type ret(t).
func overloads(ts []*types.Type, ret func(t *types.Type) *types.Type, more ...*types.Type) []Sig {
	sigs := make([]Sig, len(ts))
	for i, t := range ts {
		sigs[i] = Sig{Params: append([]*types.Type{t}, more...), Ret: ret(t)}
	}
	return sigs
}

func same(t *types.Type) *types.Type { return t }

func toDouble(*types.Type) *types.Type { return tD }

// Parameter types of the aggregates that ksqlDB declares per type.
var (
	numericTypes    = []*types.Type{tI, tB, tD, AnyDecimal}
	comparableTypes = []*types.Type{tI, tB, tD, AnyDecimal, tS, types.Bytes, types.Date, types.Time, types.Timestamp}
)

// funcAgg implements Aggregate with closures.
type funcAgg struct {
	init   func() Value
	add    func(acc Value, args []Value) (Value, error)
	merge  func(a, b Value) (Value, error)
	undo   func(acc Value, args []Value) (Value, error)
	result func(acc Value) (Value, error)
}

func (f *funcAgg) Init() Value                                 { return f.init() }
func (f *funcAgg) Add(acc Value, args []Value) (Value, error)  { return f.add(acc, args) }
func (f *funcAgg) Merge(a, b Value) (Value, error)             { return f.merge(a, b) }
func (f *funcAgg) Undo(acc Value, args []Value) (Value, error) { return f.undo(acc, args) }
func (f *funcAgg) Result(acc Value) (Value, error) {
	if f.result == nil {
		return acc, nil
	}
	return f.result(acc)
}

// numeric addition helpers, with Java wrap-around for integers.
func addNum(t *types.Type, a, b Value) (Value, error) {
	switch t.Kind {
	case types.KindInt:
		return a.(int32) + b.(int32), nil
	case types.KindBigint:
		return a.(int64) + b.(int64), nil
	case types.KindDouble:
		return a.(float64) + b.(float64), nil
	case types.KindDecimal:
		r, err := types.DecimalAdd(a.(*apd.Decimal), b.(*apd.Decimal))
		if err != nil {
			return nil, err
		}
		return types.RoundDecimal(r, t.Precision, t.Scale)
	}
	return nil, sqlerr.New(sqlerr.Type, sqlerr.Pos{}, "cannot add %s", t)
}

func subNum(t *types.Type, a, b Value) (Value, error) {
	switch t.Kind {
	case types.KindInt:
		return a.(int32) - b.(int32), nil
	case types.KindBigint:
		return a.(int64) - b.(int64), nil
	case types.KindDouble:
		return a.(float64) - b.(float64), nil
	case types.KindDecimal:
		r, err := types.DecimalSub(a.(*apd.Decimal), b.(*apd.Decimal))
		if err != nil {
			return nil, err
		}
		return types.RoundDecimal(r, t.Precision, t.Scale)
	}
	return nil, sqlerr.New(sqlerr.Type, sqlerr.Pos{}, "cannot subtract %s", t)
}

func zeroOf(t *types.Type) Value {
	switch t.Kind {
	case types.KindInt:
		return int32(0)
	case types.KindBigint:
		return int64(0)
	case types.KindDouble:
		return float64(0)
	case types.KindDecimal:
		d, _ := types.RoundDecimal(apd.New(0, 0), t.Precision, t.Scale)
		return d
	}
	return nil
}

// sequence orders LATEST_BY_OFFSET / EARLIEST_BY_OFFSET entries like ksqlDB's per-process sequence number.
var sequence atomic.Int64

func init() {
	// COUNT(*), COUNT(col): rows, or rows where col is not NULL.
	agg("COUNT", []Sig{{Ret: tB}, {Params: p(T), Ret: tB}}, nil, func(args []*types.Type, _ []Value) (*Resolved, error) {
		star := len(args) == 0
		counts := func(vals []Value) bool { return star || len(vals) == 0 || vals[0] != nil }
		return &Resolved{Return: types.Bigint, AccType: types.Bigint, CanUndo: true, Agg: &funcAgg{
			init: func() Value { return int64(0) },
			add: func(acc Value, vals []Value) (Value, error) {
				if counts(vals) {
					return acc.(int64) + 1, nil
				}
				return acc, nil
			},
			merge: func(a, b Value) (Value, error) { return a.(int64) + b.(int64), nil },
			undo: func(acc Value, vals []Value) (Value, error) {
				if counts(vals) {
					return acc.(int64) - 1, nil
				}
				return acc, nil
			},
		}}, nil
	})

	// SUM(col): INT, BIGINT, DOUBLE, DECIMAL; NULLs are skipped; the sum of no rows is 0.
	agg("SUM", overloads(numericTypes, same), nil, func(args []*types.Type, _ []Value) (*Resolved, error) {
		t := args[0]
		if t.Kind == types.KindDecimal {
			// ksqlDB widens the sum to the maximum precision with the same scale.
			t = types.DecimalOf(types.MaxDecimalPrecision, t.Scale)
		}
		return &Resolved{Return: t, AccType: t, CanUndo: true, Agg: &funcAgg{
			init: func() Value { return zeroOf(t) },
			add: func(acc Value, vals []Value) (Value, error) {
				if vals[0] == nil {
					return acc, nil
				}
				return addNum(t, acc, widenTo(t, vals[0]))
			},
			merge: func(a, b Value) (Value, error) { return addNum(t, a, b) },
			undo: func(acc Value, vals []Value) (Value, error) {
				if vals[0] == nil {
					return acc, nil
				}
				return subNum(t, acc, widenTo(t, vals[0]))
			},
		}}, nil
	})

	// MIN / MAX over comparable primitive types; NULLs are skipped; no undo (ksqlDB neither).
	for _, name := range []string{"MIN", "MAX"} {
		isMax := name == "MAX"
		agg(name, overloads(comparableTypes, same), nil, func(args []*types.Type, _ []Value) (*Resolved, error) {
			pick := func(a, b Value) Value {
				if a == nil {
					return b
				}
				if b == nil {
					return a
				}
				c, _ := types.Compare(a, b)
				if (isMax && c < 0) || (!isMax && c > 0) {
					return b
				}
				return a
			}
			return &Resolved{Return: args[0], AccType: args[0], Agg: &funcAgg{
				init:  func() Value { return nil },
				add:   func(acc Value, vals []Value) (Value, error) { return pick(acc, vals[0]), nil },
				merge: func(a, b Value) (Value, error) { return pick(a, b), nil },
				undo:  func(acc Value, vals []Value) (Value, error) { return acc, nil },
			}}, nil
		})
	}

	// AVG(col): DOUBLE (DECIMAL for DECIMAL input is not ksqlDB's behaviour: it also returns DOUBLE).
	agg("AVG", overloads(numericTypes, toDouble), nil, func(args []*types.Type, _ []Value) (*Resolved, error) {
		acc := types.StructOf(types.Field{Name: "SUM", Type: types.Double}, types.Field{Name: "COUNT", Type: types.Bigint})
		mk := func(s float64, c int64) Value { return &types.Struct{Vals: []Value{s, c}} }
		get := func(v Value) (float64, int64) { s := v.(*types.Struct); return s.Vals[0].(float64), s.Vals[1].(int64) }
		return &Resolved{Return: types.Double, AccType: acc, CanUndo: true, Agg: &funcAgg{
			init: func() Value { return mk(0, 0) },
			add: func(a Value, vals []Value) (Value, error) {
				if vals[0] == nil {
					return a, nil
				}
				f, _ := types.ToFloat(vals[0])
				s, c := get(a)
				return mk(s+f, c+1), nil
			},
			merge: func(a, b Value) (Value, error) {
				s1, c1 := get(a)
				s2, c2 := get(b)
				return mk(s1+s2, c1+c2), nil
			},
			undo: func(a Value, vals []Value) (Value, error) {
				if vals[0] == nil {
					return a, nil
				}
				f, _ := types.ToFloat(vals[0])
				s, c := get(a)
				return mk(s-f, c-1), nil
			},
			result: func(a Value) (Value, error) {
				s, c := get(a)
				if c == 0 {
					return nil, nil
				}
				return s / float64(c), nil
			},
		}}, nil
	})

	// COLLECT_LIST / COLLECT_SET: ARRAY of the values, NULLs included (sets keep first-seen order and hold
	// NULL at most once). Like ksqlDB's, both stop growing at 1000 elements unless the session property
	// ksql.functions.collect_list.limit (collect_set.limit) sets another cap.
	for _, name := range []string{"COLLECT_LIST", "COLLECT_SET"} {
		set := name == "COLLECT_SET"
		prop := "ksql.functions." + strings.ToLower(name) + ".limit"
		configured := func(args []*types.Type, _ []Value, props map[string]string) (*Resolved, error) {
			limit := 1000
			if v, ok := props[prop]; ok {
				n, err := strconv.Atoi(strings.TrimSpace(v))
				if err != nil {
					return nil, sqlerr.New(sqlerr.InvalidArguments, sqlerr.Pos{}, "Invalid value for %s: %q is not an integer", prop, v)
				}
				limit = n
			}
			t := types.ArrayOf(args[0])
			contains := func(l []Value, v Value) bool {
				for _, e := range l {
					if types.Equal(e, v) {
						return true
					}
				}
				return false
			}
			add := func(acc Value, v Value) Value {
				l := acc.([]Value)
				if len(l) >= limit || (set && contains(l, v)) {
					return l
				}
				out := make([]Value, len(l), len(l)+1)
				copy(out, l)
				return append(out, v)
			}
			return &Resolved{Return: t, AccType: t, CanUndo: true, Agg: &funcAgg{
				init: func() Value { return []Value{} },
				add:  func(acc Value, vals []Value) (Value, error) { return add(acc, vals[0]), nil },
				merge: func(a, b Value) (Value, error) {
					for _, v := range b.([]Value) {
						a = add(a, v)
					}
					return a, nil
				},
				undo: func(acc Value, vals []Value) (Value, error) {
					l := acc.([]Value)
					for i, e := range l {
						if types.Equal(e, vals[0]) {
							out := make([]Value, 0, len(l)-1)
							out = append(out, l[:i]...)
							return append(out, l[i+1:]...), nil
						}
					}
					return l, nil
				},
			}}, nil
		}
		builtins.AddAggregate(&AggregateFunction{Signatures: Signatures{Name: strings.ToLower(name), Sigs: []Sig{{Params: p(T), Ret: types.ArrayOf(T)}}},
			SplitArgs: func(n int) int { return n }, Configured: configured,
			Resolve: func(args []*types.Type, init []Value) (*Resolved, error) { return configured(args, init, nil) }})
	}

	// LATEST_BY_OFFSET(col [, n] [, ignoreNulls]) / EARLIEST_BY_OFFSET: the value of the latest/earliest
	// row (by arrival); with n, an ARRAY of the n latest/earliest. NULLs are ignored by default.
	for _, name := range []string{"LATEST_BY_OFFSET", "EARLIEST_BY_OFFSET"} {
		latest := name == "LATEST_BY_OFFSET"
		arrT := types.ArrayOf(T)
		sigs := []Sig{{Params: p(T), Ret: T}, {Params: p(T, types.Boolean), Ret: T}, {Params: p(T, tI), Ret: arrT},
			{Params: p(T, tI, types.Boolean), Ret: arrT}}
		agg(name, sigs, func(n int) int { return 1 }, func(args []*types.Type, init []Value) (*Resolved, error) {
			n, ignoreNulls, multi := 1, true, false
			for _, iv := range init {
				switch v := iv.(type) {
				case int32:
					n, multi = int(v), true
				case int64:
					n, multi = int(v), true
				case bool:
					ignoreNulls = v
				}
			}
			if multi && n <= 0 {
				return nil, sqlerr.New(sqlerr.InvalidArguments, sqlerr.Pos{}, "%s must be 1 or greater", name)
			}
			entry := types.StructOf(types.Field{Name: "SEQ", Type: types.Bigint}, types.Field{Name: "VAL", Type: args[0]})
			accT := types.ArrayOf(entry)
			ret := args[0]
			if multi {
				ret = types.ArrayOf(args[0])
			}
			keep := func(l []Value, v Value, seq int64) []Value {
				e := &types.Struct{Vals: []Value{seq, v}}
				if latest {
					out := append(append([]Value{}, l...), e)
					if len(out) > n {
						out = out[len(out)-n:]
					}
					return out
				}
				if len(l) >= n {
					return l
				}
				return append(append([]Value{}, l...), e)
			}
			return &Resolved{Return: ret, AccType: accT, Agg: &funcAgg{
				init: func() Value { return []Value{} },
				add: func(acc Value, vals []Value) (Value, error) {
					if ignoreNulls && vals[0] == nil {
						return acc, nil
					}
					return keep(acc.([]Value), vals[0], sequence.Add(1)), nil
				},
				merge: func(a, b Value) (Value, error) {
					all := append(append([]Value{}, a.([]Value)...), b.([]Value)...)
					sortBySeq(all)
					if latest && len(all) > n {
						all = all[len(all)-n:]
					} else if !latest && len(all) > n {
						all = all[:n]
					}
					return all, nil
				},
				undo: func(acc Value, vals []Value) (Value, error) { return acc, nil },
				result: func(acc Value) (Value, error) {
					l := acc.([]Value)
					if !multi {
						if len(l) == 0 {
							return nil, nil
						}
						return l[len(l)-1].(*types.Struct).Vals[1], nil
					}
					out := make([]Value, len(l))
					for i, e := range l {
						out[i] = e.(*types.Struct).Vals[1]
					}
					return out, nil
				},
			}}, nil
		})
	}

	// TOPK(col, k): the k largest values, descending. TOPK(col, other..., k) keeps, with each of the k largest
	// values of col, the values of the other arguments in the same row: an ARRAY of STRUCT<sort_col, col0,
	// col1, ...>, ordered by sort_col only (a later row that ties goes after the earlier ones).
	sigs := overloads(comparableTypes, types.ArrayOf, tI)
	for _, t := range comparableTypes {
		sigs = append(sigs, Sig{Params: p(t), Variadic: Any, After: p(tI), Ret: types.ArrayOf(AnyStruct)})
	}
	agg("TOPK", sigs, func(n int) int { return max(1, n-1) }, func(args []*types.Type, init []Value) (*Resolved, error) {
		k, _ := initInt(init[0])
		t := types.ArrayOf(args[0])
		sortKey := func(v Value) Value { return v }
		if len(args) > 1 {
			fs := []types.Field{{Name: "sort_col", Type: args[0]}}
			for i, a := range args[1:] {
				fs = append(fs, types.Field{Name: "col" + strconv.Itoa(i), Type: a})
			}
			t = types.ArrayOf(types.StructOf(fs...))
			sortKey = func(v Value) Value { return v.(*types.Struct).Vals[0] }
		}
		insert := func(l []Value, v Value) []Value {
			out := make([]Value, 0, len(l)+1)
			placed := false
			for _, e := range l {
				if c, _ := types.Compare(sortKey(v), sortKey(e)); !placed && c > 0 {
					out = append(out, v)
					placed = true
				}
				out = append(out, e)
			}
			if !placed {
				out = append(out, v)
			}
			if len(out) > k {
				out = out[:k]
			}
			return out
		}
		r := topKResolved(t, insert)
		if len(args) > 1 {
			// The row's values travel as one STRUCT; a NULL sort value drops the row.
			fa := r.Agg.(*funcAgg)
			fa.add = func(acc Value, vals []Value) (Value, error) {
				if vals[0] == nil {
					return acc, nil
				}
				return insert(acc.([]Value), &types.Struct{Vals: append([]Value{}, vals...)}), nil
			}
		}
		return r, nil
	})
}

// topKResolved is TOPK's and TOPKDISTINCT's aggregate over an ARRAY t kept in descending order by insert
// (which also caps it at k); NULLs are skipped and nothing can be undone, as in ksqlDB.
func topKResolved(t *types.Type, insert func(l []Value, v Value) []Value) *Resolved {
	return &Resolved{Return: t, AccType: t, Agg: &funcAgg{
		init: func() Value { return []Value{} },
		add: func(acc Value, vals []Value) (Value, error) {
			if vals[0] == nil {
				return acc, nil
			}
			return insert(acc.([]Value), vals[0]), nil
		},
		merge: func(a, b Value) (Value, error) {
			for _, v := range b.([]Value) {
				a = insert(a.([]Value), v)
			}
			return a, nil
		},
		undo: func(acc Value, _ []Value) (Value, error) { return acc, nil },
	}}
}

func sortBySeq(l []Value) {
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j].(*types.Struct).Vals[0].(int64) < l[j-1].(*types.Struct).Vals[0].(int64); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}

// widenTo converts a numeric value to the Go representation of t (for SUM's accumulator).
func widenTo(t *types.Type, v Value) Value {
	switch t.Kind {
	case types.KindBigint:
		switch x := v.(type) {
		case int32:
			return int64(x)
		}
	case types.KindDouble:
		f, _ := types.ToFloat(v)
		return f
	case types.KindDecimal:
		d, _ := types.ToDecimal(v)
		return d
	}
	return v
}

var _ = math.MaxInt
