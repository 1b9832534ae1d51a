// Package shell is Seiche's interactive SQL shell: statements typed at a prompt (or read from a
// file, a flag or a pipe) sent to a server's REST API, their answers rendered as ksqlDB's CLI renders
// them.
//
// Statements end at ';' and may span lines; SET/UNSET, DEFINE/UNDEFINE, RUN SCRIPT, OUTPUT and EXIT
// are the shell's own, as in ksqlDB's CLI: properties and variables are kept here and sent with every
// statement.
package shell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/seichedb/seiche/cli/shell/render"
	"github.com/seichedb/seiche/sql/parser"
)

// Options configure a Shell.
type Options struct {
	Client *Client
	// Out receives answers, Err errors and notices.
	Out, Err io.Writer
	// Color turns on colours (errors in red); off for a pipe, a file or NO_COLOR.
	Color bool
	// Width returns the terminal's width in columns; nil or 0 means unlimited (a pipe).
	Width func() int
	// HistoryFile keeps interactive input across sessions; empty keeps none.
	HistoryFile string
	// Dir is the directory RUN SCRIPT resolves relative paths against (default: the working directory).
	Dir string
}

// Shell runs statements against one server. It is not safe for concurrent use, apart from Interrupt.
type Shell struct {
	opt    Options
	props  map[string]string
	vars   map[string]string
	format render.Format
	timing bool
	cat    *catalog

	mu     sync.Mutex
	cancel context.CancelFunc // of the running statement; nil between statements
}

// ErrExit is what Run returns for EXIT or QUIT: the caller stops reading statements.
var ErrExit = errors.New("exit")

// StatementError is a statement that failed; Run has already printed it.
type StatementError struct{ Err error }

func (e *StatementError) Error() string { return e.Err.Error() }
func (e *StatementError) Unwrap() error { return e.Err }

// New returns a shell for the server o.Client talks to.
func New(o Options) *Shell {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Err == nil {
		o.Err = o.Out
	}
	s := &Shell{opt: o, props: map[string]string{}, vars: map[string]string{}, format: render.Tabular}
	s.cat = newCatalog(o.Client)
	return s
}

func (s *Shell) renderOptions() render.Options {
	w := 0
	if s.opt.Width != nil {
		w = s.opt.Width()
	}
	return render.Options{Width: w, Color: s.opt.Color, Format: s.format}
}

// Interrupt cancels the running statement (a push query, a slow request), not the shell. It reports
// whether there was one to cancel.
func (s *Shell) Interrupt() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel == nil {
		return false
	}
	s.cancel()
	return true
}

// Run runs the statements of text in order and stops at the first that fails, returning a
// *StatementError (already printed), or ErrExit at EXIT.
func (s *Shell) Run(ctx context.Context, text string) error {
	stmts, rest := split(text)
	if rest != "" {
		stmts = append(stmts, rest) // the last statement of a script may go without its ';'
	}
	for _, st := range stmts {
		if err := s.Exec(ctx, st); err != nil {
			return err
		}
	}
	return nil
}

// Exec runs one statement (without its ';').
func (s *Shell) Exec(ctx context.Context, stmt string) error {
	ctx, cancel := context.WithCancel(ctx)
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.cancel = nil
		s.mu.Unlock()
		cancel()
	}()
	start := time.Now()
	err := s.exec(ctx, stmt)
	if errors.Is(err, ErrExit) {
		return err
	}
	if err != nil {
		if !errors.Is(err, render.ErrServerError) { // Entities has printed that one
			s.printError(err, stmt)
		}
		return &StatementError{Err: err}
	}
	if s.timing {
		fmt.Fprintf(s.opt.Out, "Time: %.3f ms\n", float64(time.Since(start).Microseconds())/1000)
	}
	return nil
}

func (s *Shell) exec(ctx context.Context, stmt string) error {
	w := words(stmt, 3)
	if len(w) == 0 {
		return nil
	}
	switch w[0] {
	case "EXIT", "QUIT":
		if len(w) == 1 {
			return ErrExit
		}
	case "SET", "UNSET", "DEFINE", "UNDEFINE":
		return s.local(stmt)
	case "RUN":
		if len(w) > 1 && w[1] == "SCRIPT" {
			return s.runScript(ctx, stmt)
		}
	case "OUTPUT":
		return s.output(w[1:])
	case "SHOW", "LIST":
		if len(w) > 1 && w[1] == "VARIABLES" {
			return s.showVariables(stmt)
		}
	case "SELECT", "PRINT":
		return s.query(ctx, stmt, w[0] == "PRINT")
	}
	body, err := s.opt.Client.Statement(ctx, stmt, s.request())
	if err != nil {
		return err
	}
	if err := render.Entities(s.opt.Out, body, s.renderOptions()); err != nil {
		return err
	}
	switch w[0] {
	case "CREATE", "DROP", "TERMINATE", "ALTER":
		s.cat.refresh()
	}
	return nil
}

