package planner

import (
	"testing"

	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/parser"
)

func TestBuild(t *testing.T) {
	setup := []string{
		"CREATE STREAM S (ID INT KEY, A INT, ARR ARRAY<INT>) WITH (kafka_topic='s', value_format='JSON');",
		"CREATE TABLE T (ID INT PRIMARY KEY, B STRING) WITH (kafka_topic='t', value_format='JSON');",
	}
	for _, tc := range []struct{ sql, want string }{
		{"CREATE STREAM O AS SELECT ID, A + 1 AS X FROM S WHERE A > 0;", "Source(S) -> Filter -> Project -> Sink(O)"},
		{"CREATE STREAM O AS SELECT ID, EXPLODE(ARR) AS E FROM S;", "Source(S) -> TableFunction -> Project -> Sink(O)"},
		{"CREATE STREAM O AS SELECT A, ID FROM S PARTITION BY A;", "Source(S) -> Project -> Sink(O)"},
		{"CREATE TABLE O AS SELECT A, COUNT(*) AS N FROM S GROUP BY A HAVING COUNT(*) > 1;", "Source(S) -> Aggregate -> Having -> Project -> Sink(O)"},
		{"CREATE TABLE O AS SELECT A, COUNT(*) AS N FROM S WINDOW TUMBLING (SIZE 1 MINUTE) GROUP BY A EMIT FINAL;", "Source(S) -> Aggregate(TUMBLING) -> Suppress(FINAL) -> Project -> Sink(O)"},
		{"CREATE STREAM O AS SELECT S.ID, B FROM S JOIN T ON S.ID = T.ID;", "Source(S) -> Join(INNER T) -> Project -> Sink(O)"},
	} {
		meta := analyzer.NewMetastore()
		a := analyzer.New(meta)
		var ps parser.Parser
		var last analyzer.Analyzed
		for _, s := range append(append([]string{}, setup...), tc.sql) {
			parsed, err := ps.ParseScript(s)
			if err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			if last, err = a.Analyze(parsed[0].Statement, parsed[0].Text); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
			a.Apply(last)
		}
		p, err := Build(last.(*analyzer.PersistentQuery))
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		if got := p.String(); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.sql, got, tc.want)
		}
	}
}
