package parser

import (
	"github.com/seichedb/seiche/sql/sqlerr"
)

// Pos is a position in the SQL text.
type Pos = sqlerr.Pos

// Node is any AST node.
type Node interface {
	Position() Pos
}

// ---------------------------------------------------------------------------------------------------------
// Statements

// Statement is a parsed statement.
type Statement interface {
	Node
	stmt()
}

// SourceKind is STREAM or TABLE.
type SourceKind uint8

const (
	Stream SourceKind = iota
	Table
)

func (k SourceKind) String() string {
	if k == Table {
		return "TABLE"
	}
	return "STREAM"
}

// CreateSource is CREATE [OR REPLACE] [SOURCE] STREAM|TABLE [IF NOT EXISTS] name [(elements)] [WITH (...)].
type CreateSource struct {
	P           Pos
	Kind        SourceKind
	OrReplace   bool
	IfNotExists bool
	// Source marks a read-only source (CREATE SOURCE TABLE): materialized for pull queries, no INSERTs.
	Source   bool
	Name     Ident
	Elements []TableElement
	Props    Properties
}

// CreateAsSelect is CREATE [OR REPLACE] STREAM|TABLE [IF NOT EXISTS] name [WITH (...)] AS query.
type CreateAsSelect struct {
	P           Pos
	Kind        SourceKind
	OrReplace   bool
	IfNotExists bool
	Name        Ident
	Props       Properties
	Query       *Query
}

// InsertInto is INSERT INTO name [WITH (...)] query.
type InsertInto struct {
	P      Pos
	Target Ident
	Props  Properties
	Query  *Query
}

// InsertValues is INSERT INTO name [(columns)] VALUES (exprs).
type InsertValues struct {
	P       Pos
	Target  Ident
	Columns []Ident
	Values  []Expr
}

// DropSource is DROP STREAM|TABLE [IF EXISTS] name [DELETE TOPIC].
type DropSource struct {
	P           Pos
	Kind        SourceKind
	IfExists    bool
	Name        Ident
	DeleteTopic bool
}

// CreateType is CREATE TYPE [IF NOT EXISTS] name AS type.
type CreateType struct {
	P           Pos
	IfNotExists bool
	Name        Ident
	Type        *TypeExpr
}

// DropType is DROP TYPE [IF EXISTS] name.
type DropType struct {
	P        Pos
	IfExists bool
	Name     Ident
}

// SetProperty is SET 'name' = 'value'.
type SetProperty struct {
	P           Pos
	Name, Value string
}

// UnsetProperty is UNSET 'name'.
type UnsetProperty struct {
	P    Pos
	Name string
}

// AlterSystem is ALTER SYSTEM 'name' = 'value'.
type AlterSystem struct {
	P           Pos
	Name, Value string
}

// DefineVariable is DEFINE name = 'value'. Variables are substituted for ${name} in later statements
// by Parser.
type DefineVariable struct {
	P           Pos
	Name, Value string
}

// UndefineVariable is UNDEFINE name.
type UndefineVariable struct {
	P    Pos
	Name string
}

// Terminate is TERMINATE query_id | TERMINATE ALL.
type Terminate struct {
	P       Pos
	QueryID string
	All     bool
}

// List is SHOW|LIST STREAMS|TABLES|TOPICS|QUERIES|PROPERTIES|FUNCTIONS|TYPES|VARIABLES|CONNECTORS.
type List struct {
	P        Pos
	What     string
	Extended bool
	All      bool // SHOW ALL TOPICS
}

// Describe is DESCRIBE source [EXTENDED] | DESCRIBE STREAMS|TABLES [EXTENDED] | DESCRIBE FUNCTION f |
// DESCRIBE CONNECTOR c.
type Describe struct {
	P        Pos
	What     string // "SOURCE", "STREAMS", "TABLES", "FUNCTION", "CONNECTOR"
	Name     Ident
	Extended bool
}

// Explain is EXPLAIN statement | EXPLAIN query_id.
type Explain struct {
	P         Pos
	Statement Statement // nil when QueryID is set
	QueryID   string
}

// Print is PRINT topic [FROM BEGINNING] [INTERVAL n] [LIMIT n].
type Print struct {
	P             Pos
	Topic         string
	FromBeginning bool
	Interval      int64
	Limit         int64 // NoLimit when absent
}

// QueryStatement is a bare SELECT: a push query (EMIT CHANGES) or a pull query.
type QueryStatement struct {
	P     Pos
	Query *Query
}

// AlterSource is ALTER STREAM|TABLE name ADD [COLUMN] c type, ...
type AlterSource struct {
	P       Pos
	Kind    SourceKind
	Name    Ident
	Columns []TableElement
}

