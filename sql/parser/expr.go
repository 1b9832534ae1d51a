package parser

// Expression grammar, following ksqlDB's SqlBase.g4 precedence (loosest first):
//
//	OR
//	AND
//	NOT
//	predicate: = <> != < <= > >=, [NOT] BETWEEN, [NOT] IN, [NOT] LIKE [ESCAPE], IS [NOT] NULL,
//	           IS [NOT] DISTINCT FROM (not chained: a = b = c is an error, as in ksqlDB)
//	||
//	+ -
//	* / %
//	unary - +
//	AT TIME ZONE
//	postfix: a[i], s->f
//	primary

import "github.com/seichedb/seiche/sql/sqlerr"

func (p *parser) expr() Expr { return p.orExpr() }

func (p *parser) orExpr() Expr {
	l := p.andExpr()
	for p.isKw("OR") {
		t := p.next()
		l = &Binary{P: t.pos, Op: OpOr, L: l, R: p.andExpr()}
	}
	return l
}

func (p *parser) andExpr() Expr {
	l := p.notExpr()
	for p.isKw("AND") {
		t := p.next()
		l = &Binary{P: t.pos, Op: OpAnd, L: l, R: p.notExpr()}
	}
	return l
}

func (p *parser) notExpr() Expr {
	if p.isKw("NOT") {
		t := p.next()
		return &Unary{P: t.pos, Op: OpNot, X: p.notExpr()}
	}
	return p.predicated()
}

var comparisonOps = map[string]BinaryOp{"=": OpEq, "<>": OpNeq, "!=": OpNeq, "<": OpLt, "<=": OpLte, ">": OpGt,
	">=": OpGte}

func (p *parser) predicated() Expr {
	v := p.valueExpr()
	t := p.peek()
	if t.kind == tOp {
		if op, ok := comparisonOps[t.val]; ok {
			p.next()
			return &Binary{P: t.pos, Op: op, L: v, R: p.valueExpr()}
		}
		return v
	}
	if t.kind != tIdent {
		return v
	}
	not := false
	if t.val == "NOT" && (p.isKwN(1, "BETWEEN") || p.isKwN(1, "IN") || p.isKwN(1, "LIKE")) {
		p.next()
		not = true
	}
	switch {
	case p.acceptKw("BETWEEN"):
		lo := p.valueExpr()
		p.expectKw("AND")
		return &Between{P: t.pos, X: v, Lo: lo, Hi: p.valueExpr(), Not: not}
	case p.acceptKw("IN"):
		p.expectOp("(")
		in := &InList{P: t.pos, X: v, Not: not}
		for {
			in.List = append(in.List, p.expr())
			if !p.acceptOp(",") {
				break
			}
		}
		p.expectOp(")")
		return in
	case p.acceptKw("LIKE"):
		l := &Like{P: t.pos, X: v, Pattern: p.valueExpr(), Not: not}
		if p.acceptKw("ESCAPE") {
			e := p.peek()
			if e.kind != tString {
				p.expected("a string literal")
			}
			p.next()
			l.Escape = e.val
			if len([]rune(l.Escape)) != 1 {
				// ksqlDB's AstBuilder refuses it while building the statement, not as a syntax error.
				p.fail(sqlerr.New(sqlerr.Semantic, e.pos, "Failed to prepare statement: Expected single character escape but got: %s", e.val))
			}
		}
		return l
	case p.acceptKw("IS"):
		isNot := p.acceptKw("NOT")
		if p.acceptKw("NULL") {
			return &IsNull{P: t.pos, X: v, Not: isNot}
		}
		if p.acceptKw("DISTINCT") {
			p.expectKw("FROM")
			op := OpIsDistinct
			if isNot {
				op = OpIsNotDistinct
			}
			return &Binary{P: t.pos, Op: op, L: v, R: p.valueExpr()}
		}
		p.expected("NULL or DISTINCT FROM")
	}
	return v
}

func (p *parser) valueExpr() Expr {
	l := p.additive()
	for p.isOp("||") {
		t := p.next()
		l = &Binary{P: t.pos, Op: OpConcat, L: l, R: p.additive()}
	}
	return l
}

