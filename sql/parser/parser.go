package parser

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/seichedb/seiche/sql/sqlerr"
)

// reserved holds ksqlDB's reserved words: its grammar's keywords minus the nonReserved rule. A reserved word
// is an identifier only when quoted.
var reserved = map[string]bool{}

func init() {
	const keywords = `EMIT CHANGES FINAL SELECT FROM AS ALL DISTINCT WHERE WITHIN WINDOW GROUP BY HAVING LIMIT AT OR AND
	IN NOT EXISTS BETWEEN LIKE ESCAPE IS NULL TRUE FALSE INTEGER DATE TIME TIMESTAMP INTERVAL YEAR MONTH DAY
	HOUR MINUTE SECOND MILLISECOND YEARS MONTHS DAYS HOURS MINUTES SECONDS MILLISECONDS ZONE TUMBLING HOPPING
	SIZE ADVANCE RETENTION GRACE PERIOD CASE WHEN THEN ELSE END JOIN FULL OUTER INNER LEFT RIGHT ON PARTITION
	STRUCT WITH VALUES CREATE TABLE TOPIC STREAM STREAMS INSERT DELETE INTO DESCRIBE EXTENDED PRINT EXPLAIN
	ANALYZE TYPE TYPES CAST SHOW LIST TABLES TOPICS QUERY QUERIES TERMINATE LOAD COLUMNS COLUMN PARTITIONS
	FUNCTIONS FUNCTION DROP TO RENAME ARRAY MAP SET DEFINE UNDEFINE RESET SESSION SAMPLE EXPORT CATALOG
	PROPERTIES BEGINNING UNSET RUN SCRIPT DECIMAL KEY CONNECTOR CONNECTORS SINK SOURCE NAMESPACE MATERIALIZED
	VIEW PRIMARY REPLACE ASSERT ADD ALTER VARIABLES PLUGINS HEADERS HEADER SYSTEM TIMEOUT SCHEMA SUBJECT ID IF`
	const nonReserved = `SHOW TABLES COLUMNS COLUMN PARTITIONS FUNCTIONS FUNCTION SESSION STRUCT MAP ARRAY
	PARTITION INTEGER DATE TIME TIMESTAMP INTERVAL ZONE STRING YEAR MONTH DAY HOUR MINUTE SECOND EXPLAIN
	ANALYZE TYPE TYPES SET RESET IF SOURCE SINK PRIMARY KEY EMIT CHANGES FINAL ESCAPE REPLACE ASSERT ALTER ADD
	HEADER HEADERS GRACE PERIOD DEFINE UNDEFINE VARIABLES PLUGINS SYSTEM TIMEOUT SCHEMA SUBJECT ID`
	for _, k := range strings.Fields(keywords) {
		reserved[k] = true
	}
	for _, k := range strings.Fields(nonReserved) {
		delete(reserved, k)
	}
}

// IsReserved reports whether an upper-case word is reserved in ksqlDB's grammar.
func IsReserved(word string) bool { return reserved[word] }

var windowUnits = map[string]bool{"DAY": true, "HOUR": true, "MINUTE": true, "SECOND": true,
	"MILLISECOND": true, "DAYS": true, "HOURS": true, "MINUTES": true, "SECONDS": true, "MILLISECONDS": true}

// parser is a recursive-descent parser over the tokens of one statement. Errors are raised with panic(
// *sqlerr.Error) and recovered by the exported entry points, which keeps every rule a plain function.
type parser struct {
	toks []token
	i    int
	// test accepts the statements of ksqlDB's test scripts (ASSERT VALUES, ASSERT STREAM|TABLE).
	test bool
}

type bailout struct{ err *sqlerr.Error }

func (p *parser) fail(err *sqlerr.Error) { panic(bailout{err}) }

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) peekN(n int) token {
	if p.i+n < len(p.toks) {
		return p.toks[p.i+n]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) isKw(kw string) bool {
	t := p.peek()
	return t.kind == tIdent && t.val == kw
}

func (p *parser) isKwN(n int, kw string) bool {
	t := p.peekN(n)
	return t.kind == tIdent && t.val == kw
}

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.i++
		return true
	}
	return false
}

func (p *parser) expectKw(kw string) token {
	if !p.isKw(kw) {
		p.expected(kw)
	}
	return p.next()
}

func (p *parser) isOp(op string) bool {
	t := p.peek()
	return t.kind == tOp && t.val == op
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.i++
		return true
	}
	return false
}

// expectOp consumes the operator op or fails with "missing 'op' at <token>", as ksqlDB words it.
func (p *parser) expectOp(op string) token {
	if !p.isOp(op) {
		t := p.peek()
		p.fail(syntaxErr(t.pos, "missing '%s' at %s", op, t.describe()))
	}
	return p.next()
}

// expected fails with "expected <what> but found <token>" at the current token.
func (p *parser) expected(what string) {
	t := p.peek()
	p.fail(syntaxErr(t.pos, "expected %s but found %s", what, t.describe()))
}

