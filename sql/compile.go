package sql

import (
	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/planner"
)

// Compile runs a script's DDL (CREATE STREAM|TABLE, CREATE TYPE, SET, ...) against meta and lowers each
// persistent query (CREATE ... AS SELECT, INSERT INTO ... SELECT) onto one topology: every stage of the
// front end, then the planner, with no server. INSERT VALUES statements are analyzed but not executed:
// they need a producer. meta is updated as the statements are applied; pass analyzer.NewMetastore() for
// a fresh catalog.
func Compile(meta *analyzer.Metastore, script string) (*runtime.Topology, error) {
	b := dsl.NewBuilder()
	env := planner.NewEnv(b)
	a := analyzer.New(meta)
	var ps parser.Parser
	parsed, err := ps.ParseScript(script)
	if err != nil {
		return nil, err
	}
	for _, p := range parsed {
		an, err := a.Analyze(p.Statement, p.Text)
		if err != nil {
			return nil, err
		}
		if pq, ok := an.(*analyzer.PersistentQuery); ok {
			plan, err := planner.Build(pq.Query, pq.Sink)
			if err != nil {
				return nil, err
			}
			if err := env.Lower(plan); err != nil {
				return nil, err
			}
		}
		a.Apply(an)
	}
	return b.Build()
}
