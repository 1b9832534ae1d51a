package function

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/seichedb/seiche/sql/types"
)

var (
	tS = types.String
	tI = types.Int
	tB = types.Bigint
	tD = types.Double
)

func str(v Value) string { return v.(string) }

var errConcatWS = errors.New("function: Function Concat_WS expects at least two input arguments.")

func i32(v Value) int32 { return v.(int32) }

// substr implements ksqlDB's SUBSTRING on runes: 1-based positions, negative positions count from the end.
func substr(s string, pos int, length int, hasLen bool) string {
	r := []rune(s)
	n := len(r)
	start := pos
	if start > 0 {
		start--
	} else if start < 0 {
		start = n + start
	}
	if start < 0 {
		start = 0
	}
	if start > n {
		return ""
	}
	end := n
	if hasLen {
		if length < 0 {
			return ""
		}
		end = min(start+length, n)
	}
	return string(r[start:end])
}

func pad(s string, n int, fill string, left bool) Value {
	if n < 0 || (fill == "" && utf8.RuneCountInString(s) < n) {
		return nil
	}
	r := []rune(s)
	if len(r) >= n {
		return string(r[:n])
	}
	f := []rune(fill)
	var padding []rune
	for len(padding) < n-len(r) {
		padding = append(padding, f[len(padding)%len(f)])
	}
	if left {
		return string(padding) + s
	}
	return s + string(padding)
}

// chrEscape is CHR(string): the character written as Java escapes of UTF-16 code units ("\\u004b", or a
// surrogate pair "\\ud820\\udeb8"); NULL for anything else.
func chrEscape(s string) Value {
	if len(s) < 6 || len(s)%6 != 0 {
		return nil
	}
	units := make([]uint16, 0, len(s)/6)
	for i := 0; i < len(s); i += 6 {
		if s[i] != '\\' || s[i+1] != 'u' {
			return nil
		}
		u, err := strconv.ParseUint(s[i+2:i+6], 16, 16)
		if err != nil {
			return nil
		}
		units = append(units, uint16(u))
	}
	return string(utf16.Decode(units))
}

// padBytes is LPAD/RPAD over BYTES: NULL for a negative length or an empty padding.
func padBytes(b []byte, n int, fill []byte, left bool) Value {
	if n < 0 || len(fill) == 0 {
		return nil
	}
	if len(b) >= n {
		return append([]byte{}, b[:n]...)
	}
	out := make([]byte, 0, n)
	if !left {
		out = append(out, b...)
	}
	for i := 0; i < n-len(b); i++ {
		out = append(out, fill[i%len(fill)])
	}
	if left {
		out = append(out, b...)
	}
	return out
}