// ---------------------------------------------------------------------------------------------------------
// Statements

func (p *parser) statement() Statement {
	t := p.peek()
	if t.kind != tIdent {
		p.expected("a statement")
	}
	switch t.val {
	case "SELECT":
		return &QueryStatement{P: t.pos, Query: p.query()}
	case "CREATE":
		return p.create()
	case "INSERT":
		return p.insert()
	case "DROP":
		return p.drop()
	case "SET":
		p.next()
		name := p.stringOrVariable()
		p.expectOp("=")
		return &SetProperty{P: t.pos, Name: name, Value: p.stringOrVariable()}
	case "UNSET":
		p.next()
		return &UnsetProperty{P: t.pos, Name: p.stringOrVariable()}
	case "DEFINE":
		p.next()
		name := p.identifier()
		p.expectOp("=")
		v := p.peek()
		if v.kind != tString {
			p.expected("a string literal")
		}
		p.next()
		return &DefineVariable{P: t.pos, Name: name.Name, Value: v.val}
	case "UNDEFINE":
		p.next()
		return &UndefineVariable{P: t.pos, Name: p.identifier().Name}
	case "TERMINATE":
		p.next()
		if p.acceptKw("ALL") {
			return &Terminate{P: t.pos, All: true}
		}
		return &Terminate{P: t.pos, QueryID: p.identifier().Name}
	case "SHOW", "LIST":
		return p.list()
	case "DESCRIBE":
		return p.describe()
	case "EXPLAIN":
		p.next()
		n := p.peek()
		if n.kind == tIdent && (reserved[n.val] || n.val == "SHOW" || n.val == "EXPLAIN" || n.val == "SET" ||
			n.val == "DEFINE" || n.val == "ALTER") {
			return &Explain{P: t.pos, Statement: p.statement()}
		}
		return &Explain{P: t.pos, QueryID: p.identifier().Name}
	case "PRINT":
		return p.print()
	case "ALTER":
		return p.alter()
	case "ASSERT":
		return p.assert()
	}
	p.fail(syntaxErr(t.pos, "Unknown statement '%s'", t.raw))
	return nil
}

func (p *parser) stringOrVariable() string {
	t := p.peek()
	if t.kind != tString {
		p.expected("a string literal")
	}
	p.next()
	return t.val
}

func (p *parser) sourceKind() SourceKind {
	switch {
	case p.acceptKw("STREAM"):
		return Stream
	case p.acceptKw("TABLE"):
		return Table
	}
	p.expected("STREAM or TABLE")
	return 0
}

func (p *parser) create() Statement {
	start := p.expectKw("CREATE").pos
	orReplace := false
	if p.acceptKw("OR") {
		p.expectKw("REPLACE")
		orReplace = true
	}
	if p.isKw("TYPE") {
		p.next()
		ct := &CreateType{P: start}
		if p.acceptKw("IF") {
			p.expectKw("NOT")
			p.expectKw("EXISTS")
			ct.IfNotExists = true
		}
		ct.Name = p.identifier()
		p.expectKw("AS")
		ct.Type = p.typeExpr()
		return ct
	}
	source := p.acceptKw("SOURCE")
	if source && (p.isKw("CONNECTOR") || p.isKw("SINK")) {
		p.fail(sqlerr.New(sqlerr.Unsupported, start, "connectors are not supported"))
	}
	kind := p.sourceKind()
	ifNotExists := false
	if p.acceptKw("IF") {
		p.expectKw("NOT")
		p.expectKw("EXISTS")
		ifNotExists = true
	}
	name := p.sourceName()
	var elems []TableElement
	if p.isOp("(") {
		elems = p.tableElements()
	}
	var props Properties
	if p.acceptKw("WITH") {
		props = p.properties()
	}
	if p.isKw("AS") && elems == nil && !source {
		p.next()
		return &CreateAsSelect{P: start, Kind: kind, OrReplace: orReplace, IfNotExists: ifNotExists, Name: name,
			Props: props, Query: p.query()}
	}
	return &CreateSource{P: start, Kind: kind, OrReplace: orReplace, IfNotExists: ifNotExists, Source: source,
		Name: name, Elements: elems, Props: props}
}

func (p *parser) tableElements() []TableElement {
	p.expectOp("(")
	var out []TableElement
	for {
		out = append(out, p.tableElement())
		if p.acceptOp(",") {
			continue
		}
		if !p.isOp(")") {
			p.fail(syntaxErr(p.peek().pos, "Expecting {',', ')'}"))
		}
		p.next()
		return out
	}
}

