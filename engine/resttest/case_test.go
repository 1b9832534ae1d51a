package resttest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func corpus(t *testing.T) string {
	t.Helper()
	dir := CorpusDir(".")
	if dir == "" {
		t.Skip("ksqlDB REST test files not found at ../shared/conformance/ksql/rest relative to the module root")
	}
	return dir
}

// TestLoadCorpus loads every REST test file of the shared corpus and checks, per file, how many
// variants, expected-error variants and out-of-scope (skipped) variants it has.
func TestLoadCorpus(t *testing.T) {
	dir := corpus(t)
	cases, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	type counts struct{ variants, expectErr, skipped int }
	want := map[string]counts{
		"insert-values.json":                                {55, 5, 21},
		"pull-queries-against-cst-materialized.json":        {4, 1, 0},
		"pull-queries-against-ctas-materialized.json":       {36, 4, 11},
		"pull-queries-against-materialized-aggregates.json": {121, 25, 0},
		"pull-queries-against-streams.json":                 {13, 6, 0},
		"pull-queries-complex-lambda.json":                  {4, 0, 1},
		"pull-queries-protobuf.json":                        {9, 0, 1},
		"pull-queries-with-limit-clause.json":               {17, 6, 5},
		"pull-queries-with-predicates.json":                 {17, 3, 9},
		"pull-queries-with-struct-star.json":                {3, 0, 0},
		"push-queries.json":                                 {55, 8, 0},
	}
	got := map[string]counts{}
	ids := map[string]bool{}
	for _, c := range cases {
		n := got[c.File]
		n.variants++
		if c.ExpectedError != nil {
			n.expectErr++
		}
		if c.skipReason() != "" {
			n.skipped++
		}
		got[c.File] = n
		if ids[c.ID] {
			t.Errorf("duplicate id %s", c.ID)
		}
		ids[c.ID] = true
		if err := c.validate(); err != nil {
			t.Errorf("%s: invalid: %v", c.ID, err)
		}
		for _, s := range c.Statements {
			if strings.Contains(s, "{FORMAT}") {
				t.Errorf("%s: {FORMAT} left in %q", c.ID, s)
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("per-file counts {variants, expected errors, skipped}:\ngot  %v\nwant %v", got, want)
	}
	if len(cases) != 334 {
		t.Errorf("%d variants, want 334 (330 tests, 4 of them in two formats)", len(cases))
	}
}

// TestLoadCorpusShapes checks what the runner relies on in the corpus: statements split into
// admin statements then queries, a response per statement at most, and expected responses whose
// kinds are known.
func TestLoadCorpusShapes(t *testing.T) {
	cases, err := Load(corpus(t))
	if err != nil {
		t.Fatal(err)
	}
	var queries, admin, proto int
	for _, c := range cases {
		a, q, err := c.split()
		if err != nil {
			t.Errorf("%s: %v", c.ID, err)
		}
		admin += len(a)
		queries += len(q)
		for _, r := range c.Responses {
			if r.Kind == "queryProto" {
				proto++
			}
		}
	}
	if admin != 603 || queries != 463 || proto != 13 {
		t.Errorf("admin statements %d, queries %d, queryProto responses %d; want 603, 463, 13", admin, queries, proto)
	}
}

func TestLoadVariants(t *testing.T) {
	const file = `{
  "comments": ["a file with comments"],
  "tests": [
    {
      // one test, two formats
      "name": "by format",
      "format": ["JSON", "DELIMITED"],
      "statements": [
        "CREATE STREAM S (K INT KEY, V DOUBLE) WITH (kafka_topic='t', value_format='{FORMAT}');", /* inline */
        "SELECT * FROM S;"
      ],
      "topics": [{"name": "t", "partitions": 4, "valueFormat": "json"}],
      "inputs": [{"topic": "t", "key": 1, "value": {"V": 1.50}, "timestamp": 12345678901234}],
      "properties": {"ksql.query.pull.table.scan.enabled": true, "n": 10},
      "responses": [
        {"admin": {"@type": "currentStatus"}},
        {"query": [{"header": {"schema": "` + "`K` INTEGER KEY" + `"}}, {"row": {"columns": [1, 1.50]}}]}
      ],
      "outputConditions": {"verifyOrder": true},
      "inputConditions": {"waitForActivePushQuery": true}
    },
    {
      "name": "by format",
      "enabled": false,
      "statements": ["SELECT 1 FROM S;"],
      "expectedError": {"type": "io.confluent.ksql.rest.entity.KsqlErrorMessage", "message": "m", "status": 400}
    },
    {"name": "by format", "statements": ["SELECT 2 FROM S;"]}
  ]
}`
	dir := t.TempDir()
	path := filepath.Join(dir, "x.json")
	if err := os.WriteFile(path, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	// A second file, for loading a directory.
	if err := os.WriteFile(filepath.Join(dir, "y.json"), []byte(strings.ReplaceAll(file, "by format", "other")), 0o644); err != nil {
		t.Fatal(err)
	}
	cases, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cases {
		ids = append(ids, c.ID)
	}
	wantIDs := []string{"x.json/by format/JSON", "x.json/by format/DELIMITED", "x.json/by format", "x.json/by format#2"}
	if !reflect.DeepEqual(ids, wantIDs) {
		t.Fatalf("ids %q, want %q", ids, wantIDs)
	}
	all, err := Load(dir)
	if err != nil || len(all) != 8 {
		t.Fatalf("Load(dir): %d cases, %v", len(all), err)
	}

	c := cases[1]
	if c.Format != "DELIMITED" || c.Statements[0] != "CREATE STREAM S (K INT KEY, V DOUBLE) WITH (kafka_topic='t', value_format='DELIMITED');" {
		t.Errorf("variant: format %q, statement %q", c.Format, c.Statements[0])
	}
	if cases[0].Statements[0] == c.Statements[0] {
		t.Error("variants share their statements")
	}
	if !reflect.DeepEqual(c.Topics, []Topic{{Name: "t", Partitions: 4, ValueFormat: "JSON"}}) {
		t.Errorf("topics %+v", c.Topics)
	}
	if c.Inputs[0].Timestamp != "12345678901234" || string(c.Inputs[0].Value) != `{"V": 1.50}` {
		t.Errorf("input %+v", c.Inputs[0])
	}
	if c.Properties["n"] != json.Number("10") || c.Properties["ksql.query.pull.table.scan.enabled"] != true {
		t.Errorf("properties %v", c.Properties)
	}
	if len(c.Responses) != 2 || c.Responses[0].Kind != "admin" || c.Responses[1].Kind != "query" {
		t.Fatalf("responses %+v", c.Responses)
	}
	row := c.Responses[1].Payload.([]any)[1].(map[string]any)["row"].(map[string]any)["columns"].([]any)
	if row[1] != json.Number("1.50") {
		t.Errorf("number kept as %#v, want json.Number 1.50", row[1])
	}
	if c.OutputConditions == nil || !c.OutputConditions.VerifyOrder || c.InputConditions == nil || !c.InputConditions.WaitForQueryHeader {
		t.Errorf("conditions %+v %+v", c.OutputConditions, c.InputConditions)
	}
	if !c.Enabled || c.skipReason() != "" {
		t.Errorf("enabled %v, skip %q", c.Enabled, c.skipReason())
	}

	d := cases[2]
	if d.Enabled || d.skipReason() != "disabled in ksqlDB" {
		t.Errorf("disabled case: enabled %v, skip %q", d.Enabled, d.skipReason())
	}
	if *d.ExpectedError != (ExpectedError{Type: "io.confluent.ksql.rest.entity.KsqlErrorMessage", Message: "m", Status: 400}) {
		t.Errorf("expected error %+v", d.ExpectedError)
	}
}

func TestValidate(t *testing.T) {
	ok := Case{Name: "n", Statements: []string{"CREATE STREAM S (A INT) WITH (kafka_topic='t', value_format='JSON');", "SELECT * FROM S;"}}
	tests := []struct {
		name   string
		mutate func(c *Case)
		want   string
	}{
		{"valid", func(*Case) {}, ""},
		{"no name", func(c *Case) { c.Name = "" }, "missing name"},
		{"no statements", func(c *Case) { c.Statements = nil }, "statements was empty"},
		{"inputs and error", func(c *Case) {
			c.Inputs = []Record{{Topic: "t"}}
			c.ExpectedError = &ExpectedError{Status: 400}
		}, "can not both be set"},
		{"statement after query", func(c *Case) { c.Statements = append(c.Statements, "DROP STREAM S;") }, "follows queries"},
		{"too many responses", func(c *Case) {
			c.Responses = []Response{{Kind: "admin"}, {Kind: "query"}, {Kind: "query"}}
		}, "more expected responses"},
		{"proto responses do not count", func(c *Case) {
			c.Responses = []Response{{Kind: "admin"}, {Kind: "query"}, {Kind: "queryProto"}}
		}, ""},
		{"bad response", func(c *Case) { c.Responses = []Response{{Payload: map[string]any{}}} }, "exactly one of"},
		{"format macro without formats", func(c *Case) { c.Statements = []string{"CREATE STREAM S WITH (value_format='{FORMAT}');"} }, "{FORMAT}"},
		{"two queries waiting for the header", func(c *Case) {
			c.Statements = append(c.Statements, "SELECT * FROM S;")
			c.InputConditions = &InputConditions{WaitForQueryHeader: true}
		}, "only have one query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			c.Statements = append([]string{}, ok.Statements...)
			tt.mutate(&c)
			err := c.validate()
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
