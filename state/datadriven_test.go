package state

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// A small data-driven test runner in the style of cockroachdb/datadriven. A file is a sequence of
// cases:
//
//	# comments and blank lines
//	command arg=value flag
//	optional input lines
//	----
//	expected output (up to a blank line or the end of the file)
//
// go test -run TestDataDriven ./state -rewrite regenerates the expected outputs.

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of data-driven tests")

type ddArg struct {
	key, val string
	hasVal   bool
}

type ddCase struct {
	pos      string
	leading  []string // comment and blank lines before the directive
	cmd      string
	args     []ddArg
	input    []string
	expected string
	line     string // the directive line as written
}

func (d *ddCase) arg(key string) (string, bool) {
	for _, a := range d.args {
		if a.key == key {
			return a.val, true
		}
	}
	return "", false
}

func (d *ddCase) has(key string) bool {
	_, ok := d.arg(key)
	return ok
}

func parseDataDriven(t testing.TB, path string) ([]*ddCase, []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var cases []*ddCase
	var leading []string
	sc := bufio.NewScanner(f)
	lineNo := 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		lineNo++
		return sc.Text(), true
	}
	for {
		line, ok := next()
		if !ok {
			break
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			leading = append(leading, line)
			continue
		}
		d := &ddCase{pos: fmt.Sprintf("%s:%d", path, lineNo), leading: leading, line: line}
		leading = nil
		fields := strings.Fields(line)
		d.cmd = fields[0]
		for _, f := range fields[1:] {
			k, v, has := strings.Cut(f, "=")
			d.args = append(d.args, ddArg{key: k, val: v, hasVal: has})
		}
		for {
			l, ok := next()
			if !ok {
				t.Fatalf("%s: missing ----", d.pos)
			}
			if l == "----" {
				break
			}
			d.input = append(d.input, l)
		}
		var out []string
		for {
			l, ok := next()
			if !ok || strings.TrimSpace(l) == "" {
				break
			}
			out = append(out, l)
		}
		d.expected = strings.Join(out, "\n")
		cases = append(cases, d)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases, leading
}

// runDataDriven runs every case of the file through fn and compares (or, with -rewrite and
// rewriteFile set, rewrites) the output.
func runDataDriven(t *testing.T, path string, rewriteFile bool, fn func(t *testing.T, d *ddCase) string) {
	t.Helper()
	cases, trailing := parseDataDriven(t, path)
	var b strings.Builder
	for _, d := range cases {
		got := strings.TrimRight(fn(t, d), "\n")
		if *rewrite && rewriteFile {
			for _, l := range d.leading {
				b.WriteString(l + "\n")
			}
			b.WriteString(d.line + "\n")
			for _, l := range d.input {
				b.WriteString(l + "\n")
			}
			b.WriteString("----\n")
			if got != "" {
				b.WriteString(got + "\n")
			}
			b.WriteString("\n")
			continue
		}
		if got != d.expected {
			t.Fatalf("%s: %s\nexpected:\n%s\ngot:\n%s", d.pos, d.line, d.expected, got)
		}
	}
	if *rewrite && rewriteFile {
		for _, l := range trailing {
			if strings.TrimSpace(l) != "" {
				b.WriteString(l + "\n")
			}
		}
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
