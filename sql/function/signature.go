package function

import (
	"fmt"
	"strings"

	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// Every built-in function declares its overloads as ksqlDB's UDF factories do: a list of signatures, each
// with parameter types that may be generic (T, ARRAY<T>, MAP<K, V>, a lambda LAMBDA (T) -> U), an optional
// variadic last parameter, and a result type that is either declared (generics replaced by what the
// arguments bound them to) or computed from the argument types (ksqlDB's schema providers). One resolver
// (resolve, below) picks the overload, the implicit casts and the error for every function, following
// ksqlDB's UdfIndex, ParamTypes and GenericsUtil:
//
//   - A first pass accepts only arguments whose type matches the parameter's exactly (same base type; any
//     DECIMAL for DECIMAL; element-wise for ARRAY and MAP; field by field, never cast, for STRUCT). Only when
//     it finds nothing does a second pass also accept implicit casts: INT → BIGINT → DECIMAL → DOUBLE, and a
//     STRING to DATE, TIME or TIMESTAMP.
//   - A generic parameter binds to the type of the first argument in its place; every other occurrence must
//     be that same type (no casts through generics). An untyped NULL matches any parameter.
//   - Among the overloads a pass accepts, a non-variadic one beats a variadic one, then more parameters beat
//     fewer, then fewer generic parameters beat more; two best candidates that tie are ambiguous.

// Generic type parameters of signatures. They are only ever compared by identity.
var (
	T = genericParam("T")
	U = genericParam("U")
	K = genericParam("K")
	V = genericParam("V")
	// S is the state of REDUCE, and the other type of two-type signatures.
	S = genericParam("S")
	// K2 and V2 are the key and value types a map is transformed to.
	K2 = genericParam("K2")
	V2 = genericParam("V2")
)

// AnyDecimal is ksqlDB's DECIMAL parameter type: a DECIMAL of any precision and scale.
var AnyDecimal = &types.Type{Kind: types.KindDecimal, Name: "DECIMAL"}

// AnyStruct is STRUCT<>, which accepts any STRUCT.
var AnyStruct = &types.Type{Kind: types.KindStruct, Name: "STRUCT"}

// Any is ksqlDB's ANY parameter type (a Java Object parameter): it accepts an argument of any type but a
// lambda, which is passed as it is. Unlike a generic, two Any parameters need not have the same type.
var Any = &types.Type{Kind: types.KindNull, Name: "ANY"}

var generics = map[*types.Type]bool{}

func genericParam(name string) *types.Type {
	t := &types.Type{Kind: types.KindNull, Name: name}
	generics[t] = true
	return t
}

func isGeneric(t *types.Type) bool { return generics[t] }

// hasGenerics reports whether a declared type mentions a generic parameter.
func hasGenerics(t *types.Type) bool {
	if t == nil {
		return false
	}
	if isGeneric(t) {
		return true
	}
	switch t.Kind {
	case types.KindArray:
		return hasGenerics(t.Elem)
	case types.KindMap, types.KindLambda:
		if hasGenerics(t.Key) || hasGenerics(t.Elem) {
			return true
		}
		fallthrough
	case types.KindStruct:
		for _, f := range t.Fields {
			if hasGenerics(f.Type) {
				return true
			}
		}
	}
	return false
}

// LambdaOf is the declared type of a lambda parameter with the given input types and result. At a call, a
// lambda argument's type has the same shape: Fields are its parameters' types, Elem its body's type.
func LambdaOf(ret *types.Type, in ...*types.Type) *types.Type {
	fs := make([]types.Field, len(in))
	for i, t := range in {
		fs[i] = types.Field{Type: t}
	}
	return &types.Type{Kind: types.KindLambda, Elem: ret, Fields: fs}
}

// Sig is one overload of a function.
type Sig struct {
	Params []*types.Type
	// Names are the parameters' names (DESCRIBE FUNCTION and the list of valid alternatives in an error);
	// optional.
	Names []string
	// Variadic, when set, is the type of any further arguments.
	Variadic *types.Type
	// After are fixed parameters that follow the variadic ones (ksqlDB allows a variadic parameter before
	// others, as in TOPK(sort, other..., k)); only with Variadic.
	After []*types.Type
	// Ret is the result type, in which generics stand for what the arguments bound them to. RetFn, when set,
	// computes it instead from the argument types as the implementation receives them (after implicit
	// casts; an INT given for a DECIMAL parameter is a DECIMAL(10, 0)).
	Ret   *types.Type
	RetFn func(args []*types.Type) (*types.Type, error)
	// Impl implements the signature. Unless NullSafe, it is only called when every argument is non-NULL
	// (otherwise the result is NULL).
	Impl     Impl
	NullSafe bool
	// Build, when set, returns the implementation for the concrete argument types (instead of Impl).
	Build func(args []*types.Type) (Impl, error)
	// Table implements a table function's signature (see TableFunction).
	Table TableImpl
}

// paramAt is the declared type of argument i of a call with n arguments.
func (s *Sig) paramAt(i, n int) *types.Type {
	if i < len(s.Params) {
		return s.Params[i]
	}
	if j := i - (n - len(s.After)); j >= 0 {
		return s.After[j]
	}
	return s.Variadic
}

func (s *Sig) arity() int {
	if s.Variadic != nil {
		return len(s.Params) + 1 + len(s.After)
	}
	return len(s.Params)
}

func (s *Sig) takes(n int) bool {
	if s.Variadic != nil {
		return n >= len(s.Params)+len(s.After)
	}
	return n == len(s.Params)
}

func (s *Sig) genericParams() int {
	n := 0
	for _, p := range s.Params {
		if hasGenerics(p) {
			n++
		}
	}
	if hasGenerics(s.Variadic) {
		n++
	}
	for _, p := range s.After {
		if hasGenerics(p) {
			n++
		}
	}
	return n
}

// compare orders two accepted overloads as ksqlDB's UdfIndex does: positive when s is the better match.
func (s *Sig) compare(o *Sig) int {
	if (s.Variadic == nil) != (o.Variadic == nil) {
		if s.Variadic == nil {
			return 1
		}
		return -1
	}
	if s.arity() != o.arity() {
		return s.arity() - o.arity()
	}
	return o.genericParams() - s.genericParams()
}

// ParamNames returns the signature's parameter types as ksqlDB's DESCRIBE FUNCTION names them (T,
// ARRAY<T>, MAP<K, V>, DECIMAL, ...); a variadic parameter comes last, followed by "...". The result is the
// declared result type, or the name of the generic it is computed like.
func (s *Sig) ParamNames() (params []string, result string) {
	for _, p := range s.Params {
		params = append(params, paramString(p))
	}
	if s.Variadic != nil {
		params = append(params, paramString(s.Variadic)+"...")
	}
	for _, p := range s.After {
		params = append(params, paramString(p))
	}
	result = "T"
	if s.Ret != nil {
		result = paramString(s.Ret)
	}
	return params, result
}

// String formats the signature as ksqlDB lists valid alternatives: name(TYPE param, ...).
func (s *Sig) format(name string) string {
	params, _ := s.ParamNames()
	for i := range params {
		if i < len(s.Names) && s.Names[i] != "" {
			params[i] += " " + s.Names[i]
		}
	}
	return name + "(" + strings.Join(params, ", ") + ")"
}

// paramString is a declared type as ksqlDB prints a function's parameter types.
func paramString(t *types.Type) string {
	switch {
	case isGeneric(t):
		return t.Name
	case t == AnyDecimal:
		return "DECIMAL"
	case t == AnyStruct:
		return "STRUCT<>"
	case t == Any:
		return "ANY"
	}
	switch t.Kind {
	case types.KindArray:
		return "ARRAY<" + paramString(t.Elem) + ">"
	case types.KindMap:
		return "MAP<" + paramString(t.Key) + ", " + paramString(t.Elem) + ">"
	case types.KindLambda:
		in := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			in[i] = paramString(f.Type)
		}
		return "LAMBDA (" + strings.Join(in, ", ") + ") -> " + paramString(t.Elem)
	case types.KindStruct:
		fs := make([]string, len(t.Fields))
		for i, f := range t.Fields {
			fs[i] = "`" + f.Name + "` " + paramString(f.Type)
		}
		return "STRUCT<" + strings.Join(fs, ", ") + ">"
	}
	return t.String()
}