func init() {
	def("LCASE", Sig{Params: p(tS), Ret: tS, Impl: func(a []Value) (Value, error) { return strings.ToLower(str(a[0])), nil }})
	def("UCASE", Sig{Params: p(tS), Ret: tS, Impl: func(a []Value) (Value, error) { return strings.ToUpper(str(a[0])), nil }})
	def("TRIM", Sig{Params: p(tS), Ret: tS, Impl: func(a []Value) (Value, error) { return strings.TrimSpace(str(a[0])), nil }})
	def("LEN",
		Sig{Params: p(tS), Ret: tI, Impl: func(a []Value) (Value, error) { return int32(utf8.RuneCountInString(str(a[0]))), nil }},
		Sig{Params: p(types.Bytes), Ret: tI, Impl: func(a []Value) (Value, error) { return int32(len(a[0].([]byte))), nil }})
	def("INITCAP", Sig{Params: p(tS), Ret: tS, Impl: func(a []Value) (Value, error) {
		var b strings.Builder
		start := true
		for _, r := range str(a[0]) {
			if unicode.IsSpace(r) {
				start = true
				b.WriteRune(r)
				continue
			}
			if start {
				b.WriteRune(unicode.ToUpper(r))
			} else {
				b.WriteRune(unicode.ToLower(r))
			}
			start = false
		}
		return b.String(), nil
	}})
	def("SUBSTRING",
		Sig{Params: p(tS, tI), Ret: tS, Impl: func(a []Value) (Value, error) {
			return substr(str(a[0]), int(i32(a[1])), 0, false), nil
		}},
		Sig{Params: p(tS, tI, tI), Ret: tS, Impl: func(a []Value) (Value, error) {
			return substr(str(a[0]), int(i32(a[1])), int(i32(a[2])), true), nil
		}},
		Sig{Params: p(types.Bytes, tI), Ret: types.Bytes, Impl: func(a []Value) (Value, error) {
			return bytesSub(a[0].([]byte), int(i32(a[1])), 0, false), nil
		}},
		Sig{Params: p(types.Bytes, tI, tI), Ret: types.Bytes, Impl: func(a []Value) (Value, error) {
			return bytesSub(a[0].([]byte), int(i32(a[1])), int(i32(a[2])), true), nil
		}})
	def("CONCAT",
		Sig{Params: p(), Variadic: tS, Ret: tS, NullSafe: true, Impl: func(a []Value) (Value, error) {
			var b strings.Builder
			for _, v := range a {
				if v != nil {
					b.WriteString(str(v))
				}
			}
			return b.String(), nil
		}},
		Sig{Params: p(), Variadic: types.Bytes, Ret: types.Bytes, NullSafe: true, Impl: func(a []Value) (Value, error) {
			var out []byte
			for _, v := range a {
				if v != nil {
					out = append(out, v.([]byte)...)
				}
			}
			return out, nil
		}})
	// CONCAT_WS(separator, values...): the non-NULL values joined by the separator; NULL when the separator
	// is NULL. ksqlDB declares one variadic parameter and fails a call with fewer than two arguments.
	def("CONCAT_WS",
		Sig{Variadic: tS, Names: []string{"inputs"}, Ret: tS, NullSafe: true, Impl: func(a []Value) (Value, error) {
			if len(a) < 2 {
				return nil, errConcatWS
			}
			if a[0] == nil {
				return nil, nil
			}
			var parts []string
			for _, v := range a[1:] {
				if v != nil {
					parts = append(parts, str(v))
				}
			}
			return strings.Join(parts, str(a[0])), nil
		}},
		Sig{Variadic: types.Bytes, Names: []string{"inputs"}, Ret: types.Bytes, NullSafe: true, Impl: func(a []Value) (Value, error) {
			if len(a) < 2 {
				return nil, errConcatWS
			}
			if a[0] == nil {
				return nil, nil
			}
			var parts [][]byte
			for _, v := range a[1:] {
				if v != nil {
					parts = append(parts, v.([]byte))
				}
			}
			return bytes.Join(parts, a[0].([]byte)), nil
		}})
	def("REPLACE", Sig{Params: p(tS, tS, tS), Ret: tS, Impl: func(a []Value) (Value, error) {
		return strings.ReplaceAll(str(a[0]), str(a[1]), str(a[2])), nil
	}})
	// INSTR of a NULL string or substring is 0, not NULL (ksqlDB's Instr returns an int); a NULL position
	// or occurrence gives NULL.
	instrSig := func(params ...*types.Type) Sig {
		return Sig{Params: params, Ret: tI, NullSafe: true, Impl: func(a []Value) (Value, error) {
			pos, occ := 1, 1
			for i, v := range a[2:] {
				if v == nil {
					return nil, nil
				}
				if i == 0 {
					pos = int(i32(v))
				} else {
					occ = int(i32(v))
				}
			}
			if a[0] == nil || a[1] == nil {
				return int32(0), nil
			}
			return instr(str(a[0]), str(a[1]), pos, occ), nil
		}}
	}
	def("INSTR", instrSig(tS, tS), instrSig(tS, tS, tI), instrSig(tS, tS, tI, tI))
	def("LPAD",
		Sig{Params: p(tS, tI, tS), Ret: tS, Impl: func(a []Value) (Value, error) { return pad(str(a[0]), int(i32(a[1])), str(a[2]), true), nil }},
		Sig{Params: p(types.Bytes, tI, types.Bytes), Ret: types.Bytes, Impl: func(a []Value) (Value, error) {
			return padBytes(a[0].([]byte), int(i32(a[1])), a[2].([]byte), true), nil
		}})
	def("RPAD",
		Sig{Params: p(tS, tI, tS), Ret: tS, Impl: func(a []Value) (Value, error) { return pad(str(a[0]), int(i32(a[1])), str(a[2]), false), nil }},
		Sig{Params: p(types.Bytes, tI, types.Bytes), Ret: types.Bytes, Impl: func(a []Value) (Value, error) {
			return padBytes(a[0].([]byte), int(i32(a[1])), a[2].([]byte), false), nil
		}})
	// SPLIT(s, delimiter): the parts between delimiters, empty parts included; an empty delimiter splits
	// every character (every byte of BYTES).
	def("SPLIT",
		Sig{Params: p(tS, tS), Names: []string{"string", "delimiter"}, Ret: types.ArrayOf(tS), Impl: func(a []Value) (Value, error) {
			s, sep := str(a[0]), str(a[1])
			var parts []string
			switch {
			case s == "":
				parts = []string{""}
			case sep == "":
				for _, r := range s {
					parts = append(parts, string(r))
				}
			default:
				parts = strings.Split(s, sep)
			}
			out := make([]Value, len(parts))
			for i, x := range parts {
				out[i] = x
			}
			return out, nil
		}},
		Sig{Params: p(types.Bytes, types.Bytes), Names: []string{"bytes", "delimiter"}, Ret: types.ArrayOf(types.Bytes),
			Impl: func(a []Value) (Value, error) {
				b, sep := a[0].([]byte), a[1].([]byte)
				var parts [][]byte
				switch {
				case len(b) == 0:
					parts = [][]byte{{}}
				case len(sep) == 0:
					for i := range b {
						parts = append(parts, b[i:i+1])
					}
				default:
					parts = bytes.Split(b, sep)
				}
				out := make([]Value, len(parts))
				for i, x := range parts {
					out[i] = append([]byte{}, x...)
				}
				return out, nil
			}})
	def("SPLIT_TO_MAP", Sig{Params: p(tS, tS, tS), Ret: types.MapOf(tS, tS), Impl: func(a []Value) (Value, error) {
		entryDelim, kvDelim := str(a[1]), str(a[2])
		if entryDelim == "" || kvDelim == "" {
			return nil, nil
		}
		// Like ksqlDB's: empty entries and entries without kvDelim are skipped; an entry's key and value
		// are its first two kvDelim-separated parts; a repeated key keeps its last value.
		var keys, vals []Value
		for _, entry := range strings.Split(str(a[0]), entryDelim) {
			if entry == "" || !strings.Contains(entry, kvDelim) {
				continue
			}
			parts := strings.SplitN(entry, kvDelim, 3)
			keys, vals = append(keys, parts[0]), append(vals, parts[1])
		}
		return types.NewMap(keys, vals), nil
	}})
	def("CHR",
		Sig{Params: p(tI), Ret: tS, Impl: func(a []Value) (Value, error) {
			c := i32(a[0])
			if c < 0 || c > unicode.MaxRune {
				return nil, nil
			}
			return string(rune(c)), nil
		}},
		Sig{Params: p(tS), Ret: tS, Impl: func(a []Value) (Value, error) { return chrEscape(str(a[0])), nil }})
	def("MASK", maskSigs(func(s []rune) []int { return all(len(s)) })...)
	def("MASK_LEFT", maskNSigs(func(n int, s []rune) []int { return span(0, min(n, len(s))) })...)
	def("MASK_RIGHT", maskNSigs(func(n int, s []rune) []int { return span(max(len(s)-n, 0), len(s)) })...)
	def("MASK_KEEP_LEFT", maskNSigs(func(n int, s []rune) []int { return span(min(n, len(s)), len(s)) })...)
	def("MASK_KEEP_RIGHT", maskNSigs(func(n int, s []rune) []int { return span(0, max(len(s)-n, 0)) })...)
	// The regular-expression functions compile their pattern once per call site while it stays the same
	// (it is almost always a literal), see regexpCache.
	extract := func(all bool) func([]*types.Type) (Impl, error) {
		return func([]*types.Type) (Impl, error) {
			var rc regexpCache
			return func(a []Value) (Value, error) {
				re, err := rc.get(str(a[0]))
				if err != nil {
					return nil, err
				}
				group := 0
				if len(a) > 2 {
					group = int(i32(a[2]))
				}
				if all {
					return regexpExtractAll(re, str(a[1]), group), nil
				}
				return regexpExtract(re, str(a[1]), group), nil
			}, nil
		}
	}
	def("REGEXP_EXTRACT",
		Sig{Params: p(tS, tS), Ret: tS, Build: extract(false)},
		Sig{Params: p(tS, tS, tI), Ret: tS, Build: extract(false)})
	def("REGEXP_EXTRACT_ALL",
		Sig{Params: p(tS, tS), Ret: types.ArrayOf(tS), Build: extract(true)},
		Sig{Params: p(tS, tS, tI), Ret: types.ArrayOf(tS), Build: extract(true)})
	def("REGEXP_REPLACE", Sig{Params: p(tS, tS, tS), Ret: tS, Build: func([]*types.Type) (Impl, error) {
		var rc regexpCache
		return func(a []Value) (Value, error) {
			re, err := rc.get(str(a[1]))
			if err != nil {
				return nil, err
			}
			return re.ReplaceAllString(str(a[0]), javaReplacement(str(a[2]))), nil
		}, nil
	}})
	def("REGEXP_SPLIT_TO_ARRAY", Sig{Params: p(tS, tS), Ret: types.ArrayOf(tS), Build: func([]*types.Type) (Impl, error) {
		var rc regexpCache
		return func(a []Value) (Value, error) {
			re, err := rc.get(str(a[1]))
			if err != nil {
				return nil, err
			}
			parts := re.Split(str(a[0]), -1)
			out := make([]Value, len(parts))
			for i, x := range parts {
				out[i] = x
			}
			return out, nil
		}, nil
	}})
}

