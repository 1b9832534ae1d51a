package resttest

import (
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// actualResponse is one response the server gave: an entity of the /ksql answer ("admin") or the
// rows of one /query answer ("query"). Like ksqlDB's runner (RqttResponse), the responses of a case
// are the admin entities in order followed by one per query, and the i-th expected response is
// compared with the i-th of these.
type actualResponse struct {
	kind   string
	entity map[string]any
	rows   []any
}

// verifyResponses checks the expected responses against the actual ones as ksqlDB's
// RestTestExecutor.verifyResponses does: there must be at least as many actual responses as expected
// ones, and each expected one must match the actual one at its index. "queryProto" responses are not
// compared here.
func verifyResponses(actual []actualResponse, expected []Response, statements []string, verifyOrder bool) error {
	exp := jsonResponses(expected)
	if len(actual) < len(exp) {
		return fmt.Errorf("not enough responses: expected %d, got %d", len(exp), len(actual))
	}
	for i, e := range exp {
		if err := verifyResponse(actual[i], e, statements, i, verifyOrder); err != nil {
			return err
		}
	}
	return nil
}

// jsonResponses are the expected responses but "queryProto" ones.
func jsonResponses(rs []Response) []Response {
	var out []Response
	for _, r := range rs {
		if r.Kind != "queryProto" {
			out = append(out, r)
		}
	}
	return out
}

// verifyResponse compares one actual response with the expected response at index idx.
func verifyResponse(a actualResponse, e Response, statements []string, idx int, verifyOrder bool) error {
	switch a.kind {
	case "admin":
		if e.Kind != "admin" {
			return fmt.Errorf("responses[%d]: expected %s response, got admin response %s", idx, e.Kind, render(a.entity))
		}
		exp, ok := e.Payload.(map[string]any)
		if !ok {
			return fmt.Errorf("responses[%d]: admin payload should be a JSON object", idx)
		}
		cs := &columnSets{}
		if err := matchFields(a.entity, exp, statements, idx, fmt.Sprintf("responses[%d]->admin", idx), verifyOrder, cs); err != nil {
			return fmt.Errorf("%w\nactual: %s", err, render(a.entity))
		}
		return cs.verify()
	case "query":
		if e.Kind != "query" {
			return fmt.Errorf("responses[%d]: expected %s response, got query response %s", idx, e.Kind, render(a.rows))
		}
		exp, ok := e.Payload.([]any)
		if !ok {
			return fmt.Errorf("responses[%d]: query payload should be an array", idx)
		}
		if len(a.rows) != len(exp) {
			return fmt.Errorf("responses[%d]: row count mismatch: expected %d, got %d\nexpected:%s\ngot:%s", idx, len(exp), len(a.rows),
				listRows(exp), listRows(a.rows))
		}
		cs := &columnSets{}
		for i := range a.rows {
			er, ok := exp[i].(map[string]any)
			if !ok {
				return fmt.Errorf("responses[%d]->query[%d]: each expected row should be a JSON object", idx, i)
			}
			ar, ok := a.rows[i].(map[string]any)
			if !ok {
				return fmt.Errorf("responses[%d]->query[%d]: row is %s, not a JSON object", idx, i, render(a.rows[i]))
			}
			if err := matchFields(ar, er, statements, idx, fmt.Sprintf("responses[%d]->query[%d]", idx, i), verifyOrder, cs); err != nil {
				return fmt.Errorf("%w\nexpected:%s\ngot:%s", err, listRows(exp), listRows(a.rows))
			}
		}
		if err := cs.verify(); err != nil {
			return fmt.Errorf("%w\nexpected:%s\ngot:%s", err, listRows(exp), listRows(a.rows))
		}
		return nil
	}
	return fmt.Errorf("responses[%d]: unknown actual response kind %q", idx, a.kind)
}

func listRows(rows []any) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString("\n\t" + render(r))
	}
	return b.String()
}