func (s *Shell) request() Request { return Request{Properties: s.props, Variables: s.vars} }

// local runs SET, UNSET, DEFINE and UNDEFINE, which only change what later statements carry.
func (s *Shell) local(stmt string) error {
	ps := parser.Parser{Vars: s.vars}
	parsed, err := ps.ParseScript(stmt)
	if err != nil {
		return err
	}
	for _, p := range parsed {
		switch st := p.Statement.(type) {
		case *parser.SetProperty:
			s.props[st.Name] = st.Value
			fmt.Fprintf(s.opt.Out, "Successfully changed local property '%s' to '%s'.\n", st.Name, st.Value)
		case *parser.UnsetProperty:
			old, ok := s.props[st.Name]
			delete(s.props, st.Name)
			if ok {
				fmt.Fprintf(s.opt.Out, "Successfully unset local property '%s' (value was '%s').\n", st.Name, old)
			} else {
				fmt.Fprintf(s.opt.Out, "Local property '%s' was not set.\n", st.Name)
			}
		case *parser.DefineVariable:
			s.vars[st.Name] = st.Value
		case *parser.UndefineVariable:
			if _, ok := s.vars[st.Name]; !ok {
				fmt.Fprintf(s.opt.Err, "Variable '%s' is not defined.\n", st.Name)
			}
			delete(s.vars, st.Name)
		default:
			return fmt.Errorf("not a SET, UNSET, DEFINE or UNDEFINE statement: %s", p.Text)
		}
	}
	return nil
}

// runScript is RUN SCRIPT 'file': the file's statements run in order, stopping at the first error.
func (s *Shell) runScript(ctx context.Context, stmt string) error {
	f := strings.Fields(stmt)
	arg := strings.TrimSpace(strings.Join(f[2:], " "))
	if len(arg) < 2 || arg[0] != '\'' || arg[len(arg)-1] != '\'' {
		return fmt.Errorf("RUN SCRIPT takes a quoted file name: RUN SCRIPT '/path/to/file.sql'")
	}
	path := strings.ReplaceAll(arg[1:len(arg)-1], "''", "'")
	if !filepath.IsAbs(path) && s.opt.Dir != "" {
		path = filepath.Join(s.opt.Dir, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("RUN SCRIPT: %w", err)
	}
	err = s.Run(ctx, string(b))
	var se *StatementError
	if errors.As(err, &se) {
		// Already printed; say where the script stopped.
		return fmt.Errorf("RUN SCRIPT '%s' stopped at the statement that failed", path)
	}
	return err
}

// output is OUTPUT [JSON|TABULAR]: alone, it names the current format.
func (s *Shell) output(args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(s.opt.Out, "Output format: %s\n", s.format)
		return nil
	}
	if err := s.SetOutput(args[0]); err != nil {
		return err
	}
	fmt.Fprintf(s.opt.Out, "Output format set to %s\n", s.format)
	return nil
}

// SetOutput sets the answers' format: JSON or TABULAR (in any case).
func (s *Shell) SetOutput(format string) error {
	switch strings.ToUpper(format) {
	case "JSON":
		s.format = render.JSON
	case "TABULAR":
		s.format = render.Tabular
	default:
		return fmt.Errorf("OUTPUT takes JSON or TABULAR, not %s", format)
	}
	return nil
}

// showVariables lists the variables DEFINE set, which live in the shell.
func (s *Shell) showVariables(stmt string) error {
	names := make([]string, 0, len(s.vars))
	for n := range s.vars {
		names = append(names, n)
	}
	sort.Strings(names)
	rows := make([][]any, len(names))
	for i, n := range names {
		rows[i] = []any{n, s.vars[n]}
	}
	render.Table(s.opt.Out, []render.Column{{Name: "Variable Name", Type: "STRING"}, {Name: "Value", Type: "STRING"}}, rows, s.renderOptions())
	return nil
}

