package analyzer

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/sqlerr"
	"github.com/seichedb/seiche/sql/types"
)

// describe renders an analyzed statement for testdata.
func describe(an Analyzed) string {
	switch s := an.(type) {
	case *CreateSource:
		return fmt.Sprintf("create %s %s: %s (topic %s, key %s, value %s)", s.Source.Kind, s.Source.Name,
			s.Source.Schema, s.Source.Topic, s.Source.KeyFormat, s.Source.ValueFormat)
	case *CreateType:
		return fmt.Sprintf("type %s = %s", s.Name, s.Type)
	case *PersistentQuery:
		q := s.Query
		var b strings.Builder
		fmt.Fprintf(&b, "query -> %s %s: %s (topic %s, key %s, value %s)", s.Sink.Kind, s.Sink.Name, s.Sink.Schema,
			s.Sink.Topic, s.Sink.KeyFormat, s.Sink.ValueFormat)
		if len(q.Joins) > 0 {
			fmt.Fprintf(&b, "; joins %d", len(q.Joins))
		}
		if len(q.GroupBy) > 0 {
			fmt.Fprintf(&b, "; group by %d", len(q.GroupBy))
		}
		for _, a := range q.Aggregates {
			fmt.Fprintf(&b, "; agg %s -> %s", a.Name, a.Resolved.Return)
		}
		for _, tf := range q.TableFuncs {
			fmt.Fprintf(&b, "; udtf %s -> %s", tf.Name, tf.Type)
		}
		if q.Window != nil {
			fmt.Fprintf(&b, "; window %s", q.Window.Kind)
		}
		for _, p := range []string{"KEY_DELIMITER", "VALUE_DELIMITER"} {
			if d, ok := s.Sink.Props[p]; ok {
				fmt.Fprintf(&b, "; %s %q", strings.ToLower(p), d)
			}
		}
		return b.String()
	case *TransientQuery:
		return fmt.Sprintf("select: %s", s.Query.Output)
	case *InsertValues:
		return fmt.Sprintf("insert into %s: %v", s.Target.Name, s.Values)
	case *DropSource:
		if s.Source == nil {
			return "drop (absent)"
		}
		return "drop " + s.Source.Name
	case *DropType:
		return "drop type " + s.Name
	case *Other:
		return "other: " + parser.Format(s.Statement)
	}
	return fmt.Sprintf("%T", an)
}

// TestAnalyze runs testdata/analyze: each script runs statement by statement against a fresh metastore,
// printing each analyzed statement or the first error.
func TestAnalyze(t *testing.T) {
	datadriven.RunTest(t, "testdata/analyze", func(t *testing.T, d *datadriven.TestData) string {
		a := New(NewMetastore())
		var ps parser.Parser
		parsed, err := ps.ParseScript(d.Input)
		var b strings.Builder
		for _, p := range parsed {
			an, aerr := a.Analyze(p.Statement, p.Text)
			if aerr != nil {
				fmt.Fprintf(&b, "error %s: %v\n", sqlerr.CodeOf(aerr), aerr)
				return b.String()
			}
			a.Apply(an)
			b.WriteString(describe(an) + "\n")
		}
		if err != nil {
			fmt.Fprintf(&b, "error %s: %v\n", sqlerr.CodeOf(err), err)
		}
		return b.String()
	})
}

// TestReads checks the columns each query records as read, per source (ir.QuerySource.Reads).
func TestReads(t *testing.T) {
	ddl := "CREATE STREAM S (ID INT KEY, A INT, B INT, C STRING, ARR ARRAY<INT>) WITH (kafka_topic='s', format='JSON');\n" +
		"CREATE TABLE T (ID INT PRIMARY KEY, X STRING, Y STRING) WITH (kafka_topic='t', format='JSON');\n"
	for _, tc := range []struct{ sql, want string }{
		{"SELECT A FROM S WHERE B > 0 EMIT CHANGES;", "S: A B"},
		{"SELECT * FROM S EMIT CHANGES;", "S: ID A B C ARR"},
		{"SELECT ID, ROWTIME, A + LEN(C) AS N FROM S EMIT CHANGES;", "S: ID A C ROWTIME"},
		{"SELECT 1 AS ONE FROM S EMIT CHANGES;", "S:"},
		{"SELECT A, COUNT(*) AS N, SUM(B) AS M FROM S GROUP BY A HAVING COUNT(*) > 1 EMIT CHANGES;", "S: A B"},
		{"SELECT ID, EXPLODE(ARR) AS E FROM S EMIT CHANGES;", "S: ID ARR"},
		{"SELECT ID, TRANSFORM(ARR, x => x + A) AS E FROM S EMIT CHANGES;", "S: ID A ARR"},
		{"SELECT C, ID FROM S PARTITION BY C EMIT CHANGES;", "S: ID C"},
		{"SELECT S.ID, X FROM S JOIN T ON S.A = T.ID EMIT CHANGES;", "S: ID A; T: ID X"},
	} {
		a := New(NewMetastore())
		var ps parser.Parser
		parsed, err := ps.ParseScript(ddl + tc.sql)
		if err != nil {
			t.Fatal(err)
		}
		var last Analyzed
		for _, p := range parsed {
			if last, err = a.Analyze(p.Statement, p.Text); err != nil {
				t.Fatalf("%s: %v", p.Text, err)
			}
			a.Apply(last)
		}
		var parts []string
		for _, s := range last.(*TransientQuery).Query.Sources {
			part := s.Alias + ":"
			cols := append(append([]types.Column{}, s.Source.Schema.Columns...), pseudoColumns(s.Source.Window != "")...)
			for i, r := range s.Reads {
				if r {
					part += " " + cols[i].Name
				}
			}
			parts = append(parts, part)
		}
		if got := strings.Join(parts, "; "); got != tc.want {
			t.Errorf("%s\n got %s\nwant %s", tc.sql, got, tc.want)
		}
	}
}
