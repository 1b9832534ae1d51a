package resttest

import (
	"strings"
	"testing"
)

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	v, err := decodeJSON([]byte(s))
	if err != nil {
		t.Fatalf("bad test JSON %s: %v", s, err)
	}
	return v
}

// expectedResponses decodes a test file's "responses" array.
func expectedResponses(t *testing.T, s string) []Response {
	t.Helper()
	var out []Response
	for _, r := range mustJSON(t, s).([]any) {
		m := r.(map[string]any)
		if len(m) != 1 {
			t.Fatalf("response %v must have one field", m)
		}
		for k, v := range m {
			out = append(out, Response{Kind: k, Payload: v})
		}
	}
	return out
}

// actualResponses builds the actual responses from the /ksql entities and the /query bodies.
func actualResponses(t *testing.T, entities string, queryBodies ...string) []actualResponse {
	t.Helper()
	var out []actualResponse
	if entities != "" {
		for _, e := range mustJSON(t, entities).([]any) {
			out = append(out, actualResponse{kind: "admin", entity: e.(map[string]any)})
		}
	}
	for _, b := range queryBodies {
		rows, err := parseRows([]byte(b))
		if err != nil {
			t.Fatalf("parseRows(%s): %v", b, err)
		}
		out = append(out, actualResponse{kind: "query", rows: rows})
	}
	return out
}

const createStatus = `{"@type":"currentStatus","statementText":"CREATE STREAM INPUT ...","commandId":"stream/INPUT/create",` +
	`"commandStatus":{"status":"SUCCESS","message":"Stream created","queryId":null},"commandSequenceNumber":2,"warnings":[]}`