// query runs a SELECT (push or pull) or PRINT through /query-stream and renders its rows: a pull
// query's as one table sized to them, a push query's as they arrive, PRINT's as lines.
func (s *Shell) query(ctx context.Context, stmt string, print bool) error {
	rows, err := s.opt.Client.Query(ctx, stmt, s.request())
	if err != nil {
		return err
	}
	defer rows.Close()
	cols := make([]render.Column, len(rows.Columns))
	for i, c := range rows.Columns {
		cols[i] = render.Column{Name: c}
		if i < len(rows.Types) {
			cols[i].Type = rows.Types[i]
		}
	}
	o := s.renderOptions()
	push := print || isPush(stmt)
	var n int
	var st *render.Stream
	if push && !print {
		// The header goes out at once, as ksqlDB's CLI shows it: a push query may wait long for a row.
		st = render.NewStream(s.opt.Out, cols, o)
	}
	var buffered [][]any
	for {
		row, ok := rows.Next()
		if !ok {
			break
		}
		n++
		switch {
		case print:
			if len(row) > 0 {
				fmt.Fprintln(s.opt.Out, row[0])
			}
		case push:
			st.Row(row)
		default:
			buffered = append(buffered, row)
		}
	}
	err = rows.Err()
	cancelled := ctx.Err() != nil
	switch {
	case print:
	case push:
		st.Close()
	default:
		render.Table(s.opt.Out, cols, buffered, o)
	}
	switch {
	case cancelled:
		fmt.Fprintln(s.opt.Out, "Query terminated")
		return nil
	case err != nil:
		var ue *UnreachableError
		if errors.As(err, &ue) {
			ue.URL = s.opt.Client.URL
			return fmt.Errorf("the query stopped: %w", ue)
		}
		return err
	case push:
		if hasLimit(stmt) {
			fmt.Fprintln(s.opt.Out, "Limit Reached")
		}
		fmt.Fprintln(s.opt.Out, "Query terminated")
	default:
		fmt.Fprintf(s.opt.Out, "(%d %s)\n", n, plural(n, "row", "rows"))
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// isPush reports whether a SELECT is a push query (EMIT CHANGES or EMIT FINAL).
func isPush(stmt string) bool {
	f := strings.Fields(strings.ToUpper(stripComments(stmt)))
	for i := 0; i+1 < len(f); i++ {
		if f[i] == "EMIT" && (f[i+1] == "CHANGES" || f[i+1] == "FINAL") {
			return true
		}
	}
	return false
}

// hasLimit reports whether a query ends with LIMIT n.
func hasLimit(stmt string) bool {
	f := strings.Fields(strings.ToUpper(stripComments(stmt)))
	return len(f) >= 2 && f[len(f)-2] == "LIMIT"
}

// printError renders err: a server's or the parser's message with a caret under the position it
// names, a server that cannot be reached with what to do.
func (s *Shell) printError(err error, stmt string) {
	o := s.renderOptions()
	var ue *UnreachableError
	if errors.As(err, &ue) {
		if ue.URL == "" {
			ue.URL = s.opt.Client.URL
		}
		render.Error(s.opt.Err, ue.Error()+"\nThe server may have stopped; the next statement tries again.", "", o)
		return
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(s.opt.Err, "Cancelled")
		return
	}
	var se *ServerError
	if errors.As(err, &se) && se.Statement != "" {
		stmt = se.Statement
	}
	render.Error(s.opt.Err, err.Error(), stmt, o)
}

// Script runs the statements read from r, each as soon as its ';' is read (so a pipe is served as it
// is written), and stops at the first that fails, returning its *StatementError. The shell commands
// that need no ';' (exit, \timing) work on a line of their own; EXIT ends the script without error.
func (s *Shell) Script(ctx context.Context, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	var pending string
	for sc.Scan() {
		line := sc.Text()
		if pending == "" && isShellCommand(line) {
			if err := s.command(line); err != nil {
				return nilIfExit(err)
			}
			continue
		}
		text := line
		if pending != "" {
			text = pending + "\n" + line
		}
		var stmts []string
		stmts, pending = split(text)
		for _, st := range stmts {
			if err := s.Exec(ctx, st); err != nil {
				return nilIfExit(err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if pending != "" {
		return nilIfExit(s.Exec(ctx, pending)) // the last statement may go without its ';'
	}
	return nil
}

func nilIfExit(err error) error {
	if errors.Is(err, ErrExit) {
		return nil
	}
	return err
}