// bindings maps generic parameters to the types the arguments bound them to.
type bindings map[*types.Type]*types.Type

// accepts reports whether an argument of type a may be passed for the declared parameter p (ksqlDB's
// UdfIndex.Parameter.accepts), binding p's generics in b.
func accepts(p, a *types.Type, b bindings, cast bool) bool {
	if a.Kind == types.KindNull {
		return true
	}
	if p == Any {
		return a.Kind != types.KindLambda
	}
	if hasGenerics(p) {
		return bind(p, a, b)
	}
	if a.Kind == types.KindLambda || p.Kind == types.KindLambda {
		return a.Kind == p.Kind && len(a.Fields) == len(p.Fields) && a.Elem != nil && sameBase(p.Elem, a.Elem)
	}
	return compatible(a, p, cast)
}

// bind matches a against a declared type with generics (GenericsUtil.reserveGenerics): the structure must
// be the same, leaves that are not generic must have the same base type, and a generic already bound must
// be bound to exactly a's type.
func bind(p, a *types.Type, b bindings) bool {
	if a == nil || a.Kind == types.KindNull {
		return true
	}
	if isGeneric(p) {
		if a.Kind == types.KindLambda || a.Kind == types.KindInterval {
			return false
		}
		if old, ok := b[p]; ok {
			return old.Equal(a)
		}
		b[p] = a
		return true
	}
	if p.Kind != a.Kind {
		return false
	}
	switch p.Kind {
	case types.KindArray:
		return bind(p.Elem, a.Elem, b)
	case types.KindMap:
		return bind(p.Key, a.Key, b) && bind(p.Elem, a.Elem, b)
	case types.KindLambda:
		if len(p.Fields) != len(a.Fields) {
			return false
		}
		for i := range p.Fields {
			if !bind(p.Fields[i].Type, a.Fields[i].Type, b) {
				return false
			}
		}
		return bind(p.Elem, a.Elem, b)
	}
	return true
}

