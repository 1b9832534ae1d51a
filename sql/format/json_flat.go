package format

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/seichedb/seiche/sql/types"
)

// The JSON reader's fast path. A wrapped record's top-level object is scanned once into fields (a
// key and where its value lies in the record) without decoding any value. Each column then finds its
// field and decodes that value alone, straight from the record's bytes into the column's type. A
// field that matches no column is validated as JSON and skipped: nothing is built for it.
//
// The common conversions are done here without an intermediate value: a number into INT, BIGINT,
// DOUBLE, TIMESTAMP, TIME or DATE, a string into STRING, true or false into BOOLEAN, and null. Every
// other value is built as the general decoder builds it (decodeJSON's raw values) and converted by
// fromJSON, the one place ksqlDB's conversion rules live.
//
// The fast path never decides differently from the general path (decodeJSON, then fromJSON per
// column). Where deciding would need the general path's rules, it returns ok=false and Deserialize
// takes the general path, which also words the error: a key with escapes or non-ASCII bytes, a
// repeated key, several keys matching a column without case and none with it, invalid UTF-8 in a
// string that is read, invalid JSON, nesting deeper than maxFastDepth, or a value that does not
// convert.
//
// An unread column (Options.Unread) is checked, not built: its field is looked up and its value must
// convert as it would if read (checkFieldValue), or the general path decides the record, so the
// record fails exactly when it would if the column were read. Most checks need no value: any JSON
// value converts to STRING, and a number's conversion is decided by strconv alone.

// maxFastDepth bounds the nesting the fast path skips; deeper values go to the general path, whose
// decoder has its own limit.
const maxFastDepth = 1000

// flatField is one field of a record's top-level object: its key's bytes and its value's extent in
// the record, data[start:end], validated but not decoded.
type flatField struct {
	key        []byte
	start, end int
}

// deserializeFast decodes data as Deserialize does, or returns ok=false when the general path must.
func (s *jsonSerde) deserializeFast(data []byte) ([]types.Value, bool) {
	out := make([]types.Value, len(s.cols))
	if !s.deserializeFastInto(out, nil, data) {
		return nil, false
	}
	return out, true
}

// deserializeFastInto is deserializeFast writing column i's value to dst[pos[i]] (dst[i] when pos
// is nil); it writes no NULL, so dst must hold NULLs where it has no field. When it returns false it
// may have written some of the columns.
func (s *jsonSerde) deserializeFastInto(dst []types.Value, pos []int, data []byte) bool {
	at := func(i int) int {
		if pos == nil {
			return i
		}
		return pos[i]
	}
	if !s.wrap {
		start := skipJSONSpace(data, 0)
		end, ok := skipValue(data, start, 0)
		if !ok || skipJSONSpace(data, end) != len(data) {
			return false
		}
		if s.isUnread(0) {
			return checkFieldValue(data[start:end], s.cols[0].Type)
		}
		v, ok := decodeFieldValue(data[start:end], s.cols[0].Type, nil)
		dst[at(0)] = v
		return ok
	}
	var buf [16]flatField
	var fieldOf []int
	fields, ok := []flatField(nil), false
	if l := s.layout.Load(); l != nil {
		if fields, ok = scanKnownKeys(data, l.keys, buf[:0]); ok {
			fieldOf = l.fieldOf
		}
	}
	if !ok {
		if fields, ok = scanFlatObject(data, buf[:0]); !ok {
			return false
		}
		if fieldOf, ok = s.fieldsOf(fields); !ok {
			return false
		}
	}
	var a recordArena
	s.initArena(&a, data, fields, fieldOf)
	for i, c := range s.cols {
		if fieldOf[i] < 0 {
			continue // no field: NULL
		}
		f := &fields[fieldOf[i]]
		if s.isUnread(i) {
			if !checkFieldValue(data[f.start:f.end], c.Type) {
				return false
			}
			continue
		}
		v, ok := decodeFieldValue(data[f.start:f.end], c.Type, &a)
		if !ok {
			return false
		}
		dst[at(i)] = v
	}
	return true
}