// matchFields is ksqlDB's RestTestExecutor.matchResponseFields: only the keys the expected object
// names are checked; a nested object recurses, anything else must be equal (strictEqual). A key
// "name|startsWith" checks that the actual string starts with the expected one, and "{STATEMENT}" in
// an expected string stands for the statement at idx. Unless verifyOrder, the "columns" of query rows
// are collected into cs and compared as a multiset once the whole response has been walked.
func matchFields(actual, expected map[string]any, statements []string, idx int, path string, verifyOrder bool, cs *columnSets) error {
	keys := make([]string, 0, len(expected))
	for k := range expected {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		name, op, _ := strings.Cut(k, "|")
		ev := expected[k]
		if s, ok := ev.(string); ok && idx < len(statements) {
			ev = strings.ReplaceAll(s, "{STATEMENT}", statements[idx])
		}
		av, ok := actual[name]
		if !ok {
			return fmt.Errorf("response mismatch at %s: missing %q", path, name)
		}
		p := path + "->" + name
		if em, ok := ev.(map[string]any); ok {
			am, ok := av.(map[string]any)
			if !ok {
				return fmt.Errorf("response mismatch at %s: expected an object, got %s", p, render(av))
			}
			if err := matchFields(am, em, statements, idx, p, verifyOrder, cs); err != nil {
				return err
			}
			continue
		}
		switch {
		case strings.EqualFold(op, "startsWith"):
			es, ok1 := ev.(string)
			as, ok2 := av.(string)
			if !ok1 || !ok2 || !strings.HasPrefix(as, es) {
				return fmt.Errorf("response mismatch at %s: expected a string starting with %s, got %s", p, render(ev), render(av))
			}
		case op != "":
			return fmt.Errorf("response mismatch at %s: unknown match operator %q", p, op)
		case !verifyOrder && strings.Contains(p, "query") && strings.Contains(p, "row") && strings.EqualFold(name, "columns"):
			cs.add(av, ev, p)
		default:
			if !strictEqual(av, ev) {
				return fmt.Errorf("response mismatch at %s: expected %s, got %s", p, render(ev), render(av))
			}
		}
	}
	return nil
}

// columnSets are the row columns of one response, actual and expected, each a multiset in first-seen
// order (ksqlDB's verifyResponseFields over LinkedHashMaps of counts).
type columnSets struct {
	actual, expected []counted
}

type counted struct {
	v    any
	n    int
	path string
}

func (cs *columnSets) add(actual, expected any, path string) {
	cs.actual = addCounted(cs.actual, actual, path)
	cs.expected = addCounted(cs.expected, expected, path)
}

func addCounted(set []counted, v any, path string) []counted {
	for i := range set {
		if strictEqual(set[i].v, v) {
			set[i].n++
			set[i].path = path
			return set
		}
	}
	return append(set, counted{v: v, n: 1, path: path})
}

func find(set []counted, v any) (counted, bool) {
	for _, c := range set {
		if strictEqual(c.v, v) {
			return c, true
		}
	}
	return counted{}, false
}

// verify checks that the actual and expected multisets are equal.
func (cs *columnSets) verify() error {
	for _, a := range cs.actual {
		e, ok := find(cs.expected, a.v)
		if !ok {
			if len(cs.expected) == 1 {
				return fmt.Errorf("response mismatch at %s: expected %s, got %s", a.path, render(cs.expected[0].v), render(a.v))
			}
			return fmt.Errorf("response mismatch at %s: got unexpected columns %s", a.path, render(a.v))
		}
		if e.n != a.n {
			return fmt.Errorf("uneven occurrence of expected vs actual for row %s: expected %d, got %d", render(a.v), e.n, a.n)
		}
	}
	for _, e := range cs.expected {
		if _, ok := find(cs.actual, e.v); !ok {
			return fmt.Errorf("response mismatch: expected columns %s were not returned", render(e.v))
		}
	}
	return nil
}

