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

// describeFunction is DESCRIBE FUNCTION: the function's name and kind.
func (e *Engine) describeFunction(name, text string) (Entity, error) {
	kind, ok := function.Builtins().Names()[strings.ToUpper(name)]
	if !ok {
		return nil, &StatementError{Code: codeBadStatement, Message: "Can't find any functions with the name '" + strings.ToUpper(name) + "'"}
	}
	return Entity{"@type": "describe_function", "statementText": text, "name": strings.ToUpper(name),
		"type": strings.ToUpper(kind), "author": "Seiche", "version": "", "description": "", "functions": []any{}, "path": "internal", "warnings": []any{}}, nil
}
