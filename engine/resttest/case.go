package resttest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/seichedb/seiche/sql/qtt"
)

// Record is an input record or an expected output record, as in QTT files: a missing key is null,
// "value": null is a tombstone, a missing timestamp is 0 (inputs) or not checked (outputs).
type Record = qtt.Record

// Case is one runnable variant of a REST test: a test of the file instantiated for one entry of its
// "format" list, with {FORMAT} substituted in its statements (ksqlDB's RestTestCaseBuilder). REST tests
// have no "config" expansion: ksqlDB's RestTestCaseNode has no such field.
type Case struct {
	// ID is unique within what Load returned: "file.json/test name[/FORMAT]", with "#n" appended to
	// the n-th repeat of a name.
	ID string
	// File is the base name of the file the case came from.
	File string
	Name string
	// Format is the entry of the test's format list this variant is for, or "".
	Format string
	// Statements are run in order: those before the first "SELECT " in one POST /ksql, the queries
	// one POST /query each.
	Statements []string
	// Properties are sent as streamsProperties with every request of the case (numbers as json.Number).
	Properties map[string]any
	// Topics are the topics the test declares (name, partitions, formats, schemas).
	Topics []Topic
	// Inputs are produced after the non-query statements ran; Outputs are the records expected on
	// their topics at the end, per topic in order.
	Inputs, Outputs []Record
	// Responses are the expected responses, one per statement that returns one.
	Responses []Response
	// ExpectedError is the error the last failing statement must return, or nil.
	ExpectedError *ExpectedError
	// InputConditions and OutputConditions are the optional "inputConditions" and "outputConditions".
	InputConditions  *InputConditions
	OutputConditions *OutputConditions
	// Enabled is false for tests marked "enabled": false; Run skips them.
	Enabled bool
	// TestPullWithProtoFormat asks for each query to be run again over /query-stream in the protobuf
	// format, answered by the "queryProto" responses.
	TestPullWithProtoFormat bool

	rawTopics []json.RawMessage
}

// Topic is a topic a test declares.
type Topic = qtt.Topic

// Response is one expected response: Kind is "admin" (Payload a JSON object matched against the /ksql
// entity), "query" (Payload the list of streamed rows of a /query response) or "queryProto" (the same
// over /query-stream in protobuf). Kind is "" when the entry does not have exactly one field, which
// Run reports as an invalid test.
type Response struct {
	Kind    string
	Payload any
}

// ExpectedError is a test's "expectedError": each field given must match the error response.
type ExpectedError struct {
	// Type is a ksqlDB error entity class: ...KsqlErrorMessage (any error) or
	// ...KsqlStatementErrorMessage (a statement error whose statementText contains the last statement).
	Type string
	// Message must be contained in the error's message.
	Message string
	// Status is the HTTP status, or 0 when not checked.
	Status int
}

// InputConditions is a test's "inputConditions": with WaitForQueryHeader the inputs are produced only
// once the first query has answered its header (older files call it waitForActivePushQuery).
type InputConditions struct {
	WaitForQueryHeader bool
}

// OutputConditions is a test's "outputConditions": with VerifyOrder the rows of a query response must
// come in the expected order; otherwise their columns are compared as a multiset.
type OutputConditions struct {
	VerifyOrder bool
}

type fileJSON struct {
	Tests []testJSON `json:"tests"`
}

type testJSON struct {
	Name          string            `json:"name"`
	Format        []string          `json:"format"`
	Statements    []string          `json:"statements"`
	Properties    map[string]any    `json:"properties"`
	Topics        []json.RawMessage `json:"topics"`
	Inputs        []Record          `json:"inputs"`
	Outputs       []Record          `json:"outputs"`
	Responses     []map[string]any  `json:"responses"`
	ExpectedError *struct {
		Type    string      `json:"type"`
		Message string      `json:"message"`
		Status  json.Number `json:"status"`
	} `json:"expectedError"`
	InputConditions *struct {
		WaitForQueryHeader     bool `json:"waitForQueryHeader"`
		WaitForActivePushQuery bool `json:"waitForActivePushQuery"`
	} `json:"inputConditions"`
	OutputConditions *struct {
		VerifyOrder bool `json:"verifyOrder"`
	} `json:"outputConditions"`
	Enabled                 *bool `json:"enabled"`
	TestPullWithProtoFormat bool  `json:"testPullWithProtoFormat"`
}

// Load reads the REST test file at path, or every *.json file of the directory path in name order,
// and returns their variants in file order. Files may contain // and /* */ comments; numbers are
// kept as json.Number.
func Load(path string) ([]Case, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("resttest: %w", err)
	}
	paths := []string{path}
	if st.IsDir() {
		if paths, err = filepath.Glob(filepath.Join(path, "*.json")); err != nil {
			return nil, fmt.Errorf("resttest: %w", err)
		}
		sort.Strings(paths)
	}
	var out []Case
	seen := map[string]int{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("resttest: %w", err)
		}
		cases, err := Parse(filepath.Base(p), data)
		if err != nil {
			return nil, err
		}
		for _, c := range cases {
			seen[c.ID]++
			if n := seen[c.ID]; n > 1 {
				c.ID = fmt.Sprintf("%s#%d", c.ID, n)
			}
			out = append(out, c)
		}
	}
	return out, nil
}

// Parse decodes one REST test file named name and expands its tests into variants.
func Parse(name string, data []byte) ([]Case, error) {
	dec := json.NewDecoder(bytes.NewReader(qtt.StripComments(data)))
	dec.UseNumber()
	var f fileJSON
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("resttest: %s: %w", name, err)
	}
	var out []Case
	for i := range f.Tests {
		cs, err := variants(name, &f.Tests[i])
		if err != nil {
			return nil, fmt.Errorf("resttest: %s: test %q: %w", name, f.Tests[i].Name, err)
		}
		out = append(out, cs...)
	}
	return out, nil
}

