// Package tidbdiff checks Seiche's expression parser (sql/parser) against tidb's MySQL parser
// (github.com/pingcap/tidb/pkg/parser) on the part of expression syntax the two grammars share:
// OR / AND / NOT, comparisons, IS [NOT] NULL, [NOT] BETWEEN, [NOT] IN, [NOT] LIKE [ESCAPE], + - * / %,
// unary minus and plus, ||, literals, columns, searched and simple CASE, CAST to DOUBLE, DECIMAL(p, s),
// DATE and TIME, and function calls.
//
// Both parsers' trees are converted to one neutral form (Node), in which parentheses leave no trace,
// and must be equal: over a hand-written list whose expected trees come from ksqlDB's grammar
// (SqlBase.g4), and over a few thousand expressions from a seeded random generator that prints each
// with the fewest parentheses ksqlDB's precedence rules allow. A second list holds texts the grammars
// read differently (|| against + and *, chained comparisons, IS NULL after a comparison, NOT as an
// operand): Seiche must read them as ksqlDB does, and tidb must still read them otherwise.
//
// It is a Go module of its own so that tidb's parser, a large dependency, never enters Seiche's
// go.mod; it replaces github.com/seichedb/seiche with ../.. and CI runs it as its own step.
// sql/doc.go says what this does and does not prove.
package tidbdiff
