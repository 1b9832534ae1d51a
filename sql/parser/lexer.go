package parser

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/seichedb/seiche/sql/sqlerr"
)

type tokKind uint8

const (
	tEOF         tokKind = iota
	tIdent               // unquoted identifier or keyword; val is upper-cased
	tQuotedIdent         // `x` or "x"; val is the unescaped, case-preserved name
	tString              // 'x'; val is the unescaped contents
	tInteger             // 123
	tDecimal             // 1.5, .5, 1.
	tFloat               // 1e5, 1.5E-3
	tVariable            // ${x}; val is the variable name
	tDigitIdent          // 1abc (ksqlDB's DIGIT_IDENTIFIER)
	tOp                  // punctuation and operators; val is the operator text
)

type token struct {
	kind tokKind
	val  string
	raw  string // the source text of the token, for error messages
	pos  sqlerr.Pos
}

// describe renders a token for "but found X" messages.
func (t token) describe() string {
	if t.kind == tEOF {
		return "<EOF>"
	}
	return "'" + t.raw + "'"
}

// lexer turns statement text into tokens. Comments (-- to end of line, /* ... */) and whitespace are
// skipped. Keywords are case-insensitive: unquoted identifiers are upper-cased, as ksqlDB does.
type lexer struct {
	src        string
	off        int
	line, col  int
	baseOffset int
}

func newLexer(src string, start sqlerr.Pos) *lexer {
	if !start.IsValid() {
		start = sqlerr.Pos{Line: 1, Col: 1}
	}
	return &lexer{src: src, line: start.Line, col: start.Col, baseOffset: start.Offset}
}

func (l *lexer) pos() sqlerr.Pos {
	return sqlerr.Pos{Line: l.line, Col: l.col, Offset: l.baseOffset + l.off}
}

func (l *lexer) peekByte(n int) byte {
	if l.off+n < len(l.src) {
		return l.src[l.off+n]
	}
	return 0
}

func (l *lexer) advance() rune {
	r, size := utf8.DecodeRuneInString(l.src[l.off:])
	l.off += size
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return r
}

func (l *lexer) skipSpaceAndComments() *sqlerr.Error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			l.advance()
		case c == '-' && l.peekByte(1) == '-':
			for l.off < len(l.src) && l.src[l.off] != '\n' {
				l.advance()
			}
		case c == '/' && l.peekByte(1) == '*':
			start := l.pos()
			l.advance()
			l.advance()
			for {
				if l.off >= len(l.src) {
					return syntaxErr(start, "unterminated comment")
				}
				if l.src[l.off] == '*' && l.peekByte(1) == '/' {
					l.advance()
					l.advance()
					break
				}
				l.advance()
			}
		default:
			return nil
		}
	}
	return nil
}

func isIdentStart(r rune) bool { return r == '_' || unicode.IsLetter(r) }
func isIdentPart(r rune) bool {
	return r == '_' || r == '@' || unicode.IsLetter(r) || unicode.IsDigit(r)
}
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// next returns the next token.
func (l *lexer) next() (token, *sqlerr.Error) {
	if err := l.skipSpaceAndComments(); err != nil {
		return token{}, err
	}
	start := l.pos()
	startOff := l.off
	mk := func(k tokKind, val string) (token, *sqlerr.Error) {
		return token{kind: k, val: val, raw: l.src[startOff:l.off], pos: start}, nil
	}
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[l.off]
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	switch {
	case isIdentStart(r):
		for l.off < len(l.src) {
			r, _ := utf8.DecodeRuneInString(l.src[l.off:])
			if !isIdentPart(r) {
				break
			}
			l.advance()
		}
		return mk(tIdent, strings.ToUpper(l.src[startOff:l.off]))
	case isDigit(c) || (c == '.' && isDigit(l.peekByte(1))):
		return l.number(start, startOff)
	case c == '\'':
		s, err := l.quoted('\'', start, "string literal")
		if err != nil {
			return token{}, err
		}
		return mk(tString, s)
	case c == '`' || c == '"':
		s, err := l.quoted(c, start, "quoted identifier")
		if err != nil {
			return token{}, err
		}
		return mk(tQuotedIdent, s)
	case c == '$' && l.peekByte(1) == '{':
		l.advance()
		l.advance()
		nameStart := l.off
		for l.off < len(l.src) && l.src[l.off] != '}' {
			l.advance()
		}
		if l.off >= len(l.src) {
			return token{}, syntaxErr(start, "unterminated variable reference")
		}
		name := l.src[nameStart:l.off]
		l.advance()
		return mk(tVariable, name)
	}
	for _, op := range []string{"<>", "!=", "<=", ">=", "||", ":=", "->", "=>"} {
		if strings.HasPrefix(l.src[l.off:], op) {
			l.advance()
			l.advance()
			return mk(tOp, op)
		}
	}
	if strings.ContainsRune("=<>+-*/%(),.[];", rune(c)) {
		l.advance()
		return mk(tOp, string(c))
	}
	l.advance()
	return token{}, syntaxErr(start, "unexpected character '%s'", l.src[startOff:l.off])
}

