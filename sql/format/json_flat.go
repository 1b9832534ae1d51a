package format

import (
	"encoding/json"
	"strings"
	"unicode/utf8"

	"github.com/seichedb/seiche/sql/types"
)

// flatField is one field of a flat JSON object: its key's bytes and its decoded scalar value (string,
// json.Number, bool or nil, as the general decoder gives them).
type flatField struct {
	key []byte
	raw any
}

// deserializeFlat is the fast path of a wrapped Deserialize for the common record: one JSON object
// whose fields are scalars, with plain ASCII keys, each column matched by at most one key. It returns
// ok=false, and the caller takes the general path, for anything else (nested values, escaped keys,
// repeated or ambiguous keys, trailing data, a value that does not convert, invalid JSON), so that
// it never decides differently from the general path: it only skips building the decoded object.
func (s *jsonSerde) deserializeFlat(data []byte) ([]types.Value, bool) {
	var buf [16]flatField
	fields, ok := scanFlatObject(data, buf[:0])
	if !ok {
		return nil, false
	}
	out := make([]types.Value, len(s.cols))
	for i, c := range s.cols {
		raw, ok := flatLookup(fields, c.Name)
		if !ok {
			return nil, false
		}
		v, err := fromJSON(raw, c.Type)
		if err != nil {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// flatLookup finds the value of column name: the field named exactly name, else the one field whose
// upper-cased key is the upper-cased name (nil when there is none). ok is false when several fields
// match without case and none exactly, which the general path resolves.
func flatLookup(fields []flatField, name string) (any, bool) {
	for i := range fields {
		if string(fields[i].key) == name {
			return fields[i].raw, true
		}
	}
	upper := strings.ToUpper(name)
	var raw any
	found := false
	for i := range fields {
		if upperASCIIEqual(fields[i].key, upper) {
			if found {
				return nil, false
			}
			raw, found = fields[i].raw, true
		}
	}
	return raw, true
}

// upperASCIIEqual reports whether the ASCII key upper-cased equals upper.
func upperASCIIEqual(key []byte, upper string) bool {
	if len(key) != len(upper) {
		return false
	}
	for i, c := range key {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipJSONSpace(data []byte, i int) int {
	for i < len(data) && isJSONSpace(data[i]) {
		i++
	}
	return i
}

// scanFlatObject parses data as one flat object followed by nothing but whitespace.
func scanFlatObject(data []byte, fields []flatField) ([]flatField, bool) {
	i := skipJSONSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	i = skipJSONSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return fields, skipJSONSpace(data, i+1) == len(data)
	}
	for {
		if i >= len(data) || data[i] != '"' {
			return nil, false
		}
		end := i + 1
		for end < len(data) && data[end] != '"' {
			c := data[end]
			if c < 0x20 || c >= 0x80 || c == '\\' {
				return nil, false
			}
			end++
		}
		if end >= len(data) {
			return nil, false
		}
		key := data[i+1 : end]
		for _, f := range fields {
			if string(f.key) == string(key) {
				return nil, false
			}
		}
		i = skipJSONSpace(data, end+1)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		i = skipJSONSpace(data, i+1)
		raw, next, ok := scanScalar(data, i)
		if !ok {
			return nil, false
		}
		fields = append(fields, flatField{key: key, raw: raw})
		i = skipJSONSpace(data, next)
		if i >= len(data) {
			return nil, false
		}
		switch data[i] {
		case ',':
			i = skipJSONSpace(data, i+1)
		case '}':
			return fields, skipJSONSpace(data, i+1) == len(data)
		default:
			return nil, false
		}
	}
}

// scanScalar decodes the string, number, true, false or null at data[i:] and returns the index after it.
func scanScalar(data []byte, i int) (any, int, bool) {
	if i >= len(data) {
		return nil, 0, false
	}
	switch c := data[i]; {
	case c == '"':
		plain := true
		end := i + 1
		for end < len(data) && data[end] != '"' {
			switch c := data[end]; {
			case c < 0x20:
				return nil, 0, false
			case c == '\\':
				plain = false
				end++ // the escaped byte cannot end the string
			case c >= 0x80:
				plain = false
			}
			end++
		}
		if end >= len(data) {
			return nil, 0, false
		}
		if plain {
			return string(data[i+1 : end]), end + 1, true
		}
		if !utf8.Valid(data[i+1 : end]) {
			return nil, 0, false
		}
		var s string
		if err := json.Unmarshal(data[i:end+1], &s); err != nil {
			return nil, 0, false
		}
		return s, end + 1, true
	case c == '-' || ('0' <= c && c <= '9'):
		end, ok := scanNumber(data, i)
		if !ok {
			return nil, 0, false
		}
		return json.Number(data[i:end]), end, true
	case c == 't':
		return true, i + 4, hasLiteral(data, i, "true")
	case c == 'f':
		return false, i + 5, hasLiteral(data, i, "false")
	case c == 'n':
		return nil, i + 4, hasLiteral(data, i, "null")
	}
	return nil, 0, false
}

func hasLiteral(data []byte, i int, lit string) bool {
	return len(data)-i >= len(lit) && string(data[i:i+len(lit)]) == lit
}

// scanNumber returns the end of the JSON number at data[i:]: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func scanNumber(data []byte, i int) (int, bool) {
	digits := func(j int) int {
		for j < len(data) && '0' <= data[j] && data[j] <= '9' {
			j++
		}
		return j
	}
	if data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i = digits(i)
	default:
		return 0, false
	}
	if i < len(data) && data[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

// plainJSONString reports whether s is written as JSON by quoting it alone: printable ASCII that
// encoding/json does not escape (it escapes the quote, the backslash and, for HTML, <, > and &).
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