// AssertValues is ASSERT VALUES / ASSERT NULL VALUES (the ksqlDB test runner's statement).
type AssertValues struct {
	P         Pos
	Tombstone bool
	Target    Ident
	Columns   []Ident
	Values    []Expr
}

// AssertSource is ASSERT STREAM|TABLE name (elements) WITH (...).
type AssertSource struct {
	P        Pos
	Kind     SourceKind
	Name     Ident
	Elements []TableElement
	Props    Properties
}

func (s *CreateSource) Position() Pos     { return s.P }
func (s *CreateAsSelect) Position() Pos   { return s.P }
func (s *InsertInto) Position() Pos       { return s.P }
func (s *InsertValues) Position() Pos     { return s.P }
func (s *DropSource) Position() Pos       { return s.P }
func (s *CreateType) Position() Pos       { return s.P }
func (s *DropType) Position() Pos         { return s.P }
func (s *SetProperty) Position() Pos      { return s.P }
func (s *UnsetProperty) Position() Pos    { return s.P }
func (s *AlterSystem) Position() Pos      { return s.P }
func (s *DefineVariable) Position() Pos   { return s.P }
func (s *UndefineVariable) Position() Pos { return s.P }
func (s *Terminate) Position() Pos        { return s.P }
func (s *List) Position() Pos             { return s.P }
func (s *Describe) Position() Pos         { return s.P }
func (s *Explain) Position() Pos          { return s.P }
func (s *Print) Position() Pos            { return s.P }
func (s *QueryStatement) Position() Pos   { return s.P }
func (s *AlterSource) Position() Pos      { return s.P }
func (s *AssertValues) Position() Pos     { return s.P }
func (s *AssertSource) Position() Pos     { return s.P }

func (*CreateSource) stmt()     {}
func (*CreateAsSelect) stmt()   {}
func (*InsertInto) stmt()       {}
func (*InsertValues) stmt()     {}
func (*DropSource) stmt()       {}
func (*CreateType) stmt()       {}
func (*DropType) stmt()         {}
func (*SetProperty) stmt()      {}
func (*UnsetProperty) stmt()    {}
func (*AlterSystem) stmt()      {}
func (*DefineVariable) stmt()   {}
func (*UndefineVariable) stmt() {}
func (*Terminate) stmt()        {}
func (*List) stmt()             {}
func (*Describe) stmt()         {}
func (*Explain) stmt()          {}
func (*Print) stmt()            {}
func (*QueryStatement) stmt()   {}
func (*AlterSource) stmt()      {}
func (*AssertValues) stmt()     {}
func (*AssertSource) stmt()     {}

// Ident is an identifier. Name is upper-cased unless the identifier was quoted.
type Ident struct {
	P      Pos
	Name   string
	Quoted bool
}

// ColumnConstraint is what follows a column's type in a table element.
type ColumnConstraint uint8

const (
	ConstraintNone ColumnConstraint = iota
	ConstraintKey
	ConstraintPrimaryKey
	ConstraintHeaders // HEADERS: all headers, ARRAY<STRUCT<KEY STRING, VALUE BYTES>>
	ConstraintHeader  // HEADER('k'): one header's last value, BYTES
)

// TableElement is a column definition.
type TableElement struct {
	Name       Ident
	Type       *TypeExpr
	Constraint ColumnConstraint
	HeaderKey  string
}

// Property is one WITH (...) entry. Name is upper-cased.
type Property struct {
	P     Pos
	Name  string
	Value *Literal
}

// Properties is a WITH clause.
type Properties []Property

// Get returns the property named name (upper case).
func (ps Properties) Get(name string) (*Literal, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p.Value, true
		}
	}
	return nil, false
}

// TypeExpr is a type as written. Base is the upper-cased base type name (INT, DECIMAL, ARRAY, MAP, STRUCT,
// or a custom type name); custom types are resolved by the analyzer.
type TypeExpr struct {
	P      Pos
	Base   string
	Params []int // DECIMAL(p, s), VARCHAR(n)
	Elem   *TypeExpr
	Key    *TypeExpr
	Fields []TypeField
}

// TypeField is a STRUCT field as written.
type TypeField struct {
	Name Ident
	Type *TypeExpr
}

// ---------------------------------------------------------------------------------------------------------
// Queries

// EmitKind is the EMIT clause.
type EmitKind uint8

const (
	EmitNone EmitKind = iota
	EmitChanges
	EmitFinal
)

// Query is a SELECT.
// NoLimit is the Limit of a query or PRINT without a LIMIT clause. It is not -1, so that a LIMIT -1 that a
// statement writes stays visible (ksqlDB refuses a negative LIMIT with its own message).
const NoLimit int64 = -1 << 63