func (p *parser) additive() Expr {
	l := p.multiplicative()
	for {
		t := p.peek()
		switch {
		case p.isOp("+"):
			p.next()
			l = &Binary{P: t.pos, Op: OpAdd, L: l, R: p.multiplicative()}
		case p.isOp("-"):
			p.next()
			l = &Binary{P: t.pos, Op: OpSub, L: l, R: p.multiplicative()}
		default:
			return l
		}
	}
}

func (p *parser) multiplicative() Expr {
	l := p.unary()
	for {
		t := p.peek()
		var op BinaryOp
		switch {
		case p.isOp("*"):
			op = OpMul
		case p.isOp("/"):
			op = OpDiv
		case p.isOp("%"):
			op = OpMod
		default:
			return l
		}
		p.next()
		l = &Binary{P: t.pos, Op: op, L: l, R: p.unary()}
	}
}

func (p *parser) unary() Expr {
	t := p.peek()
	switch {
	case p.isOp("-"):
		p.next()
		// ksqlDB's grammar has the sign in the number (MINUS? INTEGER_VALUE): -9223372036854775808 is one
		// literal, in range, but -(9223372036854775808) negates one that is not.
		signed := p.peek().kind == tInteger || p.peek().kind == tDecimal || p.peek().kind == tFloat
		x := p.unary()
		if lit, ok := x.(*Literal); ok && signed && (lit.Kind == LitInteger || lit.Kind == LitDecimal || lit.Kind == LitDouble) &&
			lit.Value[0] != '-' {
			return &Literal{P: t.pos, Kind: lit.Kind, Value: "-" + lit.Value}
		}
		return &Unary{P: t.pos, Op: OpNeg, X: x}
	case p.isOp("+"):
		p.next()
		return &Unary{P: t.pos, Op: OpPlus, X: p.unary()}
	}
	x := p.postfix()
	if p.isKw("AT") {
		at := p.next()
		p.expectKw("TIME")
		p.expectKw("ZONE")
		z := p.peek()
		if z.kind != tString {
			p.expected("a string literal")
		}
		p.next()
		x = &AtTimeZone{P: at.pos, X: x, Zone: z.val}
	}
	return x
}

func (p *parser) postfix() Expr {
	x := p.primary()
	for {
		t := p.peek()
		switch {
		case p.isOp("["):
			p.next()
			idx := p.valueExpr()
			p.expectOp("]")
			x = &Subscript{P: t.pos, Base: x, Index: idx}
		case p.isOp("->"):
			p.next()
			if p.isOp("*") {
				p.next()
				return &structStar{P: t.pos, base: x}
			}
			x = &Dereference{P: t.pos, Base: x, Field: p.identifier()}
		default:
			return x
		}
	}
}