func (p *parser) tableElement() TableElement {
	e := TableElement{Name: p.identifier(), Type: p.typeExpr()}
	switch {
	case p.acceptKw("PRIMARY"):
		p.expectKw("KEY")
		e.Constraint = ConstraintPrimaryKey
	case p.acceptKw("KEY"):
		e.Constraint = ConstraintKey
	case p.acceptKw("HEADERS"):
		e.Constraint = ConstraintHeaders
	case p.acceptKw("HEADER"):
		p.expectOp("(")
		t := p.peek()
		if t.kind != tString {
			p.expected("a string literal")
		}
		p.next()
		p.expectOp(")")
		e.Constraint, e.HeaderKey = ConstraintHeader, t.val
	}
	return e
}

func (p *parser) properties() Properties {
	p.expectOp("(")
	var out Properties
	for {
		t := p.peek()
		var name string
		switch t.kind {
		case tString:
			p.next()
			name = strings.ToUpper(t.val)
		default:
			name = strings.ToUpper(p.identifier().Name)
		}
		p.expectOp("=")
		out = append(out, Property{P: t.pos, Name: name, Value: p.literal()})
		if p.acceptOp(",") {
			continue
		}
		p.expectOp(")")
		return out
	}
}

// literal parses NULL, a (signed) number, TRUE/FALSE or a string.
func (p *parser) literal() *Literal {
	t := p.peek()
	neg := false
	if t.kind == tOp && t.val == "-" {
		p.next()
		neg = true
	}
	n := p.peek()
	switch n.kind {
	case tInteger, tDecimal, tFloat:
		p.next()
		v := n.val
		if neg {
			v = "-" + v
		}
		return &Literal{P: t.pos, Kind: numberKind(n.kind), Value: v}
	}
	if neg {
		p.expected("a number")
	}
	switch {
	case t.kind == tString:
		p.next()
		return &Literal{P: t.pos, Kind: LitString, Value: t.val}
	case p.isKw("NULL"):
		p.next()
		return &Literal{P: t.pos, Kind: LitNull, Value: "NULL"}
	case p.isKw("TRUE") || p.isKw("FALSE"):
		p.next()
		return &Literal{P: t.pos, Kind: LitBoolean, Value: t.val}
	}
	p.expected("a literal")
	return nil
}

func numberKind(k tokKind) LiteralKind {
	switch k {
	case tDecimal:
		return LitDecimal
	case tFloat:
		return LitDouble
	}
	return LitInteger
}

func (p *parser) insert() Statement {
	start := p.expectKw("INSERT").pos
	p.expectKw("INTO")
	target := p.sourceName()
	if p.isKw("VALUES") || p.isOp("(") {
		iv := &InsertValues{P: start, Target: target}
		if p.acceptOp("(") {
			for {
				iv.Columns = append(iv.Columns, p.identifier())
				if p.acceptOp(",") {
					continue
				}
				p.expectOp(")")
				break
			}
		}
		p.expectKw("VALUES")
		iv.Values = p.valuesList()
		return iv
	}
	ii := &InsertInto{P: start, Target: target}
	if p.acceptKw("WITH") {
		ii.Props = p.properties()
	}
	if !p.isKw("SELECT") {
		p.expected("SELECT or VALUES")
	}
	ii.Query = p.query()
	return ii
}

func (p *parser) valuesList() []Expr {
	p.expectOp("(")
	var out []Expr
	if p.acceptOp(")") {
		return out
	}
	for {
		out = append(out, p.valueExpr())
		if p.acceptOp(",") {
			continue
		}
		p.expectOp(")")
		return out
	}
}

func (p *parser) drop() Statement {
	start := p.expectKw("DROP").pos
	if p.acceptKw("TYPE") {
		dt := &DropType{P: start}
		if p.acceptKw("IF") {
			p.expectKw("EXISTS")
			dt.IfExists = true
		}
		dt.Name = p.identifier()
		return dt
	}
	if p.isKw("CONNECTOR") {
		p.fail(sqlerr.New(sqlerr.Unsupported, start, "connectors are not supported"))
	}
	ds := &DropSource{P: start, Kind: p.sourceKind()}
	if p.acceptKw("IF") {
		p.expectKw("EXISTS")
		ds.IfExists = true
	}
	ds.Name = p.sourceName()
	if p.acceptKw("DELETE") {
		p.expectKw("TOPIC")
		ds.DeleteTopic = true
	}
	return ds
}

func (p *parser) list() Statement {
	start := p.next().pos
	l := &List{P: start}
	if p.acceptKw("ALL") {
		l.All = true
		if !p.isKw("TOPICS") {
			p.expected("TOPICS")
		}
	}
	if p.acceptKw("SOURCE") || p.acceptKw("SINK") {
		if !p.isKw("CONNECTORS") {
			p.expected("CONNECTORS")
		}
	}
	t := p.peek()
	switch {
	case t.kind == tIdent && (t.val == "STREAMS" || t.val == "TABLES" || t.val == "TOPICS" ||
		t.val == "QUERIES" || t.val == "PROPERTIES" || t.val == "FUNCTIONS" || t.val == "TYPES" ||
		t.val == "VARIABLES" || t.val == "CONNECTORS"):
		p.next()
		l.What = t.val
	case p.isKw("CONNECTOR") && p.isKwN(1, "PLUGINS"):
		p.next()
		p.next()
		l.What = "CONNECTOR PLUGINS"
	default:
		p.expected("STREAMS, TABLES, TOPICS, QUERIES, PROPERTIES, FUNCTIONS, TYPES, VARIABLES or CONNECTORS")
	}
	l.Extended = p.acceptKw("EXTENDED")
	return l
}