func (l *lexer) number(start sqlerr.Pos, startOff int) (token, *sqlerr.Error) {
	kind := tInteger
	for l.off < len(l.src) && isDigit(l.src[l.off]) {
		l.advance()
	}
	if l.off < len(l.src) && l.src[l.off] == '.' {
		kind = tDecimal
		l.advance()
		for l.off < len(l.src) && isDigit(l.src[l.off]) {
			l.advance()
		}
	}
	if l.off < len(l.src) && (l.src[l.off] == 'e' || l.src[l.off] == 'E') {
		n := 1
		if b := l.peekByte(1); b == '+' || b == '-' {
			n = 2
		}
		if isDigit(l.peekByte(n)) {
			kind = tFloat
			for range n {
				l.advance()
			}
			for l.off < len(l.src) && isDigit(l.src[l.off]) {
				l.advance()
			}
		}
	}
	if kind == tInteger && l.off < len(l.src) {
		// 1abc is an identifier in ksqlDB (DIGIT_IDENTIFIER).
		r, _ := utf8.DecodeRuneInString(l.src[l.off:])
		if isIdentStart(r) || r == '@' {
			for l.off < len(l.src) {
				r, _ := utf8.DecodeRuneInString(l.src[l.off:])
				if !isIdentPart(r) {
					break
				}
				l.advance()
			}
			raw := l.src[startOff:l.off]
			return token{kind: tDigitIdent, val: strings.ToUpper(raw), raw: raw, pos: start}, nil
		}
	}
	raw := l.src[startOff:l.off]
	return token{kind: kind, val: raw, raw: raw, pos: start}, nil
}

// quoted reads a quoted token whose quote character is escaped by doubling it.
func (l *lexer) quoted(q byte, start sqlerr.Pos, what string) (string, *sqlerr.Error) {
	l.advance()
	var b strings.Builder
	for {
		if l.off >= len(l.src) {
			return "", syntaxErr(start, "unterminated %s", what)
		}
		if l.src[l.off] == q {
			if l.peekByte(1) == q {
				b.WriteByte(q)
				l.advance()
				l.advance()
				continue
			}
			l.advance()
			return b.String(), nil
		}
		r := l.advance()
		b.WriteRune(r)
	}
}

// tokenize lexes all of src.
func tokenize(src string, start sqlerr.Pos) ([]token, *sqlerr.Error) {
	l := newLexer(src, start)
	var toks []token
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		toks = append(toks, t)
		if t.kind == tEOF {
			return toks, nil
		}
	}
}

func syntaxErr(pos sqlerr.Pos, format string, args ...any) *sqlerr.Error {
	e := sqlerr.New(sqlerr.Syntax, pos, format, args...)
	e.Msg = "Syntax Error\n" + e.Msg
	return e
}