func TestVerifyResponses(t *testing.T) {
	statements := []string{"CREATE STREAM INPUT (K STRING KEY, ID INT) WITH (kafka_topic='t', value_format='JSON');", "SELECT * FROM INPUT;"}
	tests := []struct {
		name        string
		expected    string
		entities    string
		queries     []string
		verifyOrder bool
		want        string // substring of the error, "" for a match
	}{
		{
			name:     "admin: only the named fields are compared",
			expected: `[{"admin": {"@type": "currentStatus"}}]`,
			entities: `[` + createStatus + `]`,
		},
		{
			name:     "admin: nested object",
			expected: `[{"admin": {"@type": "currentStatus", "commandStatus": {"status": "SUCCESS"}}}]`,
			entities: `[` + createStatus + `]`,
		},
		{
			name:     "admin: wrong type",
			expected: `[{"admin": {"@type": "currentStatus"}}]`,
			entities: `[{"@type":"sourceDescription"}]`,
			want:     `responses[0]->admin->@type: expected "currentStatus", got "sourceDescription"`,
		},
		{
			name:     "admin: missing field",
			expected: `[{"admin": {"@type": "currentStatus", "commandId": "x"}}]`,
			entities: `[{"@type":"currentStatus"}]`,
			want:     `missing "commandId"`,
		},
		{
			name:     "admin: startsWith operator",
			expected: `[{"admin": {"commandStatus": {"message|startsWith": "Stream"}}}]`,
			entities: `[` + createStatus + `]`,
		},
		{
			name:     "admin: startsWith mismatch",
			expected: `[{"admin": {"commandStatus": {"message|startsWith": "Table"}}}]`,
			entities: `[` + createStatus + `]`,
			want:     "starting with",
		},
		{
			name:     "admin: {STATEMENT} stands for the statement at the response's index",
			expected: `[{"admin": {"statementText": "{STATEMENT}"}}]`,
			entities: `[{"@type":"currentStatus","statementText":"CREATE STREAM INPUT (K STRING KEY, ID INT) WITH (kafka_topic='t', value_format='JSON');"}]`,
		},
		{
			name:     "an INSERT has no entity: fewer responses than statements is fine",
			expected: `[{"admin": {"@type": "currentStatus"}}]`,
			entities: `[` + createStatus + `]`,
		},
		{
			name:     "not enough responses",
			expected: `[{"admin": {"@type": "currentStatus"}}, {"admin": {"@type": "currentStatus"}}]`,
			entities: `[` + createStatus + `]`,
			want:     "not enough responses: expected 2, got 1",
		},
		{
			name:     "query where admin was expected",
			expected: `[{"admin": {"@type": "currentStatus"}}]`,
			queries:  []string{`[{"header":{"schema":"` + "`K` STRING" + `"}}]`},
			want:     "expected admin response, got query response",
		},
		{
			name:     "pull query: ksqlDB's streamed body, one row per line",
			expected: `[{"admin": {"@type": "currentStatus"}}, {"query": [{"header":{"schema":"` + "`K` STRING KEY, `ID` INTEGER" + `"}}, {"row":{"columns":["11", 100]}}, {"row":{"columns":["12", 101]}}]}]`,
			entities: `[` + createStatus + `]`,
			queries: []string{"[{\"header\":{\"queryId\":\"query_1\",\"schema\":\"`K` STRING KEY, `ID` INTEGER\"}},\n" +
				"{\"row\":{\"columns\":[\"11\",100]}},\n{\"row\":{\"columns\":[\"12\",101]}}]\n"},
		},
		{
			name:     "rows in another order match unless verifyOrder",
			expected: `[{"query": [{"header":{"schema":"s"}}, {"row":{"columns":["11", 100]}}, {"row":{"columns":["12", 101]}}]}]`,
			queries:  []string{`[{"header":{"schema":"s"}},{"row":{"columns":["12",101]}},{"row":{"columns":["11",100]}}]`},
		},
		{
			name:        "rows in another order with verifyOrder",
			expected:    `[{"query": [{"header":{"schema":"s"}}, {"row":{"columns":["11", 100]}}, {"row":{"columns":["12", 101]}}]}]`,
			queries:     []string{`[{"header":{"schema":"s"}},{"row":{"columns":["12",101]}},{"row":{"columns":["11",100]}}]`},
			verifyOrder: true,
			want:        `responses[0]->query[1]->row->columns: expected ["11",100], got ["12",101]`,
		},
		{
			name:     "unordered rows are a multiset",
			expected: `[{"query": [{"header":{"schema":"s"}}, {"row":{"columns":[1]}}, {"row":{"columns":[1]}}, {"row":{"columns":[2]}}]}]`,
			queries:  []string{`[{"header":{"schema":"s"}},{"row":{"columns":[1]}},{"row":{"columns":[2]}},{"row":{"columns":[2]}}]`},
			want:     "uneven occurrence",
		},
		{
			name:     "unexpected row",
			expected: `[{"query": [{"header":{"schema":"s"}}, {"row":{"columns":[1]}}, {"row":{"columns":[2]}}]}]`,
			queries:  []string{`[{"header":{"schema":"s"}},{"row":{"columns":[1]}},{"row":{"columns":[3]}}]`},
			want:     "got unexpected columns [3]",
		},
		{
			name:     "row count",
			expected: `[{"query": [{"header":{"schema":"s"}}, {"row":{"columns":[1]}}]}]`,
			queries:  []string{`[{"header":{"schema":"s"}},{"row":{"columns":[1]}},{"finalMessage":"Query Completed"}]`},
			want:     "row count mismatch: expected 2, got 3",
		},
		{
			name:     "schema header",
			expected: `[{"query": [{"header":{"schema":"` + "`K` STRING KEY" + `"}}]}]`,
			queries:  []string{`[{"header":{"queryId":"q","schema":"` + "`K` STRING" + `"}}]`},
			want:     "responses[0]->query[0]->header->schema",
		},
		{
			name:     "push query: final message",
			expected: `[{"query": [{"header":{"schema":"s"}}, {"row":{"columns":[1]}}, {"finalMessage":"Limit Reached"}]}]`,
			queries:  []string{"[{\"header\":{\"queryId\":\"transient_1\",\"schema\":\"s\"}},\n{\"row\":{\"columns\":[1]}},\n{\"finalMessage\":\"Limit Reached\"}]"},
		},
		{
			name:     "push query: wrong final message",
			expected: `[{"query": [{"header":{"schema":"s"}}, {"finalMessage":"Limit Reached"}]}]`,
			queries:  []string{`[{"header":{"schema":"s"}},{"finalMessage":"Query Completed"}]`},
			want:     `finalMessage: expected "Limit Reached", got "Query Completed"`,
		},
		{
			name:     "header where a row was expected",
			expected: `[{"query": [{"row":{"columns":[1]}}]}]`,
			queries:  []string{`[{"header":{"schema":"s"}}]`},
			want:     `missing "row"`,
		},
		{
			name:     "tombstone flag",
			expected: `[{"query": [{"row":{"columns":[10, null],"tombstone":true}}]}]`,
			queries:  []string{`[{"row":{"columns":[10,null]}}]`},
			want:     `missing "tombstone"`,
		},
		{
			name:     "tombstone flag present",
			expected: `[{"query": [{"row":{"columns":[10, null],"tombstone":true}}]}]`,
			queries:  []string{`[{"row":{"columns":[10,null],"tombstone":true}}]`},
		},
		{
			name:     "a DOUBLE printed as an integer does not match",
			expected: `[{"query": [{"row":{"columns":[11.0, 100]}}]}]`,
			queries:  []string{`[{"row":{"columns":[11,100]}}]`},
			want:     "expected [11.0,100], got [11,100]",
		},
		{
			name:     "decimals compare by value",
			expected: `[{"query": [{"row":{"columns":[1.50, 1E+2, 12345678901234567890]}}]}]`,
			queries:  []string{`[{"row":{"columns":[1.5,100.0,12345678901234567890]}}]`},
		},
		{
			name:        "struct columns: every field, names exactly",
			expected:    `[{"query": [{"row":{"columns":["1", {"NESTED_FIELD1": "value1", "NESTED_FIELD2": 100}]}}]}]`,
			queries:     []string{`[{"row":{"columns":["1",{"NESTED_FIELD1":"value1","NESTED_FIELD2":100,"X":null}]}}]`},
			verifyOrder: true,
			want:        "expected",
		},
		{
			name:        "struct columns match",
			expected:    `[{"query": [{"row":{"columns":["1", {"NESTED_FIELD1": "value1", "NESTED_FIELD2": 100}]}}]}]`,
			queries:     []string{`[{"row":{"columns":["1",{"NESTED_FIELD2":100,"NESTED_FIELD1":"value1"}]}}]`},
			verifyOrder: true,
		},
		{
			name:     "queryProto responses are not compared",
			expected: `[{"query": [{"row":{"columns":[1]}}]}, {"queryProto": [{"row": "MYKEY: 10\n"}]}]`,
			queries:  []string{`[{"row":{"columns":[1]}}]`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := verifyResponses(actualResponses(t, tt.entities, tt.queries...), expectedResponses(t, tt.expected), statements, tt.verifyOrder)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected mismatch: %v", err)
			case tt.want != "" && err == nil:
				t.Errorf("matched, want a mismatch containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("mismatch:\n%v\nwant it to contain %q", err, tt.want)
			}
		})
	}
}

