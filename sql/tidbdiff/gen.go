package tidbdiff

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Precedence levels of ksqlDB's expression grammar (SqlBase.g4), lowest first. A generated expression
// is printed with parentheses only where an operand's level is below what its position requires, so
// the text leans on each rule of precedence and associativity the grammar states.
const (
	lvOr      = iota + 1 // a OR b, left-associative
	lvAnd                // a AND b, left-associative
	lvNot                // NOT a
	lvPred               // a = b, BETWEEN, IN, LIKE, IS NULL: one per operand, never chained
	lvConcat             // a || b, left-associative
	lvAdd                // a + b, a - b, left-associative
	lvMul                // a * b, a / b, a % b, left-associative
	lvUnary              // -a, +a
	lvPrimary            // literals, columns, CASE, CAST, calls, (e)
)

// genExpr is a generated expression: the text it prints as (at its own level) and the neutral tree a
// parser must build from it.
type genExpr struct {
	text  string
	level int
	tree  *Node
	pipes bool // a || b: its operands must be primaries or, on the left, another ||
}

// Generator produces random expressions of the subset both grammars share, each with the tree it
// must parse to. The same seed gives the same expressions.
type Generator struct {
	r *rand.Rand
}

// NewGenerator returns a generator seeded with seed.
func NewGenerator(seed uint64) *Generator {
	return &Generator{r: rand.New(rand.NewPCG(seed, seed^0x5e1c4e))}
}

// Next returns the text of a random expression at most depth operators deep and the neutral tree a
// parser must build from it.
func (g *Generator) Next(depth int) (string, *Node) {
	e := g.boolean(depth)
	return e.text, Normalize(e.tree)
}

// at prints e where a level of at least min is required, adding parentheses when e's is lower, and
// now and then where they are not needed.
func (g *Generator) at(e genExpr, min int) string {
	if e.level < min || g.r.IntN(20) == 0 {
		return "(" + e.text + ")"
	}
	return e.text
}

func (g *Generator) pick(n int) int { return g.r.IntN(n) }

// boolean is an expression of any level.
func (g *Generator) boolean(depth int) genExpr {
	if depth <= 0 {
		return g.primary(0)
	}
	switch g.pick(8) {
	case 0:
		l, r := g.boolean(depth-1), g.boolean(depth-1)
		return genExpr{text: g.at(l, lvOr) + " OR " + g.at(r, lvAnd), level: lvOr, tree: op("OR", l.tree, r.tree)}
	case 1:
		l, r := g.boolean(depth-1), g.boolean(depth-1)
		return genExpr{text: g.at(l, lvAnd) + " AND " + g.at(r, lvNot), level: lvAnd, tree: op("AND", l.tree, r.tree)}
	case 2:
		x := g.boolean(depth - 1)
		return genExpr{text: "NOT " + g.at(x, lvNot), level: lvNot, tree: op("NOT", x.tree)}
	case 3, 4:
		return g.predicate(depth)
	default:
		return g.value(depth)
	}
}

var comparisons = []struct{ text, op string }{
	{"=", "="}, {"<>", "<>"}, {"!=", "<>"}, {"<", "<"}, {"<=", "<="}, {">", ">"}, {">=", ">="},
}

// predicate is a comparison, BETWEEN, IN, LIKE or IS NULL over value expressions.
func (g *Generator) predicate(depth int) genExpr {
	not := g.pick(2) == 0
	neg := func(o string) string {
		if not {
			return "NOT-" + o
		}
		return o
	}
	notText := func() string {
		if not {
			return " NOT"
		}
		return ""
	}
	x := g.value(depth - 1)
	switch g.pick(5) {
	case 0:
		c := comparisons[g.pick(len(comparisons))]
		r := g.value(depth - 1)
		return genExpr{text: g.at(x, lvConcat) + " " + c.text + " " + g.at(r, lvConcat), level: lvPred, tree: op(c.op, x.tree, r.tree)}
	case 1:
		lo, hi := g.value(depth-1), g.value(depth-1)
		return genExpr{text: g.at(x, lvConcat) + notText() + " BETWEEN " + g.at(lo, lvConcat) + " AND " + g.at(hi, lvConcat),
			level: lvPred, tree: op(neg("BETWEEN"), x.tree, lo.tree, hi.tree)}
	case 2:
		n := 1 + g.pick(3)
		texts := make([]string, n)
		kids := []*Node{x.tree}
		for i := range texts {
			e := g.boolean(depth - 2)
			texts[i] = g.at(e, lvOr)
			kids = append(kids, e.tree)
		}
		return genExpr{text: g.at(x, lvConcat) + notText() + " IN (" + strings.Join(texts, ", ") + ")", level: lvPred,
			tree: op(neg("IN"), kids...)}
	case 3:
		// MySQL reads a LIKE pattern as a simple expression, ksqlDB as a value expression: a
		// primary is both.
		p := g.primary(depth - 1)
		text := g.at(x, lvConcat) + notText() + " LIKE " + g.at(p, lvPrimary)
		tree := op(neg("LIKE"), x.tree, p.tree)
		if g.pick(3) == 0 {
			text += " ESCAPE '!'"
			tree.Kids = append(tree.Kids, atom("ESCAPE", strconv.Quote("!")))
		}
		return genExpr{text: text, level: lvPred, tree: tree}
	default:
		o := "IS-NULL"
		text := g.at(x, lvConcat) + " IS NULL"
		if not {
			o, text = "IS-NOT-NULL", g.at(x, lvConcat)+" IS NOT NULL"
		}
		return genExpr{text: text, level: lvPred, tree: op(o, x.tree)}
	}
}

