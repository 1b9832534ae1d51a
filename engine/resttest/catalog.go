package resttest

import (
	"fmt"

	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/parser"
	"github.com/seichedb/seiche/sql/qtt"
)

// catalog is what the runner knows of a case's sources without asking the server: its statements
// analyzed locally by Seiche's own SQL front end, as ksqlDB's runner reads its engine's metastore
// (TopicInfoCache). It tells the formats and columns records on a topic are written in.
type catalog struct {
	meta *analyzer.Metastore
}

// analyze runs stmts through the parser and analyzer, each on its own so that one the analyzer
// rejects does not hide the others (as getAllTopics parses each statement on its own). Errors are
// ignored: the server is the judge of the statements.
func analyze(stmts []string, props map[string]any) *catalog {
	c := &catalog{meta: analyzer.NewMetastore()}
	an := analyzer.New(c.meta)
	for k, v := range props {
		an.Props[k] = fmt.Sprint(v)
	}
	var p parser.Parser
	for _, s := range stmts {
		c.analyzeOne(&p, an, s)
	}
	return c
}

func (c *catalog) analyzeOne(p *parser.Parser, an *analyzer.Analyzer, stmt string) {
	defer func() {
		// The front end's bugs must not take the runner down; the server reports the statement.
		_ = recover()
	}()
	parsed, err := p.ParseScript(stmt)
	if err != nil {
		return
	}
	for _, ps := range parsed {
		a, err := an.Analyze(ps.Statement, ps.Text)
		if err != nil {
			return
		}
		an.Apply(a)
	}
}

// topics are the topics of every source the statements define (sources and query sinks).
func (c *catalog) topics() []string {
	var out []string
	for _, s := range c.meta.Sources() {
		if s.Topic != "" {
			out = append(out, s.Topic)
		}
	}
	return out
}

// info returns how records on topic are encoded: with the formats of the source over it, else
// those the test declares for it, else ksqlDB's defaults.
func (c *catalog) info(topic string, declared []Topic) qtt.Encoding {
	return qtt.EncodingOf(c.meta, topic, declared)
}
