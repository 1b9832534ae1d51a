package render

import (
	"sort"
	"strings"
)

// style is a table's frame.
type style int

const (
	// ksqlStyle is ksqlDB's CLI table: " A | B ", dashes above and below the rows.
	ksqlStyle style = iota
	// boxStyle is psql's and DuckDB's: "| A | B |" inside +---+ borders.
	boxStyle
)

// overhead is the cells a frame takes for n columns besides their contents.
func (s style) overhead(n int) int {
	if s == ksqlStyle {
		return 3*n - 1
	}
	return 3*n + 1
}

// layout is the columns of a table as they are printed: which are shown, how wide, which are
// right-aligned. When some are left out, elided is the position in shown before which a "…" column
// stands for them.
type layout struct {
	style  style
	shown  []int
	widths []int // by position in shown
	right  []bool
	elided int // -1: none left out
}

// fit lays out columns of the given natural widths (the widest content of each) within width
// terminal columns; 0 is unlimited. Columns that do not fit at their natural widths get max-min fair
// shares of what is left, none below min(natural, MinColumnWidth); when those minimums do not fit,
// middle columns are left out, as DuckDB does.
func fit(st style, natural []int, right []bool, width int) layout {
	l := layout{style: st, elided: -1}
	all := make([]int, len(natural))
	for i := range natural {
		all[i] = i
	}
	l.shown = all
	total := st.overhead(len(natural))
	for _, n := range natural {
		total += n
	}
	if width > 0 && total > width && len(natural) > 0 {
		floor := func(i int) int { return min(natural[i], MinColumnWidth) }
		need := func(shown []int, elided bool) int {
			n, cols := 0, len(shown)
			if elided {
				n, cols = 1, cols+1
			}
			for _, i := range shown {
				n += floor(i)
			}
			return n + st.overhead(cols)
		}
		shown := append([]int(nil), all...)
		for len(shown) > 1 && need(shown, len(shown) < len(natural)) > width {
			// Leave out the middle column, keeping the first ones (usually the key) and the last.
			mid := len(shown) / 2
			if len(shown) == len(natural) {
				l.elided = mid
			} else if mid < l.elided {
				l.elided--
			}
			shown = append(shown[:mid], shown[mid+1:]...)
		}
		if len(shown) == len(natural) {
			l.elided = -1
		}
		l.shown = shown
		avail := width - st.overhead(len(shown))
		if l.elided >= 0 {
			avail -= st.overhead(len(shown)+1) - st.overhead(len(shown)) + 1
		}
		l.widths = share(shown, natural, floor, avail)
	} else {
		l.widths = append([]int(nil), natural...)
	}
	for _, i := range l.shown {
		l.right = append(l.right, right != nil && right[i])
	}
	return l
}

// share divides avail cells among the shown columns: each gets its floor, then what is left is
// shared max-min fairly, no column above its natural width. When the floors alone do not fit (one
// column left on a very narrow terminal) the columns get what there is, at least one cell each.
func share(shown, natural []int, floor func(int) int, avail int) []int {
	w := make([]int, len(shown))
	left := avail
	for k, i := range shown {
		w[k] = floor(i)
		left -= w[k]
	}
	if left < 0 {
		for k := range w {
			w[k] = max(1, avail/len(w))
		}
		return w
	}
	order := make([]int, len(shown))
	for k := range order {
		order[k] = k
	}
	sort.SliceStable(order, func(a, b int) bool {
		return natural[shown[order[a]]]-w[order[a]] < natural[shown[order[b]]]-w[order[b]]
	})
	for n, k := range order {
		want := natural[shown[k]] - w[k]
		fair := left / (len(order) - n)
		add := min(want, fair)
		w[k] += add
		left -= add
	}
	return w
}

// total is the printed width of a line of the layout.
func (l layout) total() int {
	n := l.style.overhead(len(l.widths))
	for _, w := range l.widths {
		n += w
	}
	if l.elided >= 0 {
		n += 1 + l.style.overhead(len(l.widths)+1) - l.style.overhead(len(l.widths))
	}
	return n
}

// border is a box-style horizontal line: +----+---+.
func (l layout) border() string {
	var b strings.Builder
	b.WriteByte('+')
	l.each(func(w int, _ bool) {
		b.WriteString(strings.Repeat("-", w+2))
		b.WriteByte('+')
	})
	return b.String()
}

