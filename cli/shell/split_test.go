package shell

import (
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		in    string
		stmts []string
		rest  string
	}{
		{"SHOW STREAMS;", []string{"SHOW STREAMS"}, ""},
		{"SHOW STREAMS; SHOW TABLES;", []string{"SHOW STREAMS", "SHOW TABLES"}, ""},
		{"CREATE STREAM s (id INT)\n  WITH (kafka_topic='t',", nil, "CREATE STREAM s (id INT)\n  WITH (kafka_topic='t',"},
		{"SELECT 'a;b' FROM s; SELECT", []string{"SELECT 'a;b' FROM s"}, "SELECT"},
		{"SELECT 'it''s; here' FROM s;", []string{"SELECT 'it''s; here' FROM s"}, ""},
		{`SELECT "a;b" FROM s;`, []string{`SELECT "a;b" FROM s`}, ""},
		{"SELECT `a;b` FROM s;", []string{"SELECT `a;b` FROM s"}, ""},
		{"-- a comment; still a comment\nSHOW TOPICS;", []string{"-- a comment; still a comment\nSHOW TOPICS"}, ""},
		{"/* one; two */ SHOW TOPICS; /* open", []string{"/* one; two */ SHOW TOPICS"}, "/* open"},
		{"-- only a comment", nil, ""},
		{"/* closed */ ", nil, ""},
		{";;", nil, ""},
		{"INSERT INTO s VALUES ('unterminated;", nil, "INSERT INTO s VALUES ('unterminated;"},
	} {
		stmts, rest := split(tc.in)
		if !reflect.DeepEqual(stmts, tc.stmts) || rest != tc.rest {
			t.Errorf("split(%q) = %q, %q; want %q, %q", tc.in, stmts, rest, tc.stmts, tc.rest)
		}
	}
}

func TestWords(t *testing.T) {
	if got := words("/* x */ -- y\n  select * from s", 2); !reflect.DeepEqual(got, []string{"SELECT", "*"}) {
		t.Errorf("words = %q", got)
	}
	for stmt, want := range map[string]bool{
		"SELECT * FROM s EMIT CHANGES":           true,
		"select * from s emit   changes limit 3": true,
		"SELECT * FROM t WHERE id = 1":           false,
		"SELECT 'EMIT CHANGES' FROM t":           false,
	} {
		if got := isPush(stmt); got != want {
			t.Errorf("isPush(%q) = %v", stmt, got)
		}
	}
}

func TestCompleteInContext(t *testing.T) {
	c := newCatalog(nil)
	c.sources = map[string][]string{"PAGEVIEWS": {"USERID", "PAGEID", "VIEWTIME"}, "USERS": {"USERID", "REGION"}}
	c.topics = []string{"pageviews"}
	c.queries = []string{"CSAS_OUT_3"}
	c.functions = map[string]string{"UCASE": "(VARCHAR) -> VARCHAR", "UNIX_TIMESTAMP": "() -> BIGINT", "REGEXP_EXTRACT": ""}
	texts := func(before, line string) []string {
		var out []string
		for _, s := range c.complete(before, line) {
			out = append(out, s.Text)
		}
		return out
	}
	for _, tc := range []struct {
		before, line string
		want         []string
	}{
		{"", "SEL", []string{"SELECT"}},
		{"", "sh", []string{"show"}},
		{"", "SHOW T", []string{"TABLES", "TOPICS", "TYPES"}},
		{"", "SELECT * FROM PAGE", []string{"PAGEVIEWS"}},
		{"SELECT pageid,\n", "  view", []string{"viewtime"}},
		{"", "SELECT REG", []string{"REGION"}},
		{"", "SELECT * FROM USERS WHERE us", []string{"userid"}},
		{"", "SELECT * FROM USERS WHERE use", []string{"userid"}},
		{"", "SELECT * FROM PAGEVIEWS WHERE reg", []string{"regexp_extract"}},
		{"", "SELECT uc", []string{"ucase"}},
		{"", "TERMINATE C", []string{"CSAS_OUT_3"}},
		{"", "PRINT page", []string{"pageviews"}},
		{"", "SELECT * FROM PAGEVIEWS EMIT C", []string{"CHANGES"}},
		{"", "CREATE STREAM ", nil},
		{"", "DROP STREAM P", []string{"PAGEVIEWS"}},
		{"", "SHOW STREAMS; SEL", []string{"SELECT"}},
	} {
		got := texts(tc.before, tc.line)
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("complete(%q, %q) = %q; want %q", tc.before, tc.line, got, tc.want)
		}
	}
	// Functions carry their signatures as descriptions.
	for _, s := range c.complete("", "SELECT UCA") {
		if s.Text == "UCASE" && s.Description != "(VARCHAR) -> VARCHAR" {
			t.Errorf("UCASE description = %q", s.Description)
		}
	}
}
