// Package function holds Seiche's built-in SQL functions: scalar functions (resolved against argument types
// once, at compile time, into a Go closure), aggregate functions (UDAFs: init/add/merge/undo/result over a
// typed accumulator) and table functions (UDTFs: one input row to zero or more output values).
//
// Null and overflow behaviour follows ksqlDB's functions: most scalar functions return NULL when any
// argument is NULL; integer arithmetic wraps like Java's; an error returned by an implementation makes
// the runtime apply the query's error policy to that record.
package function

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// Value is a SQL value (see package types).
type Value = types.Value

// Impl is a resolved scalar function: it receives its arguments already converted to the declared
// parameter types (nil for NULL) and must not retain or modify them.
type Impl func(args []Value) (Value, error)

// Lambda is the runtime form of a lambda argument (x => x + 1), bound to the current row. It is what a
// higher-order function's Impl receives in a lambda's argument position.
type Lambda func(args ...Value) (Value, error)

// Scalar is a scalar function.
type Scalar struct {
	Name string
	// Resolve checks the argument types and returns the result type and implementation. A lambda argument
	// is passed as a type of KindLambda whose Elem is the lambda body's type. It returns ErrArgs (wrapped
	// or not) when no signature accepts the arguments.
	Resolve func(args []*types.Type) (*types.Type, Impl, error)
	// LambdaParams returns the parameter types of the lambda at argument index i, given the types of the
	// arguments before it; nil for functions without lambdas.
	LambdaParams func(args []*types.Type, i int) ([]*types.Type, error)
	// Sigs are the overloads of a function built by Overloaded, for DESCRIBE FUNCTION; nil for a
	// function that resolves its arguments by code.
	Sigs []Sig
}

// ErrArgs is returned by Resolve when no signature accepts the argument types.
var ErrArgs = fmt.Errorf("function: arguments not accepted")

// Registry is a set of functions. It is safe for concurrent use.
type Registry struct {
	mu        sync.RWMutex
	scalars   map[string]*Scalar
	aggregate map[string]*AggregateFunction
	table     map[string]*TableFunction
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{scalars: map[string]*Scalar{}, aggregate: map[string]*AggregateFunction{},
		table: map[string]*TableFunction{}}
}

var builtins = NewRegistry()

// Builtins returns the registry of built-in functions.
func Builtins() *Registry { return builtins }

// AddScalar registers a scalar function under its upper-case name.
func (r *Registry) AddScalar(s *Scalar) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.scalars[strings.ToUpper(s.Name)] = s
}

// AddAggregate registers an aggregate function.
func (r *Registry) AddAggregate(a *AggregateFunction) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.aggregate[strings.ToUpper(a.Name)] = a
}

// AddTable registers a table function.
func (r *Registry) AddTable(t *TableFunction) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.table[strings.ToUpper(t.Name)] = t
}

// Scalar returns the scalar function named name (case-insensitive).
func (r *Registry) Scalar(name string) (*Scalar, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.scalars[strings.ToUpper(name)]
	return s, ok
}

// Aggregate returns the aggregate function named name.
func (r *Registry) Aggregate(name string) (*AggregateFunction, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.aggregate[strings.ToUpper(name)]
	return a, ok
}

// Table returns the table function named name.
func (r *Registry) Table(name string) (*TableFunction, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.table[strings.ToUpper(name)]
	return t, ok
}

// Names returns all function names, sorted, with their kind ("scalar", "aggregate", "table").
func (r *Registry) Names() map[string]string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := map[string]string{}
	for n := range r.scalars {
		out[n] = "scalar"
	}
	for n := range r.aggregate {
		out[n] = "aggregate"
	}
	for n := range r.table {
		out[n] = "table"
	}
	return out
}

// ArgsError formats ksqlDB's message for arguments that no signature accepts.
func ArgsError(name string, args []*types.Type) error {
	return sqlerr.New(sqlerr.InvalidArguments, sqlerr.Pos{}, "Function '%s' does not accept parameters (%s).",
		strings.ToLower(name), typeList(args))
}

func typeList(args []*types.Type) string {
	var parts []string
	for _, a := range args {
		parts = append(parts, a.String())
	}
	return strings.Join(parts, ", ")
}

// ---------------------------------------------------------------------------------------------------------
// Overload-based definitions: most functions are a list of fixed signatures.

// Parameter type placeholders matching a family of types.
var (
	AnyType    = &types.Type{Kind: types.KindNull, Name: "ANY"}
	AnyDecimal = &types.Type{Kind: types.KindDecimal, Name: "ANY_DECIMAL"}
	AnyArray   = &types.Type{Kind: types.KindArray, Name: "ANY_ARRAY"}
	AnyMap     = &types.Type{Kind: types.KindMap, Name: "ANY_MAP"}
	AnyStruct  = &types.Type{Kind: types.KindStruct, Name: "ANY_STRUCT"}
	AnyLambda  = &types.Type{Kind: types.KindLambda, Name: "ANY_LAMBDA"}
)

func isPlaceholder(t *types.Type) bool {
	return t == AnyType || t == AnyDecimal || t == AnyArray || t == AnyMap || t == AnyStruct || t == AnyLambda
}