// fieldLayout is where the columns' fields are in a record whose keys are keys, in this order.
type fieldLayout struct {
	keys []string
	// fieldOf holds, per column, the index of its field, -1 for none.
	fieldOf []int
}

// fieldsOf returns, per column, the index of its field among fields (lookup), -1 for none; ok is
// false where lookup leaves a column to the general path. The records of a topic mostly repeat one
// producer's keys in one order, so the last record's answer is kept and taken when the keys are
// the same: the answer depends on nothing else.
func (s *jsonSerde) fieldsOf(fields []flatField) ([]int, bool) {
	if l := s.layout.Load(); l != nil && len(l.keys) == len(fields) {
		same := true
		for j := range fields {
			if string(fields[j].key) != l.keys[j] {
				same = false
				break
			}
		}
		if same {
			return l.fieldOf, true
		}
	}
	l := &fieldLayout{keys: make([]string, len(fields)), fieldOf: make([]int, len(s.cols))}
	for i := range s.cols {
		j, ok := s.lookup(fields, i)
		if !ok {
			return nil, false
		}
		l.fieldOf[i] = j
	}
	for j := range fields {
		l.keys[j] = string(fields[j].key)
	}
	s.layout.Store(l)
	return l.fieldOf, true
}

// lookup finds the field of column i: the one whose key is the column's name, else the one whose
// upper-cased key is the upper-cased name (-1 when there is none). ok is false when several fields
// match without case and none exactly, which the general path resolves. Keys are distinct and ASCII
// (scanFlatObject), so at most one matches exactly and an upper-cased key keeps its length.
func (s *jsonSerde) lookup(fields []flatField, i int) (int, bool) {
	name, upper := s.cols[i].Name, s.upper[i]
	match := -1
	ambiguous := false
	for j := range fields {
		key := fields[j].key
		if string(key) == name {
			return j, true
		}
		if upperASCIIEqual(key, upper) {
			ambiguous = match >= 0
			match = j
		}
	}
	return match, !ambiguous
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

// scanFlatObject parses data as one object followed by nothing but whitespace, appending its fields.
// ok is false for invalid JSON, and for a key the fast path does not match (escaped, non-ASCII or
// repeated).
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
		start := skipJSONSpace(data, i+1)
		end, ok := skipValue(data, start, 0)
		if !ok {
			return nil, false
		}
		fields = append(fields, flatField{key: key, start: start, end: end})
		i = skipJSONSpace(data, end)
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

// scanKnownKeys is scanFlatObject for a record whose keys are expected to be keys, in this order (a
// kept field layout's): each key is compared in place, and needs neither scanning nor the check
// against the keys before it, since the layout's keys are plain and distinct. ok is false for
// invalid JSON and for other keys, which the caller then scans without expecting them.
func scanKnownKeys(data []byte, keys []string, fields []flatField) ([]flatField, bool) {
	i := skipJSONSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	i = skipJSONSpace(data, i+1)
	if len(keys) == 0 {
		return fields, i < len(data) && data[i] == '}' && skipJSONSpace(data, i+1) == len(data)
	}
	for j, key := range keys {
		end := i + 1 + len(key) // the closing quote
		if end >= len(data) || data[i] != '"' || data[end] != '"' || string(data[i+1:end]) != key {
			return nil, false
		}
		i = skipJSONSpace(data, end+1)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		start := skipJSONSpace(data, i+1)
		vend, ok := skipValue(data, start, 0)
		if !ok {
			return nil, false
		}
		fields = append(fields, flatField{key: data[end-len(key) : end], start: start, end: vend})
		i = skipJSONSpace(data, vend)
		if i >= len(data) {
			return nil, false
		}
		if j == len(keys)-1 {
			return fields, data[i] == '}' && skipJSONSpace(data, i+1) == len(data)
		}
		if data[i] != ',' {
			return nil, false
		}
		i = skipJSONSpace(data, i+1)
	}
	return nil, false // not reached: the loop returns at the last key
}

// skipValue validates the JSON value at data[i:], at the given nesting depth, and returns the index
// after it.
func skipValue(data []byte, i, depth int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch c := data[i]; {
	case c == '"':
		return skipString(data, i)
	case c == '{' || c == '[':
		return skipComposite(data, i, depth)
	case c == '-' || ('0' <= c && c <= '9'):
		return scanNumber(data, i)
	case c == 't':
		return i + 4, hasLiteral(data, i, "true")
	case c == 'f':
		return i + 5, hasLiteral(data, i, "false")
	case c == 'n':
		return i + 4, hasLiteral(data, i, "null")
	}
	return 0, false
}

// stringStop marks the bytes that end a run of plain string content: the quote, the backslash and the
// control characters, which JSON allows only escaped.
var stringStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// hasStringStop reports whether any of the eight bytes in w is a stringStop byte: below 0x20, the
// quote or the backslash. Each test is the classic one for a zero byte (v-0x01..) & ^v & 0x80..,
// exact as to whether there is one; the three share ^w's high bits, since the quote and the
// backslash are ASCII.
func hasStringStop(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote, backslash := w^(ones*'"'), w^(ones*'\\')
	return ((w-ones*0x20)|(quote-ones)|(backslash-ones))&^w&highs != 0
}

// skipString validates the string at data[i:], which starts with its quote, and returns the index
// after its closing quote. Its escapes must be JSON's; its bytes are not checked as UTF-8, which the
// general decoder does not require either.
func skipString(data []byte, i int) (int, bool) {
	j := i + 1
	for {
		for j+8 <= len(data) && !hasStringStop(binary.LittleEndian.Uint64(data[j:])) {
			j += 8
		}
		for j < len(data) && !stringStop[data[j]] {
			j++
		}
		if j >= len(data) {
			return 0, false
		}
		switch data[j] {
		case '"':
			return j + 1, true
		case '\\':
			if j+1 >= len(data) {
				return 0, false
			}
			switch data[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if _, ok := hex4(data[j+2:]); !ok {
					return 0, false
				}
				j += 6
			default:
				return 0, false
			}
		default: // a control character
			return 0, false
		}
	}
}

// skipComposite validates the object or array at data[i:] and returns the index after it.
func skipComposite(data []byte, i, depth int) (int, bool) {
	if depth >= maxFastDepth {
		return 0, false
	}
	object := data[i] == '{'
	closing := byte(']')
	if object {
		closing = '}'
	}
	i = skipJSONSpace(data, i+1)
	if i < len(data) && data[i] == closing {
		return i + 1, true
	}
	for {
		if object {
			if i >= len(data) || data[i] != '"' {
				return 0, false
			}
			end, ok := skipString(data, i)
			if !ok {
				return 0, false
			}
			i = skipJSONSpace(data, end)
			if i >= len(data) || data[i] != ':' {
				return 0, false
			}
			i = skipJSONSpace(data, i+1)
		}
		end, ok := skipValue(data, i, depth+1)
		if !ok {
			return 0, false
		}
		i = skipJSONSpace(data, end)
		if i >= len(data) {
			return 0, false
		}
		switch data[i] {
		case ',':
			i = skipJSONSpace(data, i+1)
		case closing:
			return i + 1, true
		default:
			return 0, false
		}
	}
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

// decodeFieldValue converts the validated JSON value b to a value of type t, as fromJSON converts the
// general decoder's value of it; ok is false when the conversion fails. A number or a string's bytes
// are placed in a when it has room (nil: each value is allocated).
func decodeFieldValue(b []byte, t *types.Type, a *recordArena) (types.Value, bool) {
	var raw any
	switch c := b[0]; {
	case c == 'n':
		return nil, true
	case c == '"':
		s, ok := unquoteJSON(b, a)
		if !ok {
			return nil, false
		}
		if t.Kind == types.KindString {
			if v, ok := arenaString(a, s); ok {
				return v, true
			}
			return s, true
		}
		raw = s
	case c == 't' || c == 'f':
		if t.Kind == types.KindBoolean {
			return c == 't', true
		}
		raw = c == 't'
	case c == '{' || c == '[':
		v, err := decodeJSON(b)
		if err != nil {
			return nil, false
		}
		raw = v
	default:
		if v, ok := numberValue(b, t, a); ok {
			return v, true
		}
		raw = json.Number(b)
	}
	v, err := fromJSON(raw, t)
	return v, err == nil
}

// initArena makes a the arena for the values of the columns read from a record with these fields:
// room for each number read into a number column and for the bytes of each string read into a
// STRING column (a header, and its escaped length, which decoding never exceeds).
func (s *jsonSerde) initArena(a *recordArena, data []byte, fields []flatField, fieldOf []int) {
	nums, strs, strBytes := 0, 0, 0
	for i, c := range s.cols {
		if fieldOf[i] < 0 || s.isUnread(i) {
			continue
		}
		f := &fields[fieldOf[i]]
		switch b := data[f.start]; {
		case b == '"' && c.Type.Kind == types.KindString:
			strs++
			strBytes += f.end - f.start - 2
		case b == '-' || ('0' <= b && b <= '9'):
			switch c.Type.Kind {
			case types.KindInt, types.KindBigint, types.KindDouble, types.KindTimestamp, types.KindTime, types.KindDate:
				nums++
			}
		}
	}
	a.init(nums, strs, strBytes)
}

// checkFieldValue reports whether decodeFieldValue(b, t) succeeds, without building the value where
// that is decided without it.
func checkFieldValue(b []byte, t *types.Type) bool {
	switch c := b[0]; {
	case c == 'n', t.Kind == types.KindString:
		// fromJSON turns any JSON value into a STRING: a scalar's text, a composite's JSON.
		return true
	case (c == 't' || c == 'f') && t.Kind == types.KindBoolean:
		return true
	case c == '-' || ('0' <= c && c <= '9'):
		if _, _, ok := parseNumber(b, t.Kind); ok {
			return true
		}
	}
	_, ok := decodeFieldValue(b, t, nil)
	return ok
}

// parseNumber parses the JSON number b for a column of kind k where strconv alone decides the
// result fromJSON gives: i for INT, BIGINT, TIMESTAMP, TIME and DATE, f for DOUBLE. ok is false
// otherwise (another kind, or a number fromJSON reads another way or rejects). The string
// conversions do not escape, so they need no allocation.
func parseNumber(b []byte, k types.Kind) (i int64, f float64, ok bool) {
	var err error
	switch k {
	case types.KindInt, types.KindBigint, types.KindTimestamp:
		if i, ok = smallInt(b); ok {
			return i, 0, true
		}
		i, err = strconv.ParseInt(string(b), 10, 64)
	case types.KindTime, types.KindDate:
		if i, ok = smallInt(b); ok && i >= math.MinInt32 && i <= math.MaxInt32 {
			return i, 0, true
		}
		i, err = strconv.ParseInt(string(b), 10, 32)
	case types.KindDouble:
		f, err = strconv.ParseFloat(string(b), 64)
	default:
		return 0, 0, false
	}
	return i, f, err == nil
}

// smallInt parses b when it is an optional minus and 1 to 18 decimal digits, which no int64
// overflows, as strconv.ParseInt does; ok is false for anything else, which ParseInt decides.
func smallInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	digits := b
	if neg {
		digits = b[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// numberValue converts the JSON number b to t where strconv alone decides the result fromJSON gives
// (parseNumber), placing it in a when it has room; ok is false otherwise.
func numberValue(b []byte, t *types.Type, a *recordArena) (types.Value, bool) {
	i, f, ok := parseNumber(b, t.Kind)
	if !ok {
		return nil, false
	}
	var v types.Value
	switch t.Kind {
	case types.KindInt:
		v, ok = arenaNumber(a, int32(i))
	case types.KindTimestamp:
		v, ok = arenaNumber(a, types.TimestampValue(i))
	case types.KindTime:
		v, ok = arenaNumber(a, types.TimeValue(i))
	case types.KindDate:
		v, ok = arenaNumber(a, types.DateValue(i))
	case types.KindDouble:
		v, ok = arenaNumber(a, f)
	default:
		v, ok = arenaNumber(a, i)
	}
	if ok {
		return v, true
	}
	switch t.Kind {
	case types.KindInt:
		return int32(i), true
	case types.KindTimestamp:
		return types.TimestampValue(i), true
	case types.KindTime:
		return types.TimeValue(i), true
	case types.KindDate:
		return types.DateValue(i), true
	case types.KindDouble:
		return f, true
	}
	return i, true
}

// unquoteJSON decodes the validated JSON string q, quotes included, as encoding/json does, into a
// when it has room. ok is false for invalid UTF-8, which encoding/json replaces and the general path
// handles.
func unquoteJSON(q []byte, a *recordArena) (string, bool) {
	b := q[1 : len(q)-1]
	if !utf8.Valid(b) {
		return "", false
	}
	if len(b) == 0 {
		return "", true
	}
	dst := a.bytesFor(len(b))
	if dst == nil {
		if bytes.IndexByte(b, '\\') < 0 {
			return string(b), true
		}
		// The decoded string is never longer than its escaped form, so dst grows once.
		dst = make([]byte, 0, len(b))
	}
	dst = appendUnquoted(dst, b)
	if len(dst) == 0 {
		return "", true
	}
	return unsafe.String(&dst[0], len(dst)), true
}

// appendUnquoted appends the JSON string content b (validated, without its quotes) decoded.
func appendUnquoted(out, b []byte) []byte {
	for {
		i := bytes.IndexByte(b, '\\')
		if i < 0 {
			return append(out, b...)
		}
		out = append(out, b[:i]...)
		b = b[i:]
		switch e := b[1]; e {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			// A surrogate pair is one rune; a lone surrogate is U+FFFD, as encoding/json has it.
			r, _ := hex4(b[2:])
			b = b[6:]
			if utf16.IsSurrogate(r) {
				r2, ok := escapedRune(b)
				if dec := utf16.DecodeRune(r, r2); ok && dec != unicode.ReplacementChar {
					r = dec
					b = b[6:]
				} else {
					r = unicode.ReplacementChar
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, e)
		}
		b = b[2:]
	}
}

// escapedRune reads a \uXXXX escape at the start of b.
func escapedRune(b []byte) (rune, bool) {
	if len(b) < 2 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	return hex4(b[2:])
}

// hex4 reads four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// plainJSONString reports whether s is written as JSON by quoting it alone: printable ASCII that
// encoding/json does not escape (it escapes the quote, the backslash and, for HTML, <, > and &).
func plainJSONString(s string) bool {
	i := 0
	for ; i+8 <= len(s) && plainJSONWord(binary.LittleEndian.Uint64([]byte(s[i:i+8]))); i += 8 {
	}
	for ; i < len(s); i++ {
		if !plainJSONByte[s[i]] {
			return false
		}
	}
	return true
}

// plainJSONWord reports whether all eight bytes in w are plainJSONByte ones: none has its high bit
// set, and then none is below 0x20 or equal to 0x7f or one of the five escaped, by the zero-byte
// test (see hasStringStop), whose ^v is all high bits for bytes below 0x80.
func plainJSONWord(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	if w&highs != 0 {
		return false
	}
	zero := func(c byte) uint64 { return (w ^ ones*uint64(c)) - ones }
	return ((w-ones*0x20)|zero(0x7f)|zero('"')|zero('\\')|zero('<')|zero('>')|zero('&'))&highs == 0
}

// plainJSONByte marks the bytes plainJSONString accepts.
var plainJSONByte = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = true
	}
	t['"'], t['\\'], t['<'], t['>'], t['&'] = false, false, false, false, false
	return t
}()
