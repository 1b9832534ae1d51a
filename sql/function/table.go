package function

import (
	"strings"

	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// TableImpl is a resolved table function (a UDTF): one input row's argument values explode into zero or
// more output values, each of which becomes an output row.
type TableImpl func(args []Value) ([]Value, error)

// TableFunction is a table function.
type TableFunction struct {
	Name string
	// Resolve returns the type of each produced value and the implementation.
	Resolve func(args []*types.Type) (*types.Type, TableImpl, error)
}

func init() {
	// EXPLODE(array): one row per element; a NULL or empty array produces no rows.
	builtins.AddTable(&TableFunction{Name: "EXPLODE", Resolve: func(args []*types.Type) (*types.Type, TableImpl, error) {
		if len(args) != 1 || args[0].Kind != types.KindArray {
			return nil, nil, argsErrorWithAlternatives("EXPLODE", args, "explode(ARRAY<DECIMAL> input)", "explode(ARRAY<T> list)")
		}
		return args[0].Elem, func(vals []Value) ([]Value, error) {
			if vals[0] == nil {
				return nil, nil
			}
			return vals[0].([]Value), nil
		}, nil
	}})

	// CUBE_EXPLODE(array): every combination of the elements and NULL (2^n rows), in ksqlDB's order.
	builtins.AddTable(&TableFunction{Name: "CUBE_EXPLODE", Resolve: func(args []*types.Type) (*types.Type, TableImpl, error) {
		if len(args) != 1 || args[0].Kind != types.KindArray {
			return nil, nil, ArgsError("CUBE_EXPLODE", args)
		}
		return args[0], func(vals []Value) ([]Value, error) {
			if vals[0] == nil {
				return nil, nil
			}
			return Cube(vals[0].([]Value)), nil
		}, nil
	}})
}

// argsErrorWithAlternatives is ArgsError followed by the signatures the function does accept, as ksqlDB
// lists them for table functions.
func argsErrorWithAlternatives(name string, args []*types.Type, alternatives ...string) error {
	return sqlerr.New(sqlerr.InvalidArguments, sqlerr.Pos{}, "Function '%s' does not accept parameters (%s).\nValid alternatives are:\n%s",
		strings.ToLower(name), typeList(args), strings.Join(alternatives, "\n"))
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
