package engine

import (
	"sort"
	"strings"

	"github.com/seichedb/seiche/sql/function"
)

// functionList is SHOW FUNCTIONS: every built-in function with its kind, as ksqlDB's function_names.
func (e *Engine) functionList(text string) Entity {
	names := function.Builtins().Names()
	keys := make([]string, 0, len(names))
	for n := range names {
		keys = append(keys, n)
	}
	sort.Strings(keys)
	var list []any
	for _, n := range keys {
		list = append(list, map[string]any{"name": n, "type": strings.ToUpper(names[n]), "category": ""})
	}
	return Entity{"@type": "function_names", "statementText": text, "functions": nonNil(list), "warnings": []any{}}
}

// describeFunction is DESCRIBE FUNCTION: the function's name, kind and each overload's argument names
// and types and its result type (ksqlDB's FunctionInfo).
func (e *Engine) describeFunction(name, text string) (Entity, error) {
	name = strings.ToUpper(name)
	kind, ok := function.Builtins().Names()[name]
	if !ok {
		return nil, &StatementError{Code: codeBadStatement, Message: "Can't find any functions with the name '" + name + "'"}
	}
	overloads := []any{}
	var sigs []function.Sig
	if sc, ok := function.Builtins().Scalar(name); ok {
		sigs = sc.Sigs
	} else if tf, ok := function.Builtins().Table(name); ok {
		sigs = tf.Sigs
	} else if af, ok := function.Builtins().Aggregate(name); ok {
		sigs = af.Sigs
	}
	for i := range sigs {
		params, result := sigs[i].ParamNames()
		args := []any{}
		for j, p := range params {
			variadic := strings.HasSuffix(p, "...")
			pname := ""
			if j < len(sigs[i].Names) {
				pname = sigs[i].Names[j]
			}
			args = append(args, map[string]any{"name": pname, "type": strings.TrimSuffix(p, "..."), "description": "", "isVariadic": variadic})
		}
		overloads = append(overloads, map[string]any{"arguments": args, "returnType": result, "description": "", "argumentTypes": params})
	}
	return Entity{"@type": "describe_function", "statementText": text, "name": name,
		"type": strings.ToUpper(kind), "author": "Seiche", "version": "", "description": "", "functions": overloads, "path": "internal", "warnings": []any{}}, nil
}