func variants(file string, t *testJSON) ([]Case, error) {
	base := Case{
		File:                    file,
		Name:                    t.Name,
		Properties:              t.Properties,
		Inputs:                  t.Inputs,
		Outputs:                 t.Outputs,
		Enabled:                 t.Enabled == nil || *t.Enabled,
		TestPullWithProtoFormat: t.TestPullWithProtoFormat,
		rawTopics:               t.Topics,
	}
	topics, err := qtt.ParseTopics(t.Topics)
	if err != nil {
		return nil, err
	}
	base.Topics = topics
	for _, r := range t.Responses {
		resp := Response{}
		if len(r) == 1 {
			for k, v := range r {
				resp = Response{Kind: k, Payload: v}
			}
		} else {
			resp.Payload = r
		}
		base.Responses = append(base.Responses, resp)
	}
	if e := t.ExpectedError; e != nil {
		ee := &ExpectedError{Type: e.Type, Message: e.Message}
		if e.Status != "" {
			n, err := e.Status.Int64()
			if err != nil {
				return nil, fmt.Errorf("expectedError.status: %w", err)
			}
			ee.Status = int(n)
		}
		if ee.Type == "" && ee.Message == "" && ee.Status == 0 {
			return nil, errors.New("expectedError needs a type, message or status")
		}
		base.ExpectedError = ee
	}
	if ic := t.InputConditions; ic != nil {
		base.InputConditions = &InputConditions{WaitForQueryHeader: ic.WaitForQueryHeader || ic.WaitForActivePushQuery}
	}
	if oc := t.OutputConditions; oc != nil {
		base.OutputConditions = &OutputConditions{VerifyOrder: oc.VerifyOrder}
	}

	formats := t.Format
	if len(formats) == 0 {
		formats = []string{""}
	}
	out := make([]Case, 0, len(formats))
	for _, fm := range formats {
		c := base
		c.Format = fm
		c.ID = file + "/" + t.Name
		c.Statements = t.Statements
		if fm != "" {
			c.ID += "/" + fm
			c.Statements = make([]string, len(t.Statements))
			for i, s := range t.Statements {
				c.Statements[i] = strings.ReplaceAll(s, "{FORMAT}", fm)
			}
		}
		out = append(out, c)
	}
	return out, nil
}

// CorpusDir finds ksqlDB's REST test files: $SEICHE_KSQL_TESTS/rest-query-validation-tests when the
// variable is set (qtt.CorpusEnv), else ../shared/conformance/ksql/rest relative to the module root
// containing dir. It returns "" when they are absent.
func CorpusDir(dir string) string {
	if env := os.Getenv(qtt.CorpusEnv); env != "" {
		r := filepath.Join(env, "rest-query-validation-tests")
		if st, err := os.Stat(r); err != nil || !st.IsDir() {
			return ""
		}
		return r
	}
	q := qtt.CorpusDir(dir)
	if q == "" {
		return ""
	}
	r := filepath.Join(filepath.Dir(q), "rest")
	if st, err := os.Stat(r); err != nil || !st.IsDir() {
		return ""
	}
	return r
}

// skipReason says why Run does not run c today, or "". The scope rules are sql/qtt's: disabled
// tests, formats that need a schema registry, ksqlDB's test-only functions.
func (c *Case) skipReason() string {
	enabled := c.Enabled
	return qtt.SkipReason(qtt.Variant{
		ID:         c.ID,
		File:       c.File,
		Case:       &qtt.Case{Name: c.Name, Statements: c.Statements, Topics: c.rawTopics, Enabled: &enabled},
		Format:     c.Format,
		Statements: c.Statements,
	})
}

// split divides the statements as ksqlDB's RestTestExecutor.splitStatements does: everything before
// the first statement starting with "SELECT " goes to /ksql, the rest to /query. A non-query after a
// query makes the test invalid.
func (c *Case) split() (admin, queries []string, err error) {
	first := -1
	for i, s := range c.Statements {
		if strings.HasPrefix(s, "SELECT ") {
			if first < 0 {
				first = i
			}
		} else if first >= 0 {
			return nil, nil, fmt.Errorf("statement %d follows queries, but is not a query", i)
		}
	}
	if first < 0 {
		first = len(c.Statements)
	}
	return c.Statements[:first], c.Statements[first:], nil
}

// validate applies ksqlDB's checks of a test (RestTestCaseNode.validate, RestTestExecutor).
func (c *Case) validate() error {
	if c.Name == "" {
		return errors.New("missing name")
	}
	if len(c.Statements) == 0 {
		return errors.New("statements was empty")
	}
	if len(c.Inputs) > 0 && c.ExpectedError != nil {
		return errors.New("inputs and expectedError can not both be set")
	}
	n := 0
	for i, r := range c.Responses {
		switch r.Kind {
		case "admin", "query":
			n++
		case "queryProto":
		default:
			return fmt.Errorf("responses[%d] must have exactly one of admin, query, queryProto", i)
		}
	}
	if n > len(c.Statements) {
		return fmt.Errorf("more expected responses than statements: %d > %d", n, len(c.Statements))
	}
	_, queries, err := c.split()
	if err != nil {
		return err
	}
	if c.InputConditions != nil && c.InputConditions.WaitForQueryHeader && len(queries) > 1 {
		return errors.New("can only have one query when using inputConditions")
	}
	if c.Format == "" {
		for _, s := range c.Statements {
			if strings.Contains(s, "{FORMAT}") {
				return errors.New("to use {FORMAT} in statements, set the test's format list")
			}
		}
	}
	return nil
}