type Query struct {
	P           Pos
	Select      []SelectItem
	From        *From
	Window      *Window
	Where       Expr
	GroupBy     []Expr
	PartitionBy []Expr
	Having      Expr
	Emit        EmitKind
	Limit       int64 // NoLimit when absent (a written LIMIT may be negative)
}

// SelectKind distinguishes select items.
type SelectKind uint8

const (
	SelectExpr       SelectKind = iota
	SelectStar                  // *
	SelectSourceStar            // src.*
	SelectStructStar            // expr->*
)

// SelectItem is one projection.
type SelectItem struct {
	Kind   SelectKind
	Expr   Expr   // SelectExpr, SelectStructStar
	Alias  *Ident // SelectExpr, optional
	Source Ident  // SelectSourceStar
	P      Pos
}

// AliasedSource is a source in FROM with an optional alias.
type AliasedSource struct {
	Name  Ident
	Alias *Ident
}

// JoinType is the kind of a join.
type JoinType uint8

const (
	InnerJoin JoinType = iota
	LeftJoin
	RightJoin
	FullJoin
)

func (j JoinType) String() string { return [...]string{"INNER", "LEFT", "RIGHT", "FULL"}[j] }

// From is the FROM clause: a source and zero or more joins, left-deep.
type From struct {
	Source AliasedSource
	Joins  []Join
}

// Join is one "[type] JOIN source [WITHIN ...] ON expr".
type Join struct {
	P      Pos
	Type   JoinType
	Right  AliasedSource
	Within *Within
	On     Expr
}

// Within is a join window: WITHIN n unit | WITHIN (before, after), with an optional grace period.
type Within struct {
	Before, After Duration
	Grace         *Duration
}

// Duration is "n unit" as written.
type Duration struct {
	N    int64
	Unit string // upper case, as written (SECOND, SECONDS, ...)
}

// Millis returns the duration in milliseconds.
func (d Duration) Millis() int64 {
	switch d.Unit {
	case "MILLISECOND", "MILLISECONDS":
		return d.N
	case "SECOND", "SECONDS":
		return d.N * 1000
	case "MINUTE", "MINUTES":
		return d.N * 60_000
	case "HOUR", "HOURS":
		return d.N * 3_600_000
	case "DAY", "DAYS":
		return d.N * 86_400_000
	}
	return d.N
}

// WindowKind is TUMBLING, HOPPING or SESSION.
type WindowKind uint8

const (
	Tumbling WindowKind = iota
	Hopping
	Session
)

func (k WindowKind) String() string { return [...]string{"TUMBLING", "HOPPING", "SESSION"}[k] }

// Window is a WINDOW clause.
type Window struct {
	P         Pos
	Kind      WindowKind
	Size      Duration // session: the inactivity gap
	Advance   Duration // hopping only
	Retention *Duration
	Grace     *Duration
}

// ---------------------------------------------------------------------------------------------------------
// Expressions

// Expr is an expression.
type Expr interface {
	Node
	expr()
}

// LiteralKind is the lexical kind of a literal.
type LiteralKind uint8

const (
	LitNull LiteralKind = iota
	LitBoolean
	LitInteger // fits in BIGINT; INT if it fits in 32 bits
	LitDecimal // 1.5: DECIMAL
	LitDouble  // 1.5E0: DOUBLE
	LitString
)

// Literal is a literal value; Value is its text (unescaped for strings, "TRUE"/"FALSE" for booleans).
type Literal struct {
	P     Pos
	Kind  LiteralKind
	Value string
}

// ColumnRef is a column, optionally qualified by a source name or alias.
type ColumnRef struct {
	P         Pos
	Qualifier *Ident
	Name      Ident
}

// Dereference is base->field.
type Dereference struct {
	P     Pos
	Base  Expr
	Field Ident
}

// Subscript is base[index].
type Subscript struct {
	P     Pos
	Base  Expr
	Index Expr
}

// FuncCall is name(args) or name(*).
type FuncCall struct {
	P    Pos
	Name Ident
	Args []Expr
	Star bool
}

// Lambda is x => body or (x, y) => body; only valid as a function argument.
type Lambda struct {
	P      Pos
	Params []Ident
	Body   Expr
}

// IntervalUnit is a time unit used as a function argument (TIMESTAMPADD(SECONDS, 5, ts)).
type IntervalUnit struct {
	P    Pos
	Unit string
}

// Cast is CAST(expr AS type).
type Cast struct {
	P    Pos
	Expr Expr
	Type *TypeExpr
}

// When is one WHEN ... THEN ... of a CASE.
type When struct {
	Cond, Result Expr
}

