// Package function holds Seiche's built-in SQL functions: scalar functions (resolved against argument types
// once, at compile time, into a Go closure), aggregate functions (UDAFs: init/add/merge/undo/result over a
// typed accumulator) and table functions (UDTFs: one input row to zero or more output values).
//
// Null and overflow behaviour follows ksqlDB's functions: most scalar functions return NULL when any
// argument is NULL; integer arithmetic wraps like Java's; an error returned by an implementation makes
// the runtime apply the query's error policy to that record.
package function

import (
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

// Scalar is a scalar function: its overloads and the resolver over them (see Signatures).
type Scalar struct {
	Signatures
}

// Resolve picks the overload for the argument types and returns the result type and the implementation,
// which converts the arguments the overload casts implicitly. A lambda argument is passed as a type of
// KindLambda whose Fields are its parameters' types and whose Elem is its body's type.
func (s *Scalar) Resolve(args []*types.Type) (*types.Type, Impl, error) {
	m, err := s.resolve(args)
	if err != nil {
		return nil, nil, err
	}
	ret, targets, convs, err := m.instantiate(args)
	if err != nil {
		return nil, nil, err
	}
	impl := m.sig.Impl
	if m.sig.Build != nil {
		if impl, err = m.sig.Build(targets); err != nil {
			return nil, nil, err
		}
	}
	nullSafe := m.sig.NullSafe
	return ret, func(vals []Value) (Value, error) {
		args, ok, err := prepare(convs, nullSafe, vals)
		if !ok {
			return nil, err
		}
		return impl(args)
	}, nil
}

// LambdaInputs returns the possible parameter types of the lambda at argument index i of a call with n
// arguments, given the types of the arguments before it: one list per overload that can take the call.
func (s *Scalar) LambdaInputs(before []*types.Type, i, n int) ([][]*types.Type, error) {
	return s.lambdaInputs(before, i, n)
}

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

// def registers a built-in scalar function with its overloads; errors name it in lower case, as ksqlDB's
// UDFs are declared.
func def(name string, sigs ...Sig) {
	builtins.AddScalar(&Scalar{Signatures{Name: strings.ToLower(name), Sigs: sigs}})
}

// p is shorthand for a parameter list.
func p(ts ...*types.Type) []*types.Type { return ts }