func bytesSub(b []byte, pos, length int, hasLen bool) []byte {
	n := len(b)
	start := pos
	if start > 0 {
		start--
	} else if start < 0 {
		start = n + start
	}
	if start < 0 {
		start = 0
	}
	if start > n {
		return []byte{}
	}
	end := n
	if hasLen {
		end = min(start+max(length, 0), n)
	}
	return append([]byte{}, b[start:end]...)
}

// instr returns the 1-based rune position of the occurrence-th match of sub in s searching from position
// (negative: backwards from the end), or 0.
func instr(s, sub string, position, occurrence int) int32 {
	r, sr := []rune(s), []rune(sub)
	match := func(i int) bool {
		if i < 0 || i+len(sr) > len(r) {
			return false
		}
		for j := range sr {
			if r[i+j] != sr[j] {
				return false
			}
		}
		return true
	}
	if position > 0 {
		for i := position - 1; i <= len(r)-len(sr); i++ {
			if match(i) {
				occurrence--
				if occurrence == 0 {
					return int32(i + 1)
				}
			}
		}
		return 0
	}
	if position < 0 {
		for i := len(r) + position; i >= 0; i-- {
			if match(i) {
				occurrence--
				if occurrence == 0 {
					return int32(i + 1)
				}
			}
		}
	}
	return 0
}