func (p *parser) primary() Expr {
	t := p.peek()
	switch t.kind {
	case tInteger, tDecimal, tFloat:
		p.next()
		return &Literal{P: t.pos, Kind: numberKind(t.kind), Value: t.val}
	case tString:
		p.next()
		return &Literal{P: t.pos, Kind: LitString, Value: t.val}
	case tVariable:
		p.fail(syntaxErr(t.pos, "undefined variable '%s'", t.val))
	case tOp:
		if t.val == "(" {
			p.next()
			e := p.expr()
			p.expectOp(")")
			return e
		}
		p.expected("an expression")
	case tEOF:
		p.expected("an expression")
	}
	if t.kind == tIdent {
		switch t.val {
		case "NULL":
			p.next()
			return &Literal{P: t.pos, Kind: LitNull, Value: "NULL"}
		case "TRUE", "FALSE":
			p.next()
			return &Literal{P: t.pos, Kind: LitBoolean, Value: t.val}
		case "CASE":
			return p.caseExpr()
		case "CAST":
			p.next()
			p.expectOp("(")
			e := p.expr()
			p.expectKw("AS")
			ty := p.typeExpr()
			p.expectOp(")")
			return &Cast{P: t.pos, Expr: e, Type: ty}
		case "ARRAY":
			if p.peekN(1).kind == tOp && p.peekN(1).val == "[" {
				p.next()
				p.next()
				a := &ArrayConstructor{P: t.pos}
				if !p.isOp("]") {
					for {
						a.Elems = append(a.Elems, p.expr())
						if !p.acceptOp(",") {
							break
						}
					}
				}
				p.expectOp("]")
				return a
			}
		case "MAP":
			if p.peekN(1).kind == tOp && p.peekN(1).val == "(" {
				p.next()
				p.next()
				m := &MapConstructor{P: t.pos}
				if !p.isOp(")") {
					for {
						m.Keys = append(m.Keys, p.expr())
						p.expectOp(":=")
						m.Vals = append(m.Vals, p.expr())
						if !p.acceptOp(",") {
							break
						}
					}
				}
				p.expectOp(")")
				return m
			}
		case "STRUCT":
			if p.peekN(1).kind == tOp && p.peekN(1).val == "(" {
				p.next()
				p.next()
				s := &StructConstructor{P: t.pos}
				if !p.isOp(")") {
					for {
						s.Names = append(s.Names, p.identifier())
						p.expectOp(":=")
						s.Values = append(s.Values, p.expr())
						if !p.acceptOp(",") {
							break
						}
					}
				}
				p.expectOp(")")
				return s
			}
		}
	}
	if !p.isIdentifierStart() {
		p.expected("an expression")
	}
	id := p.identifier()
	n := p.peek()
	switch {
	case n.kind == tString:
		p.next()
		return &TypedLiteral{P: t.pos, Type: id, Value: n.val}
	case n.kind == tOp && n.val == "(":
		return p.funcCall(id)
	case n.kind == tOp && n.val == "." && !(p.peekN(1).kind == tOp && p.peekN(1).val == "*"):
		p.next()
		col := p.identifier()
		q := id
		return &ColumnRef{P: t.pos, Qualifier: &q, Name: col}
	}
	return &ColumnRef{P: t.pos, Name: id}
}

func (p *parser) caseExpr() Expr {
	t := p.expectKw("CASE")
	c := &Case{P: t.pos}
	if !p.isKw("WHEN") {
		c.Operand = p.valueExpr()
	}
	for p.acceptKw("WHEN") {
		cond := p.expr()
		p.expectKw("THEN")
		c.Whens = append(c.Whens, When{Cond: cond, Result: p.expr()})
	}
	if len(c.Whens) == 0 {
		p.expected("WHEN")
	}
	if p.acceptKw("ELSE") {
		c.Else = p.expr()
	}
	p.expectKw("END")
	return c
}

func (p *parser) funcCall(name Ident) Expr {
	p.expectOp("(")
	f := &FuncCall{P: name.P, Name: name}
	if p.acceptOp("*") {
		p.expectOp(")")
		f.Star = true
		return f
	}
	if p.acceptOp(")") {
		return f
	}
	for {
		f.Args = append(f.Args, p.funcArg())
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectOp(")")
	return f
}

func (p *parser) funcArg() Expr {
	t := p.peek()
	// x => body
	if p.isIdentifierStart() && p.peekN(1).kind == tOp && p.peekN(1).val == "=>" {
		param := p.identifier()
		p.next()
		return &Lambda{P: t.pos, Params: []Ident{param}, Body: p.expr()}
	}
	// (x, y) => body
	if p.isOp("(") {
		n := 1
		for {
			tk := p.peekN(n)
			if tk.kind != tIdent && tk.kind != tQuotedIdent {
				break
			}
			sep := p.peekN(n + 1)
			if sep.kind == tOp && sep.val == "," {
				n += 2
				continue
			}
			if sep.kind == tOp && sep.val == ")" && p.peekN(n+2).kind == tOp && p.peekN(n+2).val == "=>" {
				p.next()
				l := &Lambda{P: t.pos}
				for {
					l.Params = append(l.Params, p.identifier())
					if !p.acceptOp(",") {
						break
					}
				}
				p.expectOp(")")
				p.expectOp("=>")
				l.Body = p.expr()
				return l
			}
			break
		}
	}
	// A time unit argument (TIMESTAMPADD(SECONDS, ...)).
	if t.kind == tIdent && windowUnits[t.val] {
		n := p.peekN(1)
		if n.kind == tOp && (n.val == "," || n.val == ")") {
			p.next()
			return &IntervalUnit{P: t.pos, Unit: t.val}
		}
	}
	return p.expr()
}