func TestParseRows(t *testing.T) {
	tests := []struct {
		name, body string
		want       int
	}{
		{"empty", "", 0},
		{"array", `[{"header":{"schema":"s"}},{"row":{"columns":[1]}}]`, 2},
		{"ksqlDB's chunks", "[{\"header\":{\"schema\":\"s\"}},\n{\"row\":{\"columns\":[1]}},\n{\"finalMessage\":\"Limit Reached\"}]\n", 3},
		{"cut short", "[{\"header\":{\"schema\":\"s\"}},\n{\"row\":{\"columns\":[1]}},\n", 2},
		{"delimited lines", "{\"header\":{\"schema\":\"s\"}}\n{\"row\":{\"columns\":[[1],[2]]}}\n", 2},
		{"pretty array", "[\n  {\"row\": {\"columns\": [1]}}\n]", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := parseRows([]byte(tt.body))
			if err != nil || len(rows) != tt.want {
				t.Fatalf("parseRows: %d rows %v, want %d", len(rows), err, tt.want)
			}
			for _, r := range rows {
				if _, ok := r.(map[string]any); !ok {
					t.Errorf("row %v is not an object", r)
				}
			}
		})
	}
	if _, err := parseRows([]byte("[{\"row\":1},\nnot json\n")); err == nil {
		t.Error("garbage parsed")
	}
}