func all(n int) []int { return span(0, n) }

func span(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func maskRune(r rune, upper, lower, digit, other *string) (rune, bool) {
	var repl *string
	switch {
	case unicode.IsUpper(r):
		repl = upper
	case unicode.IsLower(r):
		repl = lower
	case unicode.IsDigit(r):
		repl = digit
	default:
		repl = other
	}
	if repl == nil {
		return r, false
	}
	if *repl == "" {
		return 0, true
	}
	return []rune(*repl)[0], false
}

func applyMask(s string, idx []int, repl []Value) Value {
	def := []string{"X", "x", "n", "-"}
	ptrs := make([]*string, 4)
	for i := range ptrs {
		d := def[i]
		ptrs[i] = &d
		if i < len(repl) {
			if repl[i] == nil {
				ptrs[i] = nil
			} else {
				v := repl[i].(string)
				ptrs[i] = &v
			}
		}
	}
	r := []rune(s)
	drop := map[int]bool{}
	for _, i := range idx {
		m, del := maskRune(r[i], ptrs[0], ptrs[1], ptrs[2], ptrs[3])
		if del {
			drop[i] = true
		} else {
			r[i] = m
		}
	}
	var b strings.Builder
	for i, c := range r {
		if !drop[i] {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func maskSigs(sel func(s []rune) []int) []Sig {
	var out []Sig
	for n := 0; n <= 4; n++ {
		params := []*types.Type{tS}
		for range n {
			params = append(params, tS)
		}
		out = append(out, Sig{Params: params, Ret: tS, NullSafe: true, Impl: func(a []Value) (Value, error) {
			if a[0] == nil {
				return nil, nil
			}
			s := str(a[0])
			return applyMask(s, sel([]rune(s)), a[1:]), nil
		}})
	}
	return out
}

func maskNSigs(sel func(n int, s []rune) []int) []Sig {
	var out []Sig
	for n := 0; n <= 4; n++ {
		params := []*types.Type{tS, tI}
		for range n {
			params = append(params, tS)
		}
		out = append(out, Sig{Params: params, Ret: tS, NullSafe: true, Impl: func(a []Value) (Value, error) {
			if a[0] == nil || a[1] == nil {
				return nil, nil
			}
			s := str(a[0])
			n := int(i32(a[1]))
			if n < 0 {
				return nil, fmt.Errorf("function input must be >= 0")
			}
			return applyMask(s, sel(n, []rune(s)), a[2:]), nil
		}})
	}
	return out
}

func compileRegexp(pattern string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("Invalid regular expression pattern: %s", pattern)
	}
	return re, nil
}

// javaReplacement converts Java's $1 group references (already Go-compatible) and escapes.
func javaReplacement(s string) string { return strings.ReplaceAll(s, `\$`, `$$`) }

// regexpExtract is REGEXP_EXTRACT: the group of the first match, NULL without a match or such a group.
func regexpExtract(re *regexp.Regexp, s string, group int) Value {
	m := re.FindStringSubmatch(s)
	if m == nil || group >= len(m) || group < 0 {
		return nil
	}
	return m[group]
}

// regexpExtractAll is REGEXP_EXTRACT_ALL: the group of every match.
func regexpExtractAll(re *regexp.Regexp, s string, group int) Value {
	out := []Value{}
	for _, m := range re.FindAllStringSubmatch(s, -1) {
		if group >= 0 && group < len(m) {
			out = append(out, m[group])
		}
	}
	return out
}

// regexpCache holds the last pattern a call site compiled. It is safe for concurrent use: a call that
// finds another pattern compiles it and replaces the entry.
type regexpCache struct {
	last atomic.Pointer[compiledRegexp]
}

type compiledRegexp struct {
	pattern string
	re      *regexp.Regexp
}

func (c *regexpCache) get(pattern string) (*regexp.Regexp, error) {
	if l := c.last.Load(); l != nil && l.pattern == pattern {
		return l.re, nil
	}
	re, err := compileRegexp(pattern)
	if err != nil {
		return nil, err
	}
	c.last.Store(&compiledRegexp{pattern: pattern, re: re})
	return re, nil
}