// strictEqual is the equality ksqlDB's runner applies to response values (hamcrest is() on values read
// by Jackson with BigDecimal for floats): objects with the same keys and equal values, lists element
// by element, and numbers equal only when both are integers or both are not (1 is not 1.0), then by
// value.
func strictEqual(a, e any) bool {
	switch ev := e.(type) {
	case nil:
		return a == nil
	case bool:
		av, ok := a.(bool)
		return ok && av == ev
	case string:
		av, ok := a.(string)
		return ok && av == ev
	case json.Number:
		av, ok := a.(json.Number)
		return ok && numbersEqual(av, ev)
	case []any:
		av, ok := a.([]any)
		if !ok || len(av) != len(ev) {
			return false
		}
		for i := range ev {
			if !strictEqual(av[i], ev[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		av, ok := a.(map[string]any)
		if !ok || len(av) != len(ev) {
			return false
		}
		for k, v := range ev {
			w, ok := av[k]
			if !ok || !strictEqual(w, v) {
				return false
			}
		}
		return true
	}
	return false
}

func isIntegerLiteral(n json.Number) bool { return !strings.ContainsAny(string(n), ".eE") }

func numbersEqual(a, e json.Number) bool {
	if isIntegerLiteral(a) != isIntegerLiteral(e) {
		return false
	}
	if isIntegerLiteral(a) {
		x, ok1 := new(big.Int).SetString(string(a), 10)
		y, ok2 := new(big.Int).SetString(string(e), 10)
		return ok1 && ok2 && x.Cmp(y) == 0
	}
	return decimalsEqual(string(a), string(e), false)
}

// decimalsEqual compares two decimal texts by value, and by scale too when sameScale.
func decimalsEqual(a, e string, sameScale bool) bool {
	var x, y apd.Decimal
	if _, _, err := x.SetString(a); err != nil {
		return false
	}
	if _, _, err := y.SetString(e); err != nil {
		return false
	}
	return x.Cmp(&y) == 0 && (!sameScale || x.Exponent == y.Exponent)
}

// recordMatches is ksqlDB's ExpectedRecordComparator, used for the records of "outputs": objects
// must have as many fields as expected, each looked up by its name and then upper-cased; numbers
// compare by value; an expected string matches a decimal number of the same value and scale.
func recordMatches(actual, expected any) bool {
	switch ev := expected.(type) {
	case nil:
		return actual == nil
	case map[string]any:
		av, ok := actual.(map[string]any)
		if !ok || len(av) != len(ev) {
			return false
		}
		for k, v := range ev {
			w := av[k]
			if w == nil {
				w = av[strings.ToUpper(k)]
			}
			if !recordMatches(w, v) {
				return false
			}
		}
		return true
	case []any:
		av, ok := actual.([]any)
		if !ok || len(av) != len(ev) {
			return false
		}
		for i := range ev {
			if !recordMatches(av[i], ev[i]) {
				return false
			}
		}
		return true
	case json.Number:
		av, ok := actual.(json.Number)
		return ok && decimalsEqual(string(av), string(ev), false)
	case string:
		switch av := actual.(type) {
		case string:
			return av == ev
		case json.Number:
			return decimalsEqual(string(av), ev, true)
		}
		return false
	case bool:
		av, ok := actual.(bool)
		return ok && av == ev
	}
	return false
}

// matchError checks an error response against a test's expectedError (ksqlDB's ExpectedErrorNode):
// the HTTP status, a substring of the message, and the error entity's type. A
// KsqlStatementErrorMessage must be a "statement_error" whose statementText contains the last
// statement of the test, or the test would not prove which statement failed.
func matchError(exp *ExpectedError, got *errorResponse, lastStatement string) error {
	var problems []string
	if exp.Status != 0 && got.Status != exp.Status {
		problems = append(problems, fmt.Sprintf("status: expected %d, got %d", exp.Status, got.Status))
	}
	if exp.Message != "" && !strings.Contains(got.message(), exp.Message) {
		problems = append(problems, fmt.Sprintf("message: expected it to contain:\n  %s\ngot:\n  %s", exp.Message, got.message()))
	}
	if exp.Type != "" {
		typ := exp.Type[strings.LastIndex(exp.Type, ".")+1:]
		switch {
		case got.Body == nil:
			problems = append(problems, fmt.Sprintf("type: expected a %s entity, got a body that is not a JSON object", typ))
		case typ == "KsqlErrorMessage":
		case typ == "KsqlStatementErrorMessage":
			if t, _ := got.Body["@type"].(string); t != "statement_error" {
				problems = append(problems, fmt.Sprintf("type: expected @type statement_error, got %s", render(got.Body["@type"])))
			} else if st, _ := got.Body["statementText"].(string); !strings.Contains(st, lastStatement) {
				problems = append(problems, fmt.Sprintf("statementText: expected it to contain the last statement:\n  %s\ngot:\n  %s", lastStatement, st))
			}
		default:
			problems = append(problems, fmt.Sprintf("type: unknown error type %s", exp.Type))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("expected error mismatch:\n%s\nactual: %s", strings.Join(problems, "\n"), got)
}