// Case is CASE [operand] WHEN ... [ELSE ...] END.
type Case struct {
	P       Pos
	Operand Expr // nil for a searched CASE
	Whens   []When
	Else    Expr
}

// BinaryOp is a binary operator.
type BinaryOp uint8

const (
	OpAdd BinaryOp = iota
	OpSub
	OpMul
	OpDiv
	OpMod
	OpConcat
	OpEq
	OpNeq
	OpLt
	OpLte
	OpGt
	OpGte
	OpAnd
	OpOr
	OpIsDistinct
	OpIsNotDistinct
)

var binaryOpText = [...]string{"+", "-", "*", "/", "%", "||", "=", "<>", "<", "<=", ">", ">=", "AND", "OR",
	"IS DISTINCT FROM", "IS NOT DISTINCT FROM"}

func (o BinaryOp) String() string { return binaryOpText[o] }

// IsComparison reports whether o is = <> < <= > >=.
func (o BinaryOp) IsComparison() bool { return o >= OpEq && o <= OpGte }

// Binary is L op R.
type Binary struct {
	P    Pos
	Op   BinaryOp
	L, R Expr
}

// UnaryOp is NOT, - or +.
type UnaryOp uint8

const (
	OpNot UnaryOp = iota
	OpNeg
	OpPlus
)

// Unary is op X.
type Unary struct {
	P  Pos
	Op UnaryOp
	X  Expr
}

// Between is X [NOT] BETWEEN Lo AND Hi.
type Between struct {
	P         Pos
	X, Lo, Hi Expr
	Not       bool
}

// InList is X [NOT] IN (list).
type InList struct {
	P    Pos
	X    Expr
	List []Expr
	Not  bool
}

// Like is X [NOT] LIKE pattern [ESCAPE 'c'].
type Like struct {
	P       Pos
	X       Expr
	Pattern Expr
	Escape  string // empty when absent
	Not     bool
}

// IsNull is X IS [NOT] NULL.
type IsNull struct {
	P   Pos
	X   Expr
	Not bool
}

// ArrayConstructor is ARRAY[e, ...].
type ArrayConstructor struct {
	P     Pos
	Elems []Expr
}

// MapConstructor is MAP(k := v, ...).
type MapConstructor struct {
	P    Pos
	Keys []Expr
	Vals []Expr
}

// StructConstructor is STRUCT(name := v, ...).
type StructConstructor struct {
	P      Pos
	Names  []Ident
	Values []Expr
}

// TypedLiteral is `type 'text'` (ksqlDB's typeConstructor rule), e.g. DATE '2020-01-01'.
type TypedLiteral struct {
	P     Pos
	Type  Ident
	Value string
}

// AtTimeZone is X AT TIME ZONE 'zone'.
type AtTimeZone struct {
	P    Pos
	X    Expr
	Zone string
}

func (e *Literal) Position() Pos           { return e.P }
func (e *ColumnRef) Position() Pos         { return e.P }
func (e *Dereference) Position() Pos       { return e.P }
func (e *Subscript) Position() Pos         { return e.P }
func (e *FuncCall) Position() Pos          { return e.P }
func (e *Lambda) Position() Pos            { return e.P }
func (e *IntervalUnit) Position() Pos      { return e.P }
func (e *Cast) Position() Pos              { return e.P }
func (e *Case) Position() Pos              { return e.P }
func (e *Binary) Position() Pos            { return e.P }
func (e *Unary) Position() Pos             { return e.P }
func (e *Between) Position() Pos           { return e.P }
func (e *InList) Position() Pos            { return e.P }
func (e *Like) Position() Pos              { return e.P }
func (e *IsNull) Position() Pos            { return e.P }
func (e *ArrayConstructor) Position() Pos  { return e.P }
func (e *MapConstructor) Position() Pos    { return e.P }
func (e *StructConstructor) Position() Pos { return e.P }
func (e *TypedLiteral) Position() Pos      { return e.P }
func (e *AtTimeZone) Position() Pos        { return e.P }

func (*Literal) expr()           {}
func (*ColumnRef) expr()         {}
func (*Dereference) expr()       {}
func (*Subscript) expr()         {}
func (*FuncCall) expr()          {}
func (*Lambda) expr()            {}
func (*IntervalUnit) expr()      {}
func (*Cast) expr()              {}
func (*Case) expr()              {}
func (*Binary) expr()            {}
func (*Unary) expr()             {}
func (*Between) expr()           {}
func (*InList) expr()            {}
func (*Like) expr()              {}
func (*IsNull) expr()            {}
func (*ArrayConstructor) expr()  {}
func (*MapConstructor) expr()    {}
func (*StructConstructor) expr() {}
func (*TypedLiteral) expr()      {}
func (*AtTimeZone) expr()        {}
