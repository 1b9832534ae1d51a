package render

import (
	"bufio"
	"io"
	"strconv"
	"strings"
)

// Table writes a bounded result (a pull query's rows) as psql and DuckDB do:
//
//	+----+-------+
//	| ID | NAME  |
//	+----+-------+
//	|  1 | alice |
//	|  2 | null  |
//	+----+-------+
//
// Columns are as wide as their widest value; numbers (by column type, or by value when the type is
// unknown) are right-aligned; NULL is "null"; nested values are compact JSON. A table wider than
// o.Width is fitted as the package doc says. Each row is a slice of values as DecodeRow returns them;
// a row shorter than cols is padded with nulls. It writes no row count: that is the caller's footer.
//
// With o.Format JSON it writes one JSON object per row, {"COL":value,...}, in column order.
// Write errors are not reported: the terminal is the only reader.
func Table(w io.Writer, cols []Column, rows [][]any, o Options) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	if o.Format == JSON {
		for _, r := range rows {
			writeJSONRow(bw, cols, r)
		}
		return
	}
	if len(cols) == 0 {
		return
	}
	cells := make([][]string, len(rows))
	natural := make([]int, len(cols))
	right := make([][]bool, len(rows))
	for i, c := range cols {
		natural[i] = max(1, naturalWidth(sanitize(c.Name)))
	}
	for r, row := range rows {
		cells[r] = make([]string, len(cols))
		right[r] = make([]bool, len(cols))
		for i, c := range cols {
			var v any
			if i < len(row) {
				v = row[i]
			}
			cells[r][i] = cellText(v)
			natural[i] = max(natural[i], naturalWidth(sanitize(cells[r][i])))
			right[r][i] = numericType(c.Type) || c.Type == "" && isNumber(v)
		}
	}
	l := fit(boxStyle, natural, nil, o.Width)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	writeLines(bw, l.border())
	writeLines(bw, l.header(names, o.Color)...)
	writeLines(bw, l.border())
	for r := range rows {
		writeLines(bw, l.row(cells[r], shownRight(l, right[r]))...)
	}
	writeLines(bw, l.border())
}

// shownRight is the alignment of a row's shown cells.
func shownRight(l layout, right []bool) []bool {
	out := make([]bool, len(l.shown))
	for k, i := range l.shown {
		out[k] = right[i]
	}
	return out
}

func writeLines(w io.Writer, lines ...string) {
	for _, s := range lines {
		io.WriteString(w, s)
		io.WriteString(w, "\n")
	}
}

// writeJSONRow writes a row as one JSON object of its columns, in order, numbers as received.
func writeJSONRow(w io.Writer, cols []Column, row []any) {
	var b strings.Builder
	b.WriteByte('{')
	for i, c := range cols {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(jsonText(c.Name))
		b.WriteByte(':')
		var v any
		if i < len(row) {
			v = row[i]
		}
		b.WriteString(jsonText(v))
	}
	b.WriteString("}\n")
	io.WriteString(w, b.String())
}

// Stream writes an unbounded result (a push query's rows) as they arrive. Its column widths are chosen
// before the first row, from the column types and o.Width: numbers, booleans, dates and times get the
// width their widest value needs, the other columns share the rest of the terminal. A value wider
// than its column wraps within it.
//
// A Stream is used by one goroutine; it writes through to w and flushes w after each row when w has a
// Flush method.
type Stream struct {
	w      io.Writer
	cols   []Column
	o      Options
	l      layout
	right  []bool
	closed bool
}

// Type widths for stream columns: the display width of the widest value of the type.
var typeWidths = map[string]int{
	"BOOLEAN":   5,
	"TINYINT":   4,
	"SMALLINT":  6,
	"INT":       11,
	"INTEGER":   11,
	"BIGINT":    20,
	"DOUBLE":    22,
	"FLOAT":     22,
	"REAL":      22,
	"DATE":      10,
	"TIME":      12,
	"TIMESTAMP": 23, // 2024-01-31T23:59:59.999
}

