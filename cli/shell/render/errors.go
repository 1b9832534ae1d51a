package render

import (
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// positionRE finds the position a server error names, in each of ksqlDB's wordings: syntax errors
// "line 2:8: ..." (and INSERT VALUES "... (line 2:8)"), other errors "Line: 2, Col: 8: ...", pull
// query WHERE errors "2:8: ..." at the start of the message. All are 1-based in Seiche.
var positionRE = regexp.MustCompile(`(?:\bline (\d+):(\d+)\b)|(?:\bLine: (\d+), Col: (\d+)\b)|(?:^(\d+):(\d+): )`)

// Error writes a server error's message. When the message names a position ("line L:C",
// "Line: L, Col: C" or a leading "L:C: "; lines and columns 1-based, columns in characters) that falls
// inside statement,
// it then writes that line of the statement and a caret under the column, as psql does:
//
//	LINE 2: FROM S WHER X = 1;
//	               ^
//
// statement must be the text the position is counted in: Seiche counts positions in the whole text
// of the request, so pass the text sent (or the server's statementText when it echoes the whole
// request). A line wider than o.Width is cut around the column. With o.Color the message and caret are
// red. The error is written in tabular and JSON format alike.
func Error(w io.Writer, message, statement string, o Options) {
	var b strings.Builder
	msg := strings.TrimRight(message, "\n")
	for _, line := range strings.Split(msg, "\n") {
		b.WriteString(colorize(o.Color, ansiRed, line))
		b.WriteByte('\n')
	}
	if line, col, ok := position(message); ok {
		b.WriteString(caret(statement, line, col, o))
	}
	io.WriteString(w, b.String())
	flush(w)
}

// position is the first line and column the message names.
func position(message string) (line, col int, ok bool) {
	m := positionRE.FindStringSubmatch(message)
	if m == nil {
		return 0, 0, false
	}
	l, c := m[1], m[2]
	for i := 3; l == "" && i+1 < len(m); i += 2 {
		l, c = m[i], m[i+1]
	}
	line, err1 := strconv.Atoi(l)
	col, err2 := strconv.Atoi(c)
	return line, col, err1 == nil && err2 == nil && line >= 1 && col >= 1
}

// caret is the statement's line with a caret under col, or "" when the position is not in statement.
func caret(statement string, line, col int, o Options) string {
	lines := strings.Split(statement, "\n")
	if line > len(lines) {
		return ""
	}
	text := strings.TrimRight(lines[line-1], "\r")
	n := utf8.RuneCountInString(text)
	if col > n+1 {
		return ""
	}
	prefix := "LINE " + strconv.Itoa(line) + ": "
	runes := []rune(sanitizeLine(text))
	lead := false // the line was cut on the left
	if o.Width > 0 {
		avail := o.Width - len(prefix)
		// Keep the column in view: drop characters from the left until the caret is in the left
		// two-thirds of the space, then cut the right.
		for len(runes) > 0 && col > 1 && width(string(runes[:col-1]))+1 > avail*2/3 && width(string(runes))+len(prefix) > o.Width {
			runes = runes[1:]
			col--
			lead = true
		}
		if lead {
			runes = append([]rune("…"), runes[1:]...)
		}
		if width(string(runes)) > avail && avail > 1 {
			runes = []rune(cond.Truncate(string(runes), avail, "…"))
		}
	}
	var pad strings.Builder
	pad.WriteString(strings.Repeat(" ", len(prefix)))
	for _, r := range runes[:min(col-1, len(runes))] {
		if r == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteString(strings.Repeat(" ", cond.RuneWidth(r)))
		}
	}
	return prefix + string(runes) + "\n" + pad.String() + colorize(o.Color, ansiRed, "^") + "\n"
}

// sanitizeLine is sanitize for one line of a statement, where a tab stays a tab so that the caret
// line can repeat it and land under the same column.
func sanitizeLine(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r != '\t' && (r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
	}
	return b.String()
}