// sameBase reports whether a has the base type of the declared (generic-free) p, or is NULL.
func sameBase(p, a *types.Type) bool {
	if hasGenerics(p) {
		return true
	}
	return a.Kind == types.KindNull || compatible(a, p, false)
}

// compatible is ksqlDB's ParamTypes.areCompatible: a value of type a may be passed for the generic-free
// declared type p, with implicit casts when cast is set.
func compatible(a, p *types.Type, cast bool) bool {
	if a.Kind == types.KindNull {
		return true
	}
	switch {
	case a.Kind == types.KindArray && p.Kind == types.KindArray:
		return compatible(a.Elem, p.Elem, cast)
	case a.Kind == types.KindMap && p.Kind == types.KindMap:
		return compatible(a.Key, p.Key, cast) && compatible(a.Elem, p.Elem, cast)
	case a.Kind == types.KindStruct && p.Kind == types.KindStruct:
		if p == AnyStruct || len(a.Fields) == 0 || len(p.Fields) == 0 {
			return true
		}
		if len(a.Fields) != len(p.Fields) {
			return false
		}
		for _, f := range p.Fields {
			i := a.FieldIndex(f.Name)
			// Like ksqlDB, never an implicit cast inside a STRUCT.
			if i < 0 || !compatible(a.Fields[i].Type, f.Type, false) {
				return false
			}
		}
		return true
	}
	if a.Kind == p.Kind {
		return a.IsPrimitive()
	}
	return cast && canImplicitlyCast(a.Kind, p.Kind)
}