// each calls f for every printed column in order, the "…" column included (elided true).
func (l layout) each(f func(width int, elided bool)) {
	for k, w := range l.widths {
		if k == l.elided {
			f(1, true)
		}
		f(w, false)
	}
	if l.elided == len(l.widths) {
		f(1, true)
	}
}

// header is the table's header lines: each name wrapped between its words within its column, a word
// wider than the column cut with "…".
func (l layout) header(names []string, bold bool) []string {
	return l.wrapped(names, wrapWords, make([]bool, len(names)), bold)
}

// wrapWords splits a header into lines of whole words, cutting a word wider than w with "…".
func wrapWords(s string, w int) []string {
	if width(s) <= w {
		return []string{s}
	}
	var out []string
	cur := ""
	for _, word := range strings.Fields(s) {
		word = cut(word, w)
		switch {
		case cur == "":
			cur = word
		case width(cur)+1+width(word) <= w:
			cur += " " + word
		default:
			out = append(out, cur)
			cur = word
		}
	}
	return append(out, cur)
}

// line is a single-line row of already-fitting cells; mark writes "…" in the column standing for
// the left-out ones.
func (l layout) line(cells []string, right []bool, bold, mark bool) string {
	var b strings.Builder
	if l.style == boxStyle {
		b.WriteByte('|')
	}
	k := 0
	l.each(func(w int, elided bool) {
		text, r := "", false
		if elided && mark {
			text = "…"
		}
		if !elided {
			text, r = cells[k], right[k]
			k++
		}
		if l.style == ksqlStyle && b.Len() > 0 {
			b.WriteString(" |")
		}
		b.WriteByte(' ')
		b.WriteString(colorize(bold, ansiBold, pad(text, w, r)))
		if l.style == boxStyle {
			b.WriteString(" |")
		}
	})
	if l.style == ksqlStyle {
		return strings.TrimRight(b.String(), " ")
	}
	return b.String()
}

// row is a row of cells (one per column, not only the shown ones) as lines: every cell wrapped
// within its column, the row as tall as its tallest cell.
func (l layout) row(cells []string, right []bool) []string {
	return l.wrapped(cells, wrap, right, false)
}

// wrapped lays cells (one per column) out as lines: each shown cell split by wrapFn within its
// column, as many lines as the tallest cell needs. The "…" column marks the first line only.
func (l layout) wrapped(cells []string, wrapFn func(string, int) []string, right []bool, bold bool) []string {
	cols := make([][]string, len(l.shown))
	height := 1
	for k, i := range l.shown {
		cols[k] = wrapFn(sanitize(cells[i]), l.widths[k])
		height = max(height, len(cols[k]))
	}
	lines := make([]string, height)
	for h := range lines {
		cs := make([]string, len(l.shown))
		for k := range l.shown {
			if h < len(cols[k]) {
				cs[k] = cols[k][h]
			}
		}
		lines[h] = l.line(cs, right, bold, h == 0)
	}
	return lines
}

// pad pads s with spaces to w display cells, on the left when right-aligned.
func pad(s string, w int, right bool) string {
	n := w - width(s)
	if n <= 0 {
		return s
	}
	if right {
		return strings.Repeat(" ", n) + s
	}
	return s + strings.Repeat(" ", n)
}

// cut shortens s to at most w display cells, ending it with "…" when it was longer.
func cut(s string, w int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + "…"
	}
	if width(s) <= w {
		return s
	}
	if w <= 1 {
		return "…"
	}
	return cond.Truncate(s, w, "…")
}

// wrap splits s into lines of at most w display cells: at its newlines, and wherever a line is
// longer, at its last space that fits, or between grapheme clusters in a word wider than w.
func wrap(s string, w int) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		for width(line) > w {
			head := cond.Truncate(line, w, "")
			if sp := strings.LastIndexByte(head, ' '); sp > 0 && line[len(head)] != ' ' {
				head = line[:sp+1]
			}
			if head == "" {
				// A character wider than the column (a CJK character in a one-cell column): it goes on
				// its own line rather than looping.
				_, size := firstGrapheme(line)
				head = line[:size]
			}
			out = append(out, strings.TrimRight(head, " "))
			line = strings.TrimLeft(line[len(head):], " ")
		}
		out = append(out, line)
	}
	return out
}

// firstGrapheme is the width and byte length of s's first character.
func firstGrapheme(s string) (int, int) {
	for i := range s {
		if i > 0 {
			return width(s[:i]), i
		}
	}
	return width(s), len(s)
}

// naturalWidth is the widest line of s.
func naturalWidth(s string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		n = max(n, width(line))
	}
	return n
}
