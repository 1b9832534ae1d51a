package shell

import "strings"

// split cuts text into complete statements, each ending at a ';' outside quotes and comments, and
// returns them with what is left: an unfinished statement, or "" when only blanks and comments
// remain. A statement keeps its comments (the server reports positions in the text it was sent)
// but not its ';'; a statement of nothing but comments is dropped.
func split(text string) (stmts []string, rest string) {
	start := 0
	for i := 0; i < len(text); {
		switch c := text[i]; {
		case c == '\'' || c == '"' || c == '`':
			i = skipQuoted(text, i)
		case c == '-' && strings.HasPrefix(text[i:], "--"):
			if nl := strings.IndexByte(text[i:], '\n'); nl >= 0 {
				i += nl + 1
			} else {
				i = len(text)
			}
		case c == '/' && strings.HasPrefix(text[i:], "/*"):
			if end := strings.Index(text[i+2:], "*/"); end >= 0 {
				i += 2 + end + 2
			} else {
				i = len(text)
			}
		case c == ';':
			if s := strings.TrimSpace(text[start:i]); !blank(s) {
				stmts = append(stmts, s)
			}
			i++
			start = i
		default:
			i++
		}
	}
	rest = strings.TrimSpace(text[start:])
	if blank(rest) && !unterminated(rest) {
		rest = ""
	}
	return stmts, rest
}

// skipQuoted returns the index just past the quoted text that starts at i; a doubled quote is an
// escaped one. Unterminated text runs to the end.
func skipQuoted(text string, i int) int {
	q := text[i]
	for j := i + 1; j < len(text); j++ {
		if text[j] == q {
			if j+1 < len(text) && text[j+1] == q {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(text)
}

// blank reports whether s holds nothing but white space and comments.
func blank(s string) bool {
	return strings.TrimSpace(stripComments(s)) == ""
}

// unterminated reports whether s ends inside a block comment: more lines belong to it.
func unterminated(s string) bool {
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "--"):
			nl := strings.IndexByte(s[i:], '\n')
			if nl < 0 {
				return false
			}
			i += nl + 1
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return true
			}
			i += 2 + end + 2
		default:
			i++
		}
	}
	return false
}

// stripComments returns s without its comments, quoted text kept as it is.
func stripComments(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\'' || c == '"' || c == '`':
			j := skipQuoted(s, i)
			b.WriteString(s[i:j])
			i = j
		case strings.HasPrefix(s[i:], "--"):
			nl := strings.IndexByte(s[i:], '\n')
			if nl < 0 {
				return b.String()
			}
			b.WriteByte('\n')
			i += nl + 1
		case strings.HasPrefix(s[i:], "/*"):
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return b.String()
			}
			b.WriteByte(' ')
			i += 2 + end + 2
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// words returns the first n words of a statement, upper-cased, comments skipped: what decides where
// the statement goes.
func words(stmt string, n int) []string {
	f := strings.Fields(strings.ToUpper(stripComments(stmt)))
	if len(f) > n {
		f = f[:n]
	}
	return f
}