// canImplicitlyCast is ksqlDB's SqlBaseType.canImplicitlyCast for the base types Seiche converts.
func canImplicitlyCast(from, to types.Kind) bool {
	rank := types.NumericRank
	if rank(from) > 0 && rank(to) > 0 {
		return rank(from) <= rank(to)
	}
	return from == types.KindString && (to == types.KindDate || to == types.KindTime || to == types.KindTimestamp)
}

// apply replaces the generics in a declared type by their bindings; a generic that nothing bound (all its
// arguments were NULL) is the NULL type.
func apply(t *types.Type, b bindings) *types.Type {
	if !hasGenerics(t) {
		return t
	}
	if isGeneric(t) {
		if bt, ok := b[t]; ok {
			return bt
		}
		return types.Null
	}
	switch t.Kind {
	case types.KindArray:
		return types.ArrayOf(apply(t.Elem, b))
	case types.KindMap:
		return types.MapOf(apply(t.Key, b), apply(t.Elem, b))
	case types.KindStruct:
		fs := make([]types.Field, len(t.Fields))
		for i, f := range t.Fields {
			fs[i] = types.Field{Name: f.Name, Type: apply(f.Type, b)}
		}
		return types.StructOf(fs...)
	}
	return t
}

// target is the type an argument of type a is converted to for the declared parameter p, once p accepted
// it: p's generics bound, any DECIMAL kept as it is, an integral number given for DECIMAL at the precision
// that holds it.
func target(p, a *types.Type, b bindings) *types.Type {
	if p == Any {
		return a
	}
	if hasGenerics(p) || a.Kind == types.KindLambda {
		if a.Kind == types.KindNull {
			return apply(p, b)
		}
		return a
	}
	if a.Kind == types.KindNull {
		if p == AnyDecimal || p == AnyStruct {
			return a
		}
		return p
	}
	switch {
	case p.Kind == types.KindArray && a.Kind == types.KindArray:
		return types.ArrayOf(target(p.Elem, a.Elem, b))
	case p.Kind == types.KindMap && a.Kind == types.KindMap:
		return types.MapOf(target(p.Key, a.Key, b), target(p.Elem, a.Elem, b))
	case p.Kind == types.KindStruct:
		return a
	case p == AnyDecimal:
		switch a.Kind {
		case types.KindInt:
			return types.DecimalOf(10, 0)
		case types.KindBigint:
			return types.DecimalOf(19, 0)
		}
		return a
	}
	return p
}

// match is an overload that accepts a call's arguments.
type match struct {
	sig *Sig
	b   bindings
}

func (s *Sig) match(args []*types.Type, cast bool) *match {
	if !s.takes(len(args)) {
		return nil
	}
	b := bindings{}
	for i, a := range args {
		if !accepts(s.paramAt(i, len(args)), a, b, cast) {
			return nil
		}
	}
	return &match{sig: s, b: b}
}

// Signatures is a function's list of overloads and the resolver over it.
type Signatures struct {
	// Name is the function's name as ksqlDB declares it, as errors quote it.
	Name string
	Sigs []Sig
	// NoCasts disables the implicit-cast pass.
	NoCasts bool
}

// resolve picks the overload for args (see the package comment at the top of this file).
func (f *Signatures) resolve(args []*types.Type) (*match, error) {
	for _, cast := range []bool{false, true} {
		if cast && f.NoCasts {
			break
		}
		var best *match
		tie := false
		for i := range f.Sigs {
			m := f.Sigs[i].match(args, cast)
			if m == nil {
				continue
			}
			if best == nil {
				best = m
				continue
			}
			switch c := m.sig.compare(best.sig); {
			case c > 0:
				best, tie = m, false
			case c == 0:
				tie = true
			}
		}
		if tie {
			return nil, f.ambiguous(args)
		}
		if best != nil {
			return best, nil
		}
	}
	return nil, f.noMatch(args)
}

func (f *Signatures) alternatives() string {
	lines := make([]string, len(f.Sigs))
	for i := range f.Sigs {
		lines[i] = f.Sigs[i].format(f.Name)
	}
	return strings.Join(lines, "\n")
}