func TestMatchError(t *testing.T) {
	const last = "SELECT * FROM AGGREGATE WHERE ID != '100';"
	stmtErr := `{"@type":"statement_error","error_code":40001,"message":"Bound on key columns '[` + "`ID`" + ` STRING KEY]' must currently be '='. \nmore","statementText":"SELECT * FROM AGGREGATE WHERE ID != '100';","entities":[]}`
	genericErr := `{"@type":"generic_error","error_code":50000,"message":"boom"}`
	tests := []struct {
		name     string
		exp      ExpectedError
		status   int
		body     string
		wantFail string
	}{
		{"all three match", ExpectedError{Type: "io.confluent.ksql.rest.entity.KsqlStatementErrorMessage", Message: "must currently be '='. ", Status: 400}, 400, stmtErr, ""},
		{"status differs", ExpectedError{Status: 400}, 500, stmtErr, "status: expected 400, got 500"},
		{"message not contained", ExpectedError{Message: "JOIN"}, 400, stmtErr, "message: expected it to contain"},
		{"generic error type accepts a statement error", ExpectedError{Type: "io.confluent.ksql.rest.entity.KsqlErrorMessage"}, 400, stmtErr, ""},
		{"generic error type", ExpectedError{Type: "io.confluent.ksql.rest.entity.KsqlErrorMessage", Message: "boom"}, 500, genericErr, ""},
		{"statement error type needs a statement error", ExpectedError{Type: "io.confluent.ksql.rest.entity.KsqlStatementErrorMessage"}, 400, genericErr, "expected @type statement_error"},
		{"statement error must name the last statement", ExpectedError{Type: "io.confluent.ksql.rest.entity.KsqlStatementErrorMessage"}, 400,
			`{"@type":"statement_error","message":"x","statementText":"CREATE STREAM ..."}`, "statementText: expected it to contain the last statement"},
		{"not JSON", ExpectedError{Type: "io.confluent.ksql.rest.entity.KsqlErrorMessage"}, 500, "Internal Server Error", "not a JSON object"},
		{"message of a non-JSON body", ExpectedError{Message: "Server Error"}, 500, "Internal Server Error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := &errorResponse{Status: tt.status, Raw: tt.body}
			if m, ok := func() (map[string]any, bool) {
				v, err := decodeJSON([]byte(tt.body))
				if err != nil {
					return nil, false
				}
				m, ok := v.(map[string]any)
				return m, ok
			}(); ok {
				got.Body = m
			}
			err := matchError(&tt.exp, got, last)
			switch {
			case tt.wantFail == "" && err != nil:
				t.Errorf("unexpected mismatch: %v", err)
			case tt.wantFail != "" && (err == nil || !strings.Contains(err.Error(), tt.wantFail)):
				t.Errorf("error %v, want one containing %q", err, tt.wantFail)
			}
		})
	}
}

func TestRecordMatches(t *testing.T) {
	tests := []struct {
		actual, expected string
		want             bool
	}{
		{`{"ID":10}`, `{"ID":10}`, true},
		{`{"ID":10}`, `{"id":10}`, true}, // looked up upper-cased
		{`{"ID":10,"X":1}`, `{"ID":10}`, false},
		{`{"ID":null}`, `{"ID":null}`, true},
		{`{"ID":1.0}`, `{"ID":1}`, true}, // numbers by value
		{`{"D":3.40}`, `{"D":"3.40"}`, true},
		{`{"D":3.4}`, `{"D":"3.40"}`, false}, // a decimal given as text keeps its scale
		{`[1,2]`, `[1,2]`, true},
		{`[1,2]`, `[2,1]`, false},
		{`"key"`, `"key"`, true},
		{`null`, `null`, true},
		{`10`, `null`, false},
		{`true`, `true`, true},
	}
	for _, tt := range tests {
		if got := recordMatches(mustJSON(t, tt.actual), mustJSON(t, tt.expected)); got != tt.want {
			t.Errorf("recordMatches(%s, %s) = %v, want %v", tt.actual, tt.expected, got, tt.want)
		}
	}
}
