package tidbdiff

import (
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// Node is an expression in the neutral form both parsers' trees are converted to: an operator with
// operands, or an atom (a literal or a column) when Kids is empty. Parentheses leave no trace in it,
// so two trees agree exactly when the parsers grouped the operators the same way.
//
// Op names: OR AND NOT = <> < <= > >= + - * / % || NEG POS IS-NULL IS-NOT-NULL BETWEEN NOT-BETWEEN IN
// NOT-IN LIKE NOT-LIKE CASE WHEN ELSE CAST CALL; atoms: INT DEC DBL STR BOOL NULL COL TYPE NAME ESCAPE.
type Node struct {
	Op   string
	Atom string // the atom's canonical text
	Kids []*Node
}

func op(o string, kids ...*Node) *Node { return &Node{Op: o, Kids: kids} }

func atom(o, text string) *Node { return &Node{Op: o, Atom: text} }

// String renders n as an s-expression: (op kid ...) or (ATOM text).
func (n *Node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

func (n *Node) write(b *strings.Builder) {
	b.WriteByte('(')
	b.WriteString(n.Op)
	if n.Atom != "" || len(n.Kids) == 0 && n.Op != "NULL" {
		b.WriteByte(' ')
		b.WriteString(n.Atom)
	}
	for _, k := range n.Kids {
		b.WriteByte(' ')
		k.write(b)
	}
	b.WriteByte(')')
}

// Normalize rewrites n in place where the two grammars build different trees for the same text, and
// returns it:
//   - a sign applied to a numeric literal is folded into it (ksqlDB's grammar has the sign in the
//     number, MySQL's applies unary minus to an unsigned one);
//   - numbers get one spelling: integers in decimal, decimals as apd prints them, doubles as Go's
//     shortest round-trip form.
func Normalize(n *Node) *Node {
	for _, k := range n.Kids {
		Normalize(k)
	}
	if (n.Op == "NEG" || n.Op == "POS") && len(n.Kids) == 1 {
		k := n.Kids[0]
		if k.Op == "INT" || k.Op == "DEC" || k.Op == "DBL" {
			text := k.Atom
			if n.Op == "NEG" {
				if strings.HasPrefix(text, "-") {
					text = text[1:]
				} else {
					text = "-" + text
				}
			}
			*n = Node{Op: k.Op, Atom: canonicalNumber(k.Op, text)}
		}
	}
	return n
}

// canonicalNumber spells the literal text of kind INT, DEC or DBL in one way; text it cannot read is
// returned as it is, so that it shows in a mismatch.
func canonicalNumber(kind, text string) string {
	switch kind {
	case "INT":
		if i, err := strconv.ParseInt(text, 10, 64); err == nil {
			return strconv.FormatInt(i, 10)
		}
	case "DEC":
		if d, _, err := apd.NewFromString(text); err == nil {
			return d.Text('f')
		}
	case "DBL":
		if f, err := strconv.ParseFloat(text, 64); err == nil {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
	}
	return text
}

// convertAll converts each of es with f, stopping at the first error.
func convertAll[T any](f func(T) (*Node, error), es ...T) ([]*Node, error) {
	out := make([]*Node, 0, len(es))
	for _, x := range es {
		n, err := f(x)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// predicate is a node of the BETWEEN, IN and LIKE family: NOT-o when not.
func predicate(o string, not bool, kids ...*Node) *Node {
	if not {
		o = "NOT-" + o
	}
	return op(o, kids...)
}

// isNull is x IS [NOT] NULL.
func isNull(not bool, x *Node) *Node {
	if not {
		return op("IS-NOT-NULL", x)
	}
	return op("IS-NULL", x)
}

// caseOf converts a CASE of either parser's tree: operand and els are nil interfaces when absent,
// whens holds condition and result pairs.
func caseOf[T any](f func(T) (*Node, error), operand T, whens [][2]T, els T) (*Node, error) {
	var kids []*Node
	if any(operand) != nil {
		o, err := f(operand)
		if err != nil {
			return nil, err
		}
		kids = append(kids, o)
	}
	for _, w := range whens {
		wk, err := convertAll(f, w[0], w[1])
		if err != nil {
			return nil, err
		}
		kids = append(kids, op("WHEN", wk...))
	}
	if any(els) != nil {
		e, err := f(els)
		if err != nil {
			return nil, err
		}
		kids = append(kids, op("ELSE", e))
	}
	return op("CASE", kids...), nil
}