// noMatch is ksqlDB's error for arguments no overload accepts.
func (f *Signatures) noMatch(args []*types.Type) error {
	return sqlerr.New(sqlerr.InvalidArguments, sqlerr.Pos{},
		"Function '%s' does not accept parameters (%s).\nValid alternatives are:\n%s\n"+
			"For detailed information on a function run: DESCRIBE FUNCTION <Function-Name>;",
		f.Name, typeList(args), f.alternatives())
}

// ambiguous is ksqlDB's error for arguments that two overloads accept equally well.
func (f *Signatures) ambiguous(args []*types.Type) error {
	return sqlerr.New(sqlerr.InvalidArguments, sqlerr.Pos{},
		"Function '%s' cannot be resolved due to ambiguous method parameters (%s).\n"+
			"Use CAST() to explicitly cast your parameters to one of the supported function calls.\n"+
			"Valid function calls are:\n%s\nFor detailed information on a function run: DESCRIBE FUNCTION <Function-Name>;",
		f.Name, typeList(args), f.alternatives())
}

// lambdaInputs returns, for a lambda at argument index i of a call with n arguments, the input types of
// that lambda in each overload that can still accept the call given the types of the arguments before it.
func (f *Signatures) lambdaInputs(before []*types.Type, i, n int) ([][]*types.Type, error) {
	var out [][]*types.Type
	for s := range f.Sigs {
		sig := &f.Sigs[s]
		if !sig.takes(n) || sig.paramAt(i, n).Kind != types.KindLambda {
			continue
		}
		b := bindings{}
		ok := true
		for j, a := range before {
			if !accepts(sig.paramAt(j, n), a, b, true) {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		lt := sig.paramAt(i, n)
		in := make([]*types.Type, len(lt.Fields))
		for k, fld := range lt.Fields {
			in[k] = apply(fld.Type, b)
		}
		out = append(out, in)
	}
	if len(out) == 0 {
		args := append(append([]*types.Type{}, before...), LambdaOf(types.Null))
		return nil, f.noMatch(args)
	}
	return out, nil
}

// instantiate returns the result type of the chosen overload and its converters: one per argument, nil
// where the argument is passed as it is.
func (m *match) instantiate(args []*types.Type) (*types.Type, []*types.Type, []types.Converter, error) {
	s := m.sig
	targets := make([]*types.Type, len(args))
	convs := make([]types.Converter, len(args))
	for i, a := range args {
		targets[i] = target(s.paramAt(i, len(args)), a, m.b)
		if a.Kind == types.KindNull || a.Kind == types.KindLambda || a.Kind == types.KindInterval || a.Equal(targets[i]) {
			continue
		}
		c, err := types.Caster(a, targets[i])
		if err != nil {
			return nil, nil, nil, err
		}
		convs[i] = c
	}
	ret := apply(s.Ret, m.b)
	if s.RetFn != nil {
		r, err := s.RetFn(targets)
		if err != nil {
			return nil, nil, nil, err
		}
		ret = r
	}
	if ret == nil {
		return nil, nil, nil, fmt.Errorf("function: no result type")
	}
	return ret, targets, convs, nil
}

// prepare readies one call's argument values for an overload's implementation: ok is false when a NULL
// argument makes the result NULL (unless the overload is NullSafe); otherwise args are converted by the
// converters of instantiate.
func prepare(convs []types.Converter, nullSafe bool, vals []Value) (args []Value, ok bool, err error) {
	if !nullSafe {
		for _, v := range vals {
			if v == nil {
				return nil, false, nil
			}
		}
	}
	args, err = convert(convs, vals)
	return args, err == nil, err
}

// convert applies the converters of instantiate to one call's argument values.
func convert(convs []types.Converter, vals []Value) ([]Value, error) {
	var out []Value
	for i, c := range convs {
		if c == nil || vals[i] == nil {
			continue
		}
		if out == nil {
			out = append([]Value{}, vals...)
		}
		v, err := c(vals[i])
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	if out == nil {
		return vals, nil
	}
	return out, nil
}
