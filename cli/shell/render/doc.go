// Package render writes the answers of a Seiche (ksqlDB-compatible) server on a terminal: the entities
// of POST /ksql as ksqlDB's CLI prints them, server errors with a caret under the position they name,
// and query results as psql and DuckDB print tables.
//
// Owns: the text layout of answers. Given the same input and Options it writes the same bytes, so its
// output can be compared with golden files.
//
// Never does: talk to a server, read a terminal, or decide what a statement is. The caller decodes the
// transport (HTTP, chunked lines) and passes bodies, messages and rows; it measures the terminal and
// passes its width in Options.
//
// Layout rules shared by every table:
//   - Widths are display cells (github.com/mattn/go-runewidth with East Asian ambiguous characters
//     counted as one cell, whatever the locale), so CJK and emoji columns line up.
//   - A table wider than Options.Width gives its columns max-min fair shares of the width, none
//     narrower than its content or MinColumnWidth cells. A cell wider than its column wraps within
//     it; a header wider than its column is cut with "…". When even the narrowest columns do not fit,
//     the middle columns are left out and one "…" column stands for them, as DuckDB does, so a line
//     never runs past the terminal's edge and wraps there.
//   - Control characters in values are shown as U+FFFD and tabs as a space, so data cannot move the
//     cursor; newlines in a value start a new line within its cell.
//   - Lines carry no trailing spaces (ksqlDB pads its last column; nothing on a terminal shows it).
//
// Concurrency: the functions are safe to call concurrently on different writers; a Stream is used by
// one goroutine.
package render
