package planner

import (
	"strings"
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

// TestRepartition checks which queries repartition, as ksqlDB's plans do: grouping or joining by the
// source's key columns reads the source's partitions as they are; grouping by anything else, or a
// join on a value column, writes a repartition topic first.
func TestRepartition(t *testing.T) {
	ddl := "CREATE STREAM S (ID INT KEY, A INT) WITH (kafka_topic='s', format='JSON');\n" +
		"CREATE TABLE T (ID INT PRIMARY KEY, B STRING) WITH (kafka_topic='t', format='JSON');\n"
	for _, tc := range []struct {
		sql         string
		repartition bool
	}{
		{"CREATE TABLE O AS SELECT ID, COUNT(*) AS N FROM S GROUP BY ID;", false},
		{"CREATE TABLE O AS SELECT ID, COUNT(*) AS N FROM S WINDOW TUMBLING (SIZE 1 SECOND) GROUP BY ID;", false},
		{"CREATE TABLE O AS SELECT A, COUNT(*) AS N FROM S GROUP BY A;", true},
		{"CREATE TABLE O AS SELECT ID, A, COUNT(*) AS N FROM S GROUP BY ID, A;", true},
		{"CREATE STREAM O AS SELECT S.ID, B FROM S JOIN T ON S.ID = T.ID;", false},
		{"CREATE STREAM O AS SELECT T.ID, S.ID AS SID, B FROM S JOIN T ON S.A = T.ID;", true},
		{"CREATE TABLE O AS SELECT ID, B FROM T;", false},
	} {
		topo, err := Compile(analyzer.NewMetastore(), ddl+tc.sql)
		if err != nil {
			t.Fatalf("%s: %v", tc.sql, err)
		}
		desc := topo.Describe().String()
		if got := strings.Contains(desc, "-repartition"); got != tc.repartition {
			t.Errorf("%s: repartitions = %v, want %v\n%s", tc.sql, got, tc.repartition, desc)
		}
	}
}