// Sig is one signature of an overloaded function.
type Sig struct {
	Params []*types.Type
	// Variadic, when set, is the type of any further arguments.
	Variadic *types.Type
	// Ret is the result type; RetFn computes it from the argument types instead.
	Ret   *types.Type
	RetFn func(args []*types.Type) (*types.Type, error)
	// Impl implements the signature. Unless NullSafe, it is only called when every argument is non-NULL
	// (otherwise the result is NULL).
	Impl     Impl
	NullSafe bool
	// Build, when set, returns the implementation for the concrete argument types (instead of Impl).
	Build func(args []*types.Type) (Impl, error)
}

// ParamNames returns the signature's parameter types as ksqlDB's DESCRIBE FUNCTION names them (a generic
// parameter is T, ARRAY<T>, MAP<K, V>, ...), then its result type's; a variadic parameter comes last,
// followed by "...".
func (s *Sig) ParamNames() (params []string, result string) {
	for _, p := range s.Params {
		params = append(params, typeName(p))
	}
	if s.Variadic != nil {
		params = append(params, typeName(s.Variadic)+"...")
	}
	result = "T"
	if s.Ret != nil {
		result = typeName(s.Ret)
	}
	return params, result
}

func typeName(t *types.Type) string {
	switch t {
	case AnyType:
		return "T"
	case AnyDecimal:
		return "DECIMAL"
	case AnyArray:
		return "ARRAY<T>"
	case AnyMap:
		return "MAP<K, V>"
	case AnyStruct:
		return "STRUCT"
	case AnyLambda:
		return "LAMBDA"
	}
	return t.String()
}

func (s *Sig) paramAt(i int) *types.Type {
	if i < len(s.Params) {
		return s.Params[i]
	}
	return s.Variadic
}

func (s *Sig) accepts(args []*types.Type, exact bool) bool {
	if len(args) < len(s.Params) || (len(args) > len(s.Params) && s.Variadic == nil) {
		return false
	}
	for i, a := range args {
		p := s.paramAt(i)
		if a.Kind == types.KindNull {
			continue
		}
		switch {
		case p == AnyType:
		case isPlaceholder(p):
			if a.Kind != p.Kind {
				return false
			}
		case exact:
			if !a.Equal(p) {
				return false
			}
		default:
			if !types.CanWiden(a, p) {
				return false
			}
		}
	}
	return true
}

// Overloaded returns a Scalar that resolves to the first signature accepting the arguments exactly, else the
// first accepting them after implicit widening.
func Overloaded(name string, sigs ...Sig) *Scalar {
	return &Scalar{Name: name, Sigs: sigs, Resolve: func(args []*types.Type) (*types.Type, Impl, error) {
		var chosen *Sig
		for _, exact := range []bool{true, false} {
			for i := range sigs {
				if sigs[i].accepts(args, exact) {
					chosen = &sigs[i]
					break
				}
			}
			if chosen != nil {
				break
			}
		}
		if chosen == nil {
			return nil, nil, ErrArgs
		}
		allNull := len(args) > 0
		for _, a := range args {
			if a.Kind != types.KindNull {
				allNull = false
			}
		}
		if allNull && len(sigs) > 1 {
			n := 0
			for i := range sigs {
				if sigs[i].accepts(args, false) {
					n++
				}
			}
			if n > 1 {
				var parts []string
				for range args {
					parts = append(parts, "null")
				}
				return nil, nil, sqlerr.New(sqlerr.InvalidArguments, sqlerr.Pos{},
					"Function '%s' cannot be resolved due to ambiguous method parameters (%s).",
					strings.ToLower(name), strings.Join(parts, ", "))
			}
		}
		return chosen.resolve(args)
	}}
}

func (s *Sig) resolve(args []*types.Type) (*types.Type, Impl, error) {
	ret := s.Ret
	if s.RetFn != nil {
		r, err := s.RetFn(args)
		if err != nil {
			return nil, nil, err
		}
		ret = r
	}
	impl := s.Impl
	if s.Build != nil {
		b, err := s.Build(args)
		if err != nil {
			return nil, nil, err
		}
		impl = b
	}
	convs := make([]types.Converter, len(args))
	any := false
	for i, a := range args {
		p := s.paramAt(i)
		if !isPlaceholder(p) && a.Kind != types.KindNull {
			convs[i] = types.Widener(a, p)
			any = any || convs[i] != nil
		}
	}
	nullSafe := s.NullSafe
	return ret, func(vals []Value) (Value, error) {
		if !nullSafe {
			for _, v := range vals {
				if v == nil {
					return nil, nil
				}
			}
		}
		if any {
			conv := make([]Value, len(vals))
			for i, v := range vals {
				if convs[i] != nil && v != nil {
					c, err := convs[i](v)
					if err != nil {
						return nil, err
					}
					v = c
				}
				conv[i] = v
			}
			vals = conv
		}
		return impl(vals)
	}, nil
}

// def registers an overloaded built-in.
func def(name string, sigs ...Sig) { builtins.AddScalar(Overloaded(name, sigs...)) }

// p is shorthand for a parameter list.
func p(ts ...*types.Type) []*types.Type { return ts }

// sortedKeys is a helper for deterministic output.
func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
