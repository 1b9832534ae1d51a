package function

import (
	"strings"

	"github.com/seichedb/seiche/sql/types"
)

// TableImpl is a resolved table function (a UDTF): one input row's argument values explode into zero or
// more output values, each of which becomes an output row.
type TableImpl func(args []Value) ([]Value, error)

// TableFunction is a table function: its overloads (each implemented by Sig.Table) and the resolver over
// them.
type TableFunction struct {
	Signatures
}

// Resolve picks the overload for the argument types and returns the type of each produced value and the
// implementation. Unless the overload is NullSafe, a NULL argument produces no rows.
func (f *TableFunction) Resolve(args []*types.Type) (*types.Type, TableImpl, error) {
	m, err := f.resolve(args)
	if err != nil {
		return nil, nil, err
	}
	ret, _, convs, err := m.instantiate(args)
	if err != nil {
		return nil, nil, err
	}
	impl, nullSafe := m.sig.Table, m.sig.NullSafe
	return ret, func(vals []Value) ([]Value, error) {
		args, ok, err := prepare(convs, nullSafe, vals)
		if !ok {
			return nil, err
		}
		return impl(args)
	}, nil
}

func defTable(name string, sigs ...Sig) {
	builtins.AddTable(&TableFunction{Signatures{Name: strings.ToLower(name), Sigs: sigs}})
}

func init() {
	// EXPLODE(array): one row per element; a NULL or empty array produces no rows. ksqlDB declares the
	// DECIMAL overload apart so that the elements keep their precision.
	explode := func(vals []Value) ([]Value, error) { return vals[0].([]Value), nil }
	defTable("EXPLODE",
		Sig{Params: p(types.ArrayOf(AnyDecimal)), Names: []string{"input"}, RetFn: func(args []*types.Type) (*types.Type, error) {
			return args[0].Elem, nil
		}, Table: explode},
		Sig{Params: p(types.ArrayOf(T)), Names: []string{"list"}, Ret: T, Table: explode})

	// CUBE_EXPLODE(array): every combination of the elements and NULL (2^n rows), in ksqlDB's order.
	defTable("CUBE_EXPLODE", Sig{Params: p(types.ArrayOf(T)), Names: []string{"list"}, Ret: types.ArrayOf(T),
		Table: func(vals []Value) ([]Value, error) { return Cube(vals[0].([]Value)), nil }})
}

// Cube returns the combinations of CUBE_EXPLODE: for n columns, 2^n arrays where each position holds either
// the value or NULL. Like ksqlDB, the first combination is all NULLs and bit i of the combination index
// selects column n-1-i; a NULL input value yields NULL in both halves, so those duplicates are dropped.
func Cube(in []Value) []Value {
	n := len(in)
	var out []Value
	seen := map[string]bool{}
	for mask := 0; mask < 1<<n; mask++ {
		row := make([]Value, n)
		for i := 0; i < n; i++ {
			if mask&(1<<(n-1-i)) != 0 {
				row[i] = in[i]
			}
		}
		key := types.Format(row)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, row)
	}
	return out
}
