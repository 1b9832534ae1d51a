package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/mattn/go-runewidth"
)

// Format is how answers are written: ksqlDB's CLI OUTPUT TABULAR or OUTPUT JSON.
type Format int

const (
	// Tabular writes tables and ksqlDB's text layouts.
	Tabular Format = iota
	// JSON writes /ksql entities as indented JSON and each result row as one JSON object.
	JSON
)

// String is the format's name as ksqlDB's OUTPUT command spells it.
func (f Format) String() string {
	if f == JSON {
		return "JSON"
	}
	return "TABULAR"
}

// Options are the terminal's properties. The zero Options is valid: tabular, no color, unlimited width.
type Options struct {
	// Width is the terminal's width in columns; 0 means unlimited (a pipe or a file).
	Width int
	// Color writes errors in red, warnings in yellow and result headers in bold (ANSI escapes).
	Color bool
	// Format chooses tabular or JSON output.
	Format Format
}

// Column is a result column: its name and its SQL type as the server spells it ("BIGINT",
// "DECIMAL(10, 2)", "STRUCT<`A` INTEGER>"); Type may be empty when unknown.
type Column struct{ Name, Type string }

// MinColumnWidth is the narrowest a column is made to fit the terminal (unless its content is
// narrower); ksqlDB's CLI uses the same minimum for push query cells.
const MinColumnWidth = 5

const (
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
	ansiReset  = "\x1b[0m"
)

// cond measures display widths. It ignores the locale so that output does not depend on LANG.
var cond = &runewidth.Condition{EastAsianWidth: false}

func width(s string) int { return cond.StringWidth(s) }

// DecodeRow decodes one JSON array row of /query-stream. Numbers keep their exact text
// (json.Number) and nested objects and arrays stay json.RawMessage, so a STRUCT's fields keep their
// order when it is printed. It is the decoding Table and Stream render best; rows decoded with
// encoding/json into []any render too, with map keys sorted.
func DecodeRow(data []byte) ([]any, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("render: a row that is not a JSON array: %w", err)
	}
	row := make([]any, len(raw))
	for i, r := range raw {
		r = bytes.TrimSpace(r)
		if len(r) > 0 && (r[0] == '{' || r[0] == '[') {
			var b bytes.Buffer
			if err := json.Compact(&b, r); err != nil {
				return nil, fmt.Errorf("render: column %d: %w", i+1, err)
			}
			row[i] = json.RawMessage(b.Bytes())
			continue
		}
		d := json.NewDecoder(bytes.NewReader(r))
		d.UseNumber()
		if err := d.Decode(&row[i]); err != nil {
			return nil, fmt.Errorf("render: column %d: %w", i+1, err)
		}
	}
	return row, nil
}

// cellText is a value as a table cell shows it: strings unquoted, numbers with their exact text, NULL
// as "null", nested values as compact JSON.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	case json.RawMessage:
		var s string
		if len(x) > 0 && x[0] == '"' && json.Unmarshal(x, &s) == nil {
			return s
		}
		var b bytes.Buffer
		if json.Compact(&b, x) == nil {
			return b.String()
		}
		return string(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case map[string]any, []any:
		return jsonText(x)
	}
	return fmt.Sprint(v)
}

// jsonText is a value as JSON text, numbers and raw JSON kept as they are.
func jsonText(v any) string {
	if r, ok := v.(json.RawMessage); ok {
		var b bytes.Buffer
		if json.Compact(&b, r) == nil {
			return b.String()
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return strconv.Quote(fmt.Sprint(v))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// isNumber reports whether a value is a number, for alignment when the column's type is unknown.
func isNumber(v any) bool {
	switch v.(type) {
	case json.Number, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return true
	}
	return false
}

// numericType reports whether a SQL type name is numeric; its values are right-aligned.
func numericType(t string) bool {
	switch baseType(t) {
	case "INT", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC":
		return true
	}
	return false
}

// baseType is a type name without its parameters: "DECIMAL(10, 2)" is DECIMAL.
func baseType(t string) string {
	t = strings.ToUpper(strings.TrimSpace(t))
	if i := strings.IndexAny(t, "(<"); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	return t
}

// sanitize makes a value safe to print inside a cell: tabs become a space, carriage returns go,
// other control characters show as U+FFFD. Newlines stay; they split the cell into lines.
func sanitize(s string) string {
	clean := true
	for _, r := range s {
		if r != '\n' && (r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteRune(r)
		case r == '\t':
			b.WriteByte(' ')
		case r == '\r':
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			b.WriteRune('\uFFFD')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// colorize wraps s in an ANSI color when on.
func colorize(on bool, color, s string) string {
	if !on || s == "" {
		return s
	}
	return color + s + ansiReset
}

// flush pushes buffered output to the terminal when w buffers it.
func flush(w io.Writer) {
	switch f := w.(type) {
	case interface{ Flush() error }:
		_ = f.Flush()
	case interface{ Flush() }:
		f.Flush()
	}
}
