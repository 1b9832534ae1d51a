package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"
)

// testProgress reports `seiche test`'s progress over a directory on stderr: one line rewritten in
// place when stderr is a terminal, a line per file otherwise (a log, or CI). It writes nothing to
// stdout, whose last line stays the "N passed, N failed, N skipped" summary.
type testProgress struct {
	w     io.Writer
	tty   bool
	total int // files
	done  int
	cases int
	start time.Time
	now   func() time.Time
}

// newTestProgress returns a reporter for total files, or nil (which reports nothing) for fewer than
// two: a single file needs no progress.
func newTestProgress(w io.Writer, total int) *testProgress {
	if total < 2 {
		return nil
	}
	f, ok := w.(*os.File)
	return &testProgress{w: w, tty: ok && term.IsTerminal(int(f.Fd())), total: total, start: time.Now(), now: time.Now}
}

// fileDone records that file finished after running cases of its cases.
func (p *testProgress) fileDone(file string, cases int) {
	if p == nil {
		return
	}
	p.done++
	p.cases += cases
	elapsed := p.now().Sub(p.start).Round(100 * time.Millisecond)
	if p.tty {
		// \r and erase the line: the next report replaces this one.
		fmt.Fprintf(p.w, "\r\033[K%d/%d files, %d cases, %v: %s", p.done, p.total, p.cases, elapsed, file)
		return
	}
	fmt.Fprintf(p.w, "test: %d/%d files, %d cases, %v: %s (%d cases)\n", p.done, p.total, p.cases, elapsed, file, cases)
}

// finish ends the in-place line on a terminal, so that the summary starts on a line of its own.
func (p *testProgress) finish() {
	if p != nil && p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
