// Package sqlerr defines the error type shared by every stage of the SQL front end (parser, analyzer,
// expression compiler, functions, formats).
//
// Every error carries a stable Code that callers (the REST API, the shell, the conformance runner) may
// switch on, and, when it comes from SQL text, the line and column (both 1-based) where it was detected.
// The message says what was expected where that is known.
package sqlerr

import (
	"errors"
	"fmt"
)

// Code is a stable, machine-readable error kind. Codes are never renumbered or reused.
type Code string

const (
	// Syntax: the text is not a valid statement.
	Syntax Code = "SQL0001"
	// UnknownSource: a stream, table or type that does not exist.
	UnknownSource Code = "SQL0101"
	// UnknownColumn: a column that no source in scope defines.
	UnknownColumn Code = "SQL0102"
	// AmbiguousColumn: an unqualified column that several sources define.
	AmbiguousColumn Code = "SQL0103"
	// UnknownFunction: a function name that is not registered.
	UnknownFunction Code = "SQL0104"
	// UnknownType: a type name that is neither built in nor registered with CREATE TYPE.
	UnknownType Code = "SQL0105"
	// SourceExists: CREATE of a name that already exists (without IF NOT EXISTS / OR REPLACE).
	SourceExists Code = "SQL0106"
	// Type: an expression whose operand types do not fit the operator or function.
	Type Code = "SQL0201"
	// InvalidArguments: a function called with arguments none of its signatures accept.
	InvalidArguments Code = "SQL0202"
	// Semantic: a statement that is well-typed but not allowed (e.g. a non-aggregate column not in GROUP BY).
	Semantic Code = "SQL0301"
	// Property: an invalid or missing WITH property.
	Property Code = "SQL0302"
	// Unsupported: valid ksqlDB that Seiche does not implement yet.
	Unsupported Code = "SQL0401"
	// Eval: an error evaluating an expression for one record.
	Eval Code = "SQL0501"
	// Serde: a record that cannot be serialized or deserialized in its format.
	Serde Code = "SQL0601"
)

// Pos is a position in SQL text. Line and Col are 1-based; the zero Pos means "no position".
type Pos struct {
	Line, Col int
	// Offset is the 0-based byte offset in the statement text.
	Offset int
}

// IsValid reports whether p names a position.
func (p Pos) IsValid() bool { return p.Line > 0 }

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Error is a SQL front-end error.
type Error struct {
	Code Code
	Pos  Pos
	Msg  string
	// Err is the underlying cause, if any.
	Err error
	// Statement is the text of the statement the error is about, when the message should quote it; it is
	// rendered on a last line "Statement: <text>", as ksqlDB does for syntax errors.
	Statement string
	// Prefix names the stage that failed, when the message should say so before the position, as
	// ksqlDB's "Exception while preparing statement: Line: 3, Col: 84: ...".
	Prefix string
}

// Error renders the position the way ksqlDB words it: syntax errors read
// "line L:C: Syntax Error\nexpected X but found 'Y'\nStatement: <text>", every other error with a
// position "Line: L, Col: C: message".
func (e *Error) Error() string {
	msg := e.Msg
	if e.Statement != "" {
		msg += "\nStatement: " + e.Statement
	}
	switch {
	case !e.Pos.IsValid():
		return e.Prefix + msg
	case e.Code == Syntax:
		return fmt.Sprintf("%sline %d:%d: %s", e.Prefix, e.Pos.Line, e.Pos.Col, msg)
	default:
		return fmt.Sprintf("%sLine: %d, Col: %d: %s", e.Prefix, e.Pos.Line, e.Pos.Col, msg)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with code c at pos.
func New(c Code, pos Pos, format string, args ...any) *Error {
	return &Error{Code: c, Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// CodeOf returns the Code of the first *Error in err's chain, or "" if there is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