// value is an arithmetic or concatenation expression.
func (g *Generator) value(depth int) genExpr {
	if depth <= 0 {
		return g.primary(0)
	}
	switch g.pick(7) {
	case 0, 1:
		l, r := g.value(depth-1), g.value(depth-1)
		o := []string{"+", "-"}[g.pick(2)]
		return genExpr{text: g.at(l, lvAdd) + " " + o + " " + g.at(r, lvMul), level: lvAdd, tree: op(o, l.tree, r.tree)}
	case 2, 3:
		l, r := g.value(depth-1), g.value(depth-1)
		o := []string{"*", "/", "%"}[g.pick(3)]
		return genExpr{text: g.at(l, lvMul) + " " + o + " " + g.at(r, lvUnary), level: lvMul, tree: op(o, l.tree, r.tree)}
	case 4:
		x := g.value(depth - 1)
		o, name := "-", "NEG"
		if g.pick(4) == 0 {
			o, name = "+", "POS"
		}
		text := g.at(x, lvUnary)
		if strings.HasPrefix(text, "-") || strings.HasPrefix(text, "+") {
			text = " " + text // "--" starts a comment in both grammars
		}
		return genExpr{text: o + text, level: lvUnary, tree: op(name, x.tree)}
	case 5:
		// ksqlDB puts || below + and -, MySQL above them: an operand of || is a primary, or another
		// || on the left, in both.
		l, r := g.value(depth-1), g.primary(depth-1)
		lt := g.at(l, lvPrimary)
		if l.pipes && g.pick(4) != 0 {
			lt = l.text
		}
		return genExpr{text: lt + " || " + g.at(r, lvPrimary), level: lvConcat, tree: op("||", l.tree, r.tree), pipes: true}
	default:
		return g.primary(depth - 1)
	}
}

var columns = []string{"A", "B", "C", "X", "Y", "T.A", "T.Z", "COL_1"}

var castTypes = []string{"DOUBLE", "DATE", "TIME", "DECIMAL(10,2)", "DECIMAL(38,0)", "DECIMAL(5,5)"}

// primary is a literal, a column, CASE, CAST, a call or a parenthesized expression.
func (g *Generator) primary(depth int) genExpr {
	prim := func(text string, tree *Node) genExpr { return genExpr{text: text, level: lvPrimary, tree: tree} }
	if depth > 0 {
		switch g.pick(6) {
		case 0:
			// searched or simple CASE, with or without ELSE
			var b strings.Builder
			var kids []*Node
			b.WriteString("CASE")
			if g.pick(2) == 0 {
				o := g.value(depth - 1)
				b.WriteString(" " + g.at(o, lvConcat))
				kids = append(kids, o.tree)
			}
			for range 1 + g.pick(2) {
				c, r := g.boolean(depth-1), g.boolean(depth-1)
				b.WriteString(" WHEN " + g.at(c, lvOr) + " THEN " + g.at(r, lvOr))
				kids = append(kids, op("WHEN", c.tree, r.tree))
			}
			if g.pick(2) == 0 {
				e := g.boolean(depth - 1)
				b.WriteString(" ELSE " + g.at(e, lvOr))
				kids = append(kids, op("ELSE", e.tree))
			}
			b.WriteString(" END")
			return prim(b.String(), op("CASE", kids...))
		case 1:
			x := g.boolean(depth - 1)
			t := castTypes[g.pick(len(castTypes))]
			text := strings.Replace(t, ",", ", ", 1)
			return prim("CAST("+g.at(x, lvOr)+" AS "+text+")", op("CAST", x.tree, atom("TYPE", t)))
		case 2:
			name := []string{"ABS", "ROUND", "COALESCE", "FLOOR"}[g.pick(4)]
			n := 1 + g.pick(2)
			texts := make([]string, n)
			kids := []*Node{atom("NAME", name)}
			for i := range texts {
				a := g.boolean(depth - 1)
				texts[i] = g.at(a, lvOr)
				kids = append(kids, a.tree)
			}
			return prim(name+"("+strings.Join(texts, ", ")+")", op("CALL", kids...))
		case 3:
			x := g.boolean(depth - 1)
			return prim("("+x.text+")", x.tree)
		}
	}
	switch g.pick(8) {
	case 0:
		i := g.r.Int64N(1 << 40)
		return prim(strconv.FormatInt(i, 10), atom("INT", strconv.FormatInt(i, 10)))
	case 1:
		text := fmt.Sprintf("%d.%0*d", g.r.IntN(10000), 1+g.pick(3), 0)
		text = text[:len(text)-1] + strconv.Itoa(g.pick(10))
		return prim(text, atom("DEC", canonicalNumber("DEC", text)))
	case 2:
		text := fmt.Sprintf("%d.%dE%d", g.r.IntN(100), g.r.IntN(100), g.r.IntN(20)-10)
		return prim(text, atom("DBL", canonicalNumber("DBL", text)))
	case 3:
		s := []string{"", "a", "it's", "50%", "x_y", "back\\slash", "AND"}[g.pick(7)]
		return prim("'"+strings.ReplaceAll(s, "'", "''")+"'", atom("STR", strconv.Quote(s)))
	case 4:
		b := []string{"TRUE", "FALSE"}[g.pick(2)]
		if g.pick(2) == 0 {
			return prim(strings.ToLower(b), atom("BOOL", b))
		}
		return prim(b, atom("BOOL", b))
	case 5:
		return prim("NULL", atom("NULL", ""))
	default:
		c := columns[g.pick(len(columns))]
		text := c
		if g.pick(2) == 0 {
			text = strings.ToLower(c)
		}
		return prim(text, atom("COL", c))
	}
}