func (p *parser) describe() Statement {
	start := p.expectKw("DESCRIBE").pos
	d := &Describe{P: start, What: "SOURCE"}
	switch {
	case p.isKw("STREAMS") || p.isKw("TABLES"):
		d.What = p.next().val
	case p.isKw("FUNCTION") && p.peekN(1).kind != tEOF:
		p.next()
		d.What = "FUNCTION"
		d.Name = p.identifier()
	case p.isKw("CONNECTOR") && p.peekN(1).kind != tEOF:
		p.next()
		d.What = "CONNECTOR"
		d.Name = p.identifier()
	default:
		d.Name = p.identifier()
	}
	d.Extended = p.acceptKw("EXTENDED")
	return d
}

func (p *parser) print() Statement {
	start := p.expectKw("PRINT").pos
	pr := &Print{P: start, Limit: NoLimit}
	t := p.peek()
	if t.kind == tString {
		p.next()
		pr.Topic = t.val
	} else {
		pr.Topic = p.identifier().Name
	}
	if p.acceptKw("FROM") {
		p.expectKw("BEGINNING")
		pr.FromBeginning = true
	}
	if p.acceptKw("INTERVAL") || p.acceptKw("SAMPLE") {
		pr.Interval = p.integer()
	}
	if p.acceptKw("LIMIT") {
		pr.Limit = p.integer()
	}
	return pr
}

func (p *parser) alter() Statement {
	start := p.expectKw("ALTER").pos
	if p.acceptKw("SYSTEM") {
		name := p.stringOrVariable()
		p.expectOp("=")
		return &AlterSystem{P: start, Name: name, Value: p.stringOrVariable()}
	}
	a := &AlterSource{P: start, Kind: p.sourceKind(), Name: p.identifier()}
	for {
		p.expectKw("ADD")
		p.acceptKw("COLUMN")
		a.Columns = append(a.Columns, TableElement{Name: p.identifier(), Type: p.typeExpr()})
		if !p.acceptOp(",") {
			return a
		}
	}
}

func (p *parser) assert() Statement {
	start := p.expectKw("ASSERT").pos
	if t := p.peek(); !p.test && (p.isKw("VALUES") || p.isKw("NULL") || p.isKw("STREAM") || p.isKw("TABLE")) {
		p.fail(syntaxErr(t.pos, "Syntax error at or near %s at line %s: ASSERT %s is only allowed in test scripts", t.describe(), t.pos, t.val))
	}
	switch {
	case p.isKw("VALUES") || p.isKw("NULL"):
		av := &AssertValues{P: start}
		if p.acceptKw("NULL") {
			av.Tombstone = true
		}
		p.expectKw("VALUES")
		av.Target = p.identifier()
		if p.acceptOp("(") {
			for {
				av.Columns = append(av.Columns, p.identifier())
				if p.acceptOp(",") {
					continue
				}
				p.expectOp(")")
				break
			}
		}
		if av.Tombstone {
			p.expectKw("KEY")
		} else {
			p.expectKw("VALUES")
		}
		av.Values = p.valuesList()
		return av
	case p.isKw("STREAM") || p.isKw("TABLE"):
		as := &AssertSource{P: start, Kind: p.sourceKind(), Name: p.identifier()}
		if p.isOp("(") {
			as.Elements = p.tableElements()
		}
		if p.acceptKw("WITH") {
			as.Props = p.properties()
		}
		return as
	}
	p.fail(sqlerr.New(sqlerr.Unsupported, start, "ASSERT TOPIC and ASSERT SCHEMA are not supported"))
	return nil
}

func (p *parser) integer() int64 {
	t := p.peek()
	neg := false
	if t.kind == tOp && t.val == "-" {
		p.next()
		neg = true
	}
	n := p.peek()
	if n.kind != tInteger {
		p.expected("an integer")
	}
	p.next()
	v, err := strconv.ParseInt(n.val, 10, 64)
	if err != nil {
		p.fail(syntaxErr(n.pos, "integer out of range: %s", n.val))
	}
	if neg {
		v = -v
	}
	return v
}

