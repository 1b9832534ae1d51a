package analyzer

import (
	"strings"

	"github.com/seichedb/seiche/sql/ir"
	"github.com/seichedb/seiche/sql/parser"
)

// statementText renders a CREATE ... AS SELECT as ksqlDB quotes it after "Statement:" in the errors it
// finds while planning (a key or value format that cannot hold the result): the statement as its
// AstSanitizer rewrote it (every column qualified by its source, every select item named, EMIT
// CHANGES made explicit) and its SqlFormatter writes it, one select item per line. It returns "" for
// the queries whose rewriting it does not know (joins, windows), so that they quote nothing.
func (qa *queryAnalysis) statementText(s *parser.CreateAsSelect) string {
	pq, q := s.Query, qa.q
	if len(q.Joins) > 0 || pq.Window != nil || len(qa.items) != len(q.Projection) {
		return ""
	}
	var b strings.Builder
	b.WriteString("CREATE " + s.Kind.String() + " " + parser.FormatIdent(s.Name.Name))
	if len(s.Props) > 0 {
		var props []string
		for _, p := range s.Props {
			props = append(props, p.Name+"="+parser.FormatExpr(p.Value))
		}
		b.WriteString(" WITH (" + strings.Join(props, ", ") + ")")
	}
	b.WriteString(" AS SELECT\n")
	for i, it := range qa.items {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.WriteString("  " + qa.qualified(it.Expr) + " " + parser.FormatIdent(q.Projection[i].Name))
	}
	src := q.Sources[0]
	b.WriteString("\nFROM " + parser.FormatIdent(src.Source.Name) + " " + parser.FormatIdent(src.Alias))
	if pq.Where != nil {
		b.WriteString("\nWHERE " + qa.qualified(pq.Where))
	}
	if len(qa.groupBy) > 0 {
		b.WriteString("\nGROUP BY " + qa.qualifiedList(qa.groupBy))
	}
	if len(pq.PartitionBy) > 0 {
		b.WriteString("\nPARTITION BY " + qa.qualifiedList(pq.PartitionBy))
	}
	if pq.Having != nil {
		b.WriteString("\nHAVING " + qa.qualified(pq.Having))
	}
	if q.Emit == ir.EmitFinal {
		b.WriteString("\nEMIT FINAL")
	} else {
		b.WriteString("\nEMIT CHANGES")
	}
	return b.String()
}

func (qa *queryAnalysis) qualifiedList(es []parser.Expr) string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = qa.qualified(e)
	}
	return strings.Join(out, ", ")
}