// Widths of a stream's columns of other types (strings, bytes, nested values).
const (
	flexibleMin       = 16 // their natural width, which fit shrinks on narrow terminals
	flexibleMax       = 64 // the widest they grow to fill a wide terminal
	flexibleUnlimited = 32 // their width when the terminal's width is unknown
)

// NewStream starts a result and writes its header: in tabular format the top border, the column names
// and a separator; in JSON format nothing.
func NewStream(w io.Writer, cols []Column, o Options) *Stream {
	s := &Stream{w: w, cols: cols, o: o}
	if o.Format == JSON || len(cols) == 0 {
		return s
	}
	natural := make([]int, len(cols))
	flexible := make([]bool, len(cols))
	right := make([]bool, len(cols))
	for i, c := range cols {
		tw, ok := typeWidths[baseType(c.Type)]
		if !ok && baseType(c.Type) == "DECIMAL" {
			tw, ok = decimalWidth(c.Type), true
		}
		if !ok {
			flexible[i] = true
			tw = flexibleMin
			if o.Width <= 0 {
				tw = flexibleUnlimited
			}
		}
		natural[i] = max(tw, width(sanitize(c.Name)))
		right[i] = numericType(c.Type)
	}
	s.l = fit(boxStyle, natural, right, o.Width)
	s.grow(flexible)
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	s.right = make([]bool, len(cols))
	copy(s.right, right)
	writeLines(w, s.l.border())
	writeLines(w, s.l.header(names, o.Color)...)
	writeLines(w, s.l.border())
	flush(w)
	return s
}

// grow widens the flexible columns to fill the terminal, up to flexibleMax each.
func (s *Stream) grow(flexible []bool) {
	if s.o.Width <= 0 || s.l.elided >= 0 {
		return
	}
	var flex []int
	for k, i := range s.l.shown {
		if flexible[i] {
			flex = append(flex, k)
		}
	}
	for left := s.o.Width - s.l.total(); left > 0 && len(flex) > 0; {
		grown := false
		for _, k := range flex {
			if left > 0 && s.l.widths[k] < flexibleMax {
				s.l.widths[k]++
				left--
				grown = true
			}
		}
		if !grown {
			return
		}
	}
}

// decimalWidth is the widest DECIMAL(p, s) value: its digits, a sign and a point.
func decimalWidth(t string) int {
	open, end := strings.IndexByte(t, '('), strings.IndexAny(t, ",)")
	if open < 0 || end < open {
		return 22
	}
	p, err := strconv.Atoi(strings.TrimSpace(t[open+1 : end]))
	if err != nil {
		return 22
	}
	return p + 2
}

// Row writes one row of values (as DecodeRow returns them) and flushes it to the terminal.
func (s *Stream) Row(row []any) {
	if s.closed {
		return
	}
	if s.o.Format == JSON {
		writeJSONRow(s.w, s.cols, row)
		flush(s.w)
		return
	}
	if len(s.cols) == 0 {
		return
	}
	cells := make([]string, len(s.cols))
	right := make([]bool, len(s.cols))
	for i, c := range s.cols {
		var v any
		if i < len(row) {
			v = row[i]
		}
		cells[i] = cellText(v)
		right[i] = s.right[i] || c.Type == "" && isNumber(v)
	}
	var b strings.Builder
	writeLines(&b, s.l.row(cells, shownRight(s.l, right))...)
	io.WriteString(s.w, b.String())
	flush(s.w)
}

// Close writes the bottom border (nothing in JSON format). The footer ("Limit Reached", "Query
// terminated") is the caller's, which knows why the result ended. Close is idempotent; Row after
// Close writes nothing.
func (s *Stream) Close() {
	if s.closed {
		return
	}
	s.closed = true
	if s.o.Format == JSON || len(s.cols) == 0 {
		return
	}
	writeLines(s.w, s.l.border())
	flush(s.w)
}