// identifier parses an identifier: unquoted (upper-cased; reserved words are rejected), back- or
// double-quoted (case preserved), or a digit identifier (1abc).
func (p *parser) identifier() Ident {
	t := p.peek()
	switch t.kind {
	case tIdent:
		if reserved[t.val] {
			p.fail(syntaxErr(t.pos, "Syntax error at or near %s at line %s: expected an identifier but found a reserved word (quote it with back quotes to use it as a name)", t.describe(), t.pos))
		}
		p.next()
		return Ident{P: t.pos, Name: t.val}
	case tQuotedIdent:
		p.next()
		return Ident{P: t.pos, Name: t.val, Quoted: true}
	case tDigitIdent:
		p.next()
		return Ident{P: t.pos, Name: t.val}
	case tVariable:
		p.fail(syntaxErr(t.pos, "undefined variable '%s'", t.val))
	}
	p.expected("an identifier")
	return Ident{}
}

func (p *parser) isIdentifierStart() bool {
	t := p.peek()
	switch t.kind {
	case tIdent:
		return !reserved[t.val]
	case tQuotedIdent, tDigitIdent:
		return true
	}
	return false
}

// typeExpr parses a type: ARRAY<t>, MAP<k, v>, STRUCT<name t, ...>, DECIMAL(p, s), or a base/custom type
// name with optional parameters, and ksqlDB's postfix "t ARRAY".
func (p *parser) typeExpr() *TypeExpr {
	t := p.peek()
	var te *TypeExpr
	switch {
	case p.isKw("ARRAY") && p.peekN(1).kind == tOp && p.peekN(1).val == "<":
		p.next()
		p.next()
		te = &TypeExpr{P: t.pos, Base: "ARRAY", Elem: p.typeExpr()}
		p.closeAngle()
	case p.isKw("MAP") && p.peekN(1).kind == tOp && p.peekN(1).val == "<":
		p.next()
		p.next()
		te = &TypeExpr{P: t.pos, Base: "MAP", Key: p.typeExpr()}
		p.expectOp(",")
		te.Elem = p.typeExpr()
		p.closeAngle()
	case p.isKw("STRUCT") && p.peekN(1).kind == tOp && p.peekN(1).val == "<":
		p.next()
		p.next()
		te = &TypeExpr{P: t.pos, Base: "STRUCT"}
		if !p.isOp(">") {
			for {
				name := p.identifier()
				te.Fields = append(te.Fields, TypeField{Name: name, Type: p.typeExpr()})
				if !p.acceptOp(",") {
					break
				}
			}
		}
		p.closeAngle()
	case p.isKw("DECIMAL"):
		p.next()
		te = &TypeExpr{P: t.pos, Base: "DECIMAL"}
		p.expectOp("(")
		te.Params = append(te.Params, int(p.integer()))
		p.expectOp(",")
		te.Params = append(te.Params, int(p.integer()))
		p.expectOp(")")
	default:
		name := p.identifier()
		te = &TypeExpr{P: t.pos, Base: name.Name}
		if p.acceptOp("(") {
			for {
				n := p.peek()
				switch {
				case n.kind == tInteger:
					te.Params = append(te.Params, int(p.integer()))
				case n.kind == tIdent && n.val == "STRING":
					p.next()
				default:
					p.fail(syntaxErr(n.pos, "Expecting {'STRING', INTEGER_VALUE}"))
				}
				if p.acceptOp(",") {
					continue
				}
				if !p.isOp(")") {
					n := p.peek()
					p.fail(syntaxErr(n.pos, "Expecting {',', ')'}"))
				}
				p.next()
				break
			}
		}
	}
	for p.isKw("ARRAY") && !(p.peekN(1).kind == tOp && p.peekN(1).val == "<") {
		at := p.next()
		te = &TypeExpr{P: at.pos, Base: "ARRAY", Elem: te}
	}
	return te
}

// closeAngle consumes a '>' that closes a type; ">=" cannot appear here, so only '>' is accepted.
func (p *parser) closeAngle() {
	p.expectOp(">")
}

// ---------------------------------------------------------------------------------------------------------
// Query

func (p *parser) query() *Query {
	start := p.expectKw("SELECT").pos
	q := &Query{P: start, Limit: NoLimit}
	for {
		q.Select = append(q.Select, p.selectItem())
		if !p.acceptOp(",") {
			break
		}
	}
	p.expectKw("FROM")
	q.From = p.from()
	if p.acceptKw("WINDOW") {
		q.Window = p.window()
	}
	if p.acceptKw("WHERE") {
		q.Where = p.expr()
	}
	if p.isKw("GROUP") {
		at := p.next().pos
		p.expectKw("BY")
		q.GroupBy = p.exprList()
		p.checkGrouping("GROUP BY", at, q.GroupBy)
	}
	if p.isKw("PARTITION") {
		at := p.next().pos
		p.expectKw("BY")
		q.PartitionBy = p.exprList()
		p.checkGrouping("PARTITION BY", at, q.PartitionBy)
	}
	if p.acceptKw("HAVING") {
		q.Having = p.expr()
	}
	if p.acceptKw("EMIT") {
		switch {
		case p.acceptKw("CHANGES"):
			q.Emit = EmitChanges
		case p.acceptKw("FINAL"):
			q.Emit = EmitFinal
		default:
			p.expected("CHANGES or FINAL")
		}
	}
	if p.acceptKw("LIMIT") {
		if t := p.peek(); t.kind == tDecimal || t.kind == tFloat {
			p.fail(sqlerr.New(sqlerr.Semantic, t.pos, "Failed to prepare statement: Value must be integer for command: LIMIT"))
		}
		q.Limit = p.integer()
	}
	return q
}

// checkGrouping applies the rules ksqlDB's GROUP BY and PARTITION BY nodes check as they are built: at
// least one expression (an empty "()" is grammatical but refused), and no expression twice as written.
func (p *parser) checkGrouping(clause string, at sqlerr.Pos, list []Expr) {
	if len(list) == 0 {
		p.fail(sqlerr.New(sqlerr.Semantic, at, "Failed to prepare statement: %s requires at least one expression", clause))
	}
	seen := map[string]bool{}
	for _, e := range list {
		f := FormatExpr(e)
		if seen[f] {
			p.fail(sqlerr.New(sqlerr.Semantic, e.Position(), "Failed to prepare statement: Duplicate %s expression: %s", clause, f))
		}
		seen[f] = true
	}
}

// exprList parses "e, e, ..." or "(e, e, ...)" for GROUP BY and PARTITION BY.
func (p *parser) exprList() []Expr {
	if p.isOp("(") {
		save := p.i
		p.next()
		if p.acceptOp(")") {
			return []Expr{}
		}
		list := []Expr{p.valueExpr()}
		for p.acceptOp(",") {
			list = append(list, p.valueExpr())
		}
		if p.acceptOp(")") && p.atClauseEnd() {
			return list
		}
		p.i = save
	}
	var out []Expr
	for {
		out = append(out, p.valueExpr())
		if !p.acceptOp(",") {
			return out
		}
	}
}

func (p *parser) selectItem() SelectItem {
	t := p.peek()
	if p.acceptOp("*") {
		return SelectItem{Kind: SelectStar, P: t.pos}
	}
	if p.isIdentifierStart() && p.peekN(1).kind == tOp && p.peekN(1).val == "." &&
		p.peekN(2).kind == tOp && p.peekN(2).val == "*" {
		src := p.identifier()
		p.next()
		p.next()
		return SelectItem{Kind: SelectSourceStar, Source: src, P: t.pos}
	}
	e := p.expr()
	if d, ok := e.(*structStar); ok {
		return SelectItem{Kind: SelectStructStar, Expr: d.base, P: t.pos}
	}
	item := SelectItem{Kind: SelectExpr, Expr: e, P: t.pos}
	if p.acceptKw("AS") {
		id := p.identifier()
		item.Alias = &id
	} else if p.isAliasStart() {
		id := p.identifier()
		item.Alias = &id
	}
	return item
}

// atClauseEnd reports whether the next token ends a GROUP BY / PARTITION BY list.
func (p *parser) atClauseEnd() bool {
	t := p.peek()
	if t.kind == tEOF {
		return true
	}
	for _, kw := range []string{"PARTITION", "HAVING", "EMIT", "LIMIT", "GROUP", "WINDOW"} {
		if p.isKw(kw) {
			return true
		}
	}
	return false
}

// isAliasStart reports whether the next token starts an alias written without AS: an identifier that is not
// a non-reserved keyword starting the next clause (EMIT CHANGES, PARTITION BY).
func (p *parser) isAliasStart() bool {
	if !p.isIdentifierStart() {
		return false
	}
	switch {
	case p.isKw("EMIT") && (p.isKwN(1, "CHANGES") || p.isKwN(1, "FINAL")):
		return false
	case p.isKw("PARTITION") && p.isKwN(1, "BY"):
		return false
	}
	return true
}

// structStar is the transient parse of "expr->*", only valid as a select item.
type structStar struct {
	P    Pos
	base Expr
}

func (s *structStar) Position() Pos { return s.P }
func (*structStar) expr()           {}

func (p *parser) from() *From {
	f := &From{Source: p.aliasedSource()}
	for {
		t := p.peek()
		jt := InnerJoin
		switch {
		case p.isKw("JOIN"):
		case p.isKw("INNER"):
			p.next()
		case p.isKw("LEFT"):
			p.next()
			p.acceptKw("OUTER")
			jt = LeftJoin
		case p.isKw("RIGHT"):
			p.next()
			p.acceptKw("OUTER")
			jt = RightJoin
		case p.isKw("FULL"):
			p.next()
			p.acceptKw("OUTER")
			jt = FullJoin
		case p.isKw("OUTER"):
			p.next()
			jt = FullJoin
		default:
			return f
		}
		p.expectKw("JOIN")
		j := Join{P: t.pos, Type: jt, Right: p.aliasedSource()}
		if p.acceptKw("WITHIN") {
			j.Within = p.within()
		}
		p.expectKw("ON")
		j.On = p.expr()
		f.Joins = append(f.Joins, j)
	}
}

func (p *parser) aliasedSource() AliasedSource {
	a := AliasedSource{Name: p.sourceName()}
	if p.acceptKw("AS") {
		id := p.sourceName()
		a.Alias = &id
	} else if p.isAliasStart() {
		id := p.sourceName()
		a.Alias = &id
	}
	return a
}

// sourceName parses the name of a stream or table (or an alias of one). As in ksqlDB, it may only hold
// the characters of a Kafka topic name, even quoted: letters, digits, '_' and '-'.
func (p *parser) sourceName() Ident {
	id := p.identifier()
	for _, r := range id.Name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			p.fail(syntaxErr(id.P, "Illegal argument at Line: %d, Col: %d. Source names may only contain alphanumeric values, '_' or '-'. Got: '%s'",
				id.P.Line, id.P.Col, id.Name))
		}
	}
	return id
}

func (p *parser) duration() Duration {
	n := p.integer()
	t := p.peek()
	if t.kind != tIdent || !windowUnits[t.val] {
		p.expected("a time unit (MILLISECONDS, SECONDS, MINUTES, HOURS, DAYS)")
	}
	p.next()
	return Duration{N: n, Unit: t.val}
}

func (p *parser) grace() *Duration {
	if p.isKw("GRACE") {
		p.next()
		p.expectKw("PERIOD")
		d := p.duration()
		return &d
	}
	return nil
}

func (p *parser) within() *Within {
	w := &Within{}
	if p.acceptOp("(") {
		w.Before = p.duration()
		p.expectOp(",")
		w.After = p.duration()
		p.expectOp(")")
	} else {
		w.Before = p.duration()
		w.After = w.Before
	}
	w.Grace = p.grace()
	return w
}

func (p *parser) window() *Window {
	t := p.peek()
	// ksqlDB allows an optional identifier before the window kind.
	if t.kind == tIdent && !reserved[t.val] && p.peekN(1).kind == tIdent {
		p.next()
		t = p.peek()
	}
	w := &Window{P: t.pos}
	switch {
	case p.acceptKw("TUMBLING"):
		w.Kind = Tumbling
	case p.acceptKw("HOPPING"):
		w.Kind = Hopping
	case p.acceptKw("SESSION"):
		w.Kind = Session
	default:
		p.expected("TUMBLING, HOPPING or SESSION")
	}
	p.expectOp("(")
	if w.Kind != Session {
		p.expectKw("SIZE")
	}
	w.Size = p.duration()
	if w.Kind == Hopping {
		p.expectOp(",")
		p.expectKw("ADVANCE")
		p.expectKw("BY")
		w.Advance = p.duration()
	}
	for p.acceptOp(",") {
		switch {
		case p.acceptKw("RETENTION"):
			if w.Retention != nil || w.Grace != nil {
				p.expected("GRACE PERIOD")
			}
			d := p.duration()
			w.Retention = &d
		case p.isKw("GRACE"):
			if w.Grace != nil {
				p.expected("')'")
			}
			w.Grace = p.grace()
		default:
			p.expected("RETENTION or GRACE PERIOD")
		}
	}
	p.expectOp(")")
	return w
}

// ---------------------------------------------------------------------------------------------------------
// Entry points

// parseTokens parses one statement from toks, which must end at EOF.
func parseTokens(toks []token, test bool) (stmt Statement, err error) {
	p := &parser{toks: toks, test: test}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			stmt, err = nil, b.err
		}
	}()
	stmt = p.statement()
	if t := p.peek(); t.kind != tEOF {
		p.fail(syntaxErr(t.pos, "expected ';' or end of statement but found %s", t.describe()))
	}
	return stmt, nil
}

// ParseExpr parses a standalone expression.
func ParseExpr(text string) (e Expr, err error) {
	toks, lerr := tokenize(text, sqlerr.Pos{})
	if lerr != nil {
		return nil, lerr
	}
	p := &parser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			e, err = nil, b.err
		}
	}()
	e = p.expr()
	if t := p.peek(); t.kind != tEOF {
		p.fail(syntaxErr(t.pos, "expected end of expression but found %s", t.describe()))
	}
	return e, nil
}

// Parsed is one statement of a script with its source text.
type Parsed struct {
	Statement Statement
	// Text is the statement's text after variable substitution, without the trailing ';'.
	Text string
}

// Parser parses scripts of ';'-separated statements. It keeps the variables defined by DEFINE and
// substitutes ${name} in the text of every later statement (identifiers, literals and string contents alike,
// as ksqlDB does). The zero Parser is ready to use. A Parser is not safe for concurrent use.
type Parser struct {
	// Vars maps variable names (as written in DEFINE, case-sensitive) to values.
	Vars map[string]string
	// TestStatements accepts the assertions of test scripts (ASSERT VALUES, ASSERT NULL VALUES,
	// ASSERT STREAM|TABLE), which are not statements a server runs.
	TestStatements bool
}

// ParseScript parses every statement of text. It stops at the first error, returning the statements
// parsed before it.
func (ps *Parser) ParseScript(text string) ([]Parsed, error) {
	var out []Parsed
	for _, raw := range splitStatements(text) {
		stmtText, err := ps.substitute(raw.text, raw.pos)
		if err != nil {
			return out, err
		}
		toks, lerr := tokenize(stmtText, raw.pos)
		if lerr != nil {
			return out, withStatement(lerr, stmtText, raw.terminated)
		}
		if len(toks) == 1 { // only EOF: an empty statement between ';'
			continue
		}
		stmt, err := parseTokens(toks, ps.TestStatements)
		if err != nil {
			return out, withStatement(err, stmtText, raw.terminated)
		}
		switch s := stmt.(type) {
		case *DefineVariable:
			if ps.Vars == nil {
				ps.Vars = map[string]string{}
			}
			ps.Vars[s.Name] = s.Value
		case *UndefineVariable:
			delete(ps.Vars, s.Name)
		}
		out = append(out, Parsed{Statement: stmt, Text: strings.TrimSpace(stmtText)})
	}
	return out, nil
}

// ParseStatements parses a script with no predefined variables.
func ParseStatements(text string) ([]Parsed, error) {
	var ps Parser
	return ps.ParseScript(text)
}

// ParseStatement parses exactly one statement (a trailing ';' is optional).
func ParseStatement(text string) (Statement, error) {
	parsed, err := ParseStatements(text)
	if err != nil {
		return nil, err
	}
	if len(parsed) != 1 {
		return nil, sqlerr.New(sqlerr.Syntax, sqlerr.Pos{Line: 1, Col: 1}, "Syntax Error\nexpected exactly one statement, found %d", len(parsed))
	}
	return parsed[0].Statement, nil
}

func (ps *Parser) substitute(text string, pos sqlerr.Pos) (string, error) {
	if !strings.Contains(text, "${") {
		return text, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(text, "${")
		if i < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		j := strings.IndexByte(text[i:], '}')
		if j < 0 {
			b.WriteString(text)
			return b.String(), nil
		}
		name := text[i+2 : i+j]
		v, ok := ps.Vars[name]
		if !ok {
			// ksqlDB matches variable names case-insensitively.
			for k, val := range ps.Vars {
				if strings.EqualFold(k, name) {
					v, ok = val, true
					break
				}
			}
		}
		if !ok {
			return "", sqlerr.New(sqlerr.Syntax, pos, "Unable to substitute variable: %s", name)
		}
		b.WriteString(text[:i])
		b.WriteString(v)
		text = text[i+j+1:]
	}
}

type rawStatement struct {
	text string
	pos  sqlerr.Pos
	// terminated is whether the statement ended with ';'.
	terminated bool
}

// withStatement attaches the statement's text to a syntax error, which ksqlDB quotes on the error's last
// line.
func withStatement(err error, text string, terminated bool) error {
	se, ok := err.(*sqlerr.Error)
	if !ok || se.Code != sqlerr.Syntax || se.Statement != "" {
		return err
	}
	cp := *se
	cp.Statement = strings.TrimSpace(text)
	if terminated {
		cp.Statement += ";"
	}
	return &cp
}

// splitStatements splits text at the ';' that are outside strings, quoted identifiers and comments.
func splitStatements(text string) []rawStatement {
	var out []rawStatement
	line, col := 1, 1
	start, startLine, startCol := 0, 1, 1
	for i := 0; i < len(text); {
		c := text[i]
		adv := func(n int) {
			for k := 0; k < n && i < len(text); k++ {
				if text[i] == '\n' {
					line++
					col = 1
				} else if text[i]&0xC0 != 0x80 {
					col++
				}
				i++
			}
		}
		switch {
		case c == '\'' || c == '`' || c == '"':
			adv(1)
			for i < len(text) {
				if text[i] == c {
					if i+1 < len(text) && text[i+1] == c {
						adv(2)
						continue
					}
					break
				}
				adv(1)
			}
			adv(1)
		case c == '-' && i+1 < len(text) && text[i+1] == '-':
			for i < len(text) && text[i] != '\n' {
				adv(1)
			}
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			adv(2)
			for i < len(text) && !(text[i] == '*' && i+1 < len(text) && text[i+1] == '/') {
				adv(1)
			}
			adv(2)
		case c == ';':
			out = append(out, rawStatement{text: text[start:i], pos: sqlerr.Pos{Line: startLine, Col: startCol, Offset: start}, terminated: true})
			adv(1)
			start, startLine, startCol = i, line, col
		default:
			adv(1)
		}
	}
	if strings.TrimSpace(text[start:]) != "" {
		out = append(out, rawStatement{text: text[start:], pos: sqlerr.Pos{Line: startLine, Col: startCol, Offset: start}})
	}
	return out
}

var _ = fmt.Sprintf
