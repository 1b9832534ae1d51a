package shell

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	prompt "github.com/c-bata/go-prompt"
	"golang.org/x/term"
)

const (
	primaryPrompt      = "seiche> "
	continuationPrompt = "     -> "
	// historyLimit is how many statements the history file keeps.
	historyLimit = 1000
)

// keys wraps the terminal's input under go-prompt. It mends three things of go-prompt's:
//
//   - The terminal's own mode is restored between statements (go-prompt v0.2.6 saves the raw mode over
//     the original one and leaves the terminal raw), so that a running statement sees Ctrl-C as SIGINT
//     and the terminal is left as it was found.
//   - Input typed ahead, or pasted, is not lost: reading stops after an Enter or a Ctrl-C (each ends
//     the prompt) until the next prompt sets up (go-prompt drops what its reader took after them),
//     and a chunk holding several keys is handed over one key or one run of text at a time
//     (go-prompt takes a chunk for one key).
//   - It sees each key before go-prompt does: Ctrl-D (end of input at an empty line), and whether
//     completion's menu should stay open.
type keys struct {
	prompt.ConsoleParser
	tty   int         // a descriptor of the terminal, for its original mode
	orig  *term.State // the terminal's mode before the first prompt
	held  []byte      // read from the terminal, not handed over yet
	pause atomic.Bool // set after an Enter until the next Setup
	eof   atomic.Bool // the last key handed over was Ctrl-D
	// menu is set by TAB when several completions fit; any key but TAB and the arrows closes it.
	menu atomic.Bool
	// searching is set while Ctrl-R cycles through history; any other key ends the search.
	searching atomic.Bool
	// interrupt is set by Ctrl-C at the prompt: the statement being typed is dropped.
	interrupt atomic.Bool
	// done ends the prompt as a Ctrl-C does when the shell is told to stop (SIGTERM).
	done <-chan struct{}
}

var errPaused = errors.New("shell: input paused until the next prompt")

func newKeys() (*keys, error) {
	tty, err := openTTY()
	if err != nil {
		return nil, err
	}
	orig, err := term.GetState(tty)
	if err != nil {
		closeTTY(tty)
		return nil, fmt.Errorf("shell: terminal mode: %w", err)
	}
	return &keys{ConsoleParser: prompt.NewStandardInputParser(), tty: tty, orig: orig}, nil
}

func (k *keys) Setup() error {
	k.pause.Store(false)
	return k.ConsoleParser.Setup()
}

// TearDown leaves the prompt for a running statement: the terminal's own mode, except that what is
// typed ahead is not echoed (it would land in the statement's output; the next prompt shows it).
func (k *keys) TearDown() error {
	err := k.ConsoleParser.TearDown()
	if rerr := term.Restore(k.tty, k.orig); err == nil {
		err = rerr
	}
	noEcho(k.tty)
	return err
}

// close restores the terminal and releases it.
func (k *keys) close() {
	_ = term.Restore(k.tty, k.orig)
	closeTTY(k.tty)
}

func (k *keys) Read() ([]byte, error) {
	if k.pause.Load() {
		return nil, errPaused
	}
	select {
	case <-k.done:
		k.pause.Store(true)
		return []byte{0x03}, nil
	default:
	}
	if len(k.held) == 0 {
		b, err := k.ConsoleParser.Read()
		if err != nil || len(b) == 0 || len(b) == 1 && b[0] == 0 {
			return b, err
		}
		k.held = append(k.held[:0], b...)
	}
	key := nextKey(k.held)
	k.held = k.held[len(key):]
	k.eof.Store(string(key) == "\x04")
	switch string(key) {
	case "\r", "\n", "\x03": // Enter and Ctrl-C end the prompt
		k.pause.Store(true)
	case "\t", "\x1b[Z": // TAB and Shift-TAB walk the menu
		k.searching.Store(false)
		return key, nil
	case "\x12": // Ctrl-R searches on
		return key, nil
	case "\x1b[A", "\x1b[B", "\x1bOA", "\x1bOB":
		if k.menu.Load() {
			return key, nil // the arrows walk an open menu
		}
	}
	k.menu.Store(false)
	k.searching.Store(false)
	return key, nil
}

// nextKey returns the first key of b: an escape sequence, one control character, or a run of text up
// to the next control character.
func nextKey(b []byte) []byte {
	switch {
	case b[0] == 0x1b:
		// An escape sequence: ESC [ params final, ESC O x, or ESC alone.
		if len(b) >= 3 && b[1] == '[' {
			for i := 2; i < len(b); i++ {
				if b[i] >= 0x40 && b[i] <= 0x7e {
					return b[:i+1]
				}
			}
			return b
		}
		if len(b) >= 3 && b[1] == 'O' {
			return b[:3]
		}
		if len(b) >= 2 {
			return b[:2] // Alt-key
		}
		return b
	case b[0] < 0x20 || b[0] == 0x7f:
		return b[:1]
	}
	i := 1
	for i < len(b) && b[i] >= 0x20 && b[i] != 0x7f && b[i] != 0x1b {
		i++
	}
	return b[:i]
}

// history is the statements typed before, oldest first, kept in a file across sessions.
type history struct {
	path    string
	entries []string
	mu      sync.Mutex
}

func loadHistory(path string) *history {
	h := &history{path: path}
	if path == "" {
		return h
	}
	f, err := os.Open(path)
	if err != nil {
		return h
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" {
			h.entries = append(h.entries, line)
		}
	}
	if len(h.entries) > historyLimit {
		h.entries = h.entries[len(h.entries)-historyLimit:]
		h.rewrite()
	}
	return h
}

// add appends a statement (on one line) to the history and its file.
func (h *history) add(entry string) {
	entry = strings.Join(strings.Fields(entry), " ")
	if entry == "" {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if n := len(h.entries); n > 0 && h.entries[n-1] == entry {
		return
	}
	h.entries = append(h.entries, entry)
	if h.path == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(h.path), 0o700); err != nil {
		return
	}
	f, err := os.OpenFile(h.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return
	}
	fmt.Fprintln(f, entry)
	f.Close()
}

func (h *history) rewrite() {
	tmp := h.path + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(h.entries, "\n")+"\n"), 0o600); err == nil {
		_ = os.Rename(tmp, h.path)
	}
}

// search returns the newest entry older than index from that contains term (case-insensitively), and
// its index; -1 when none.
func (h *history) search(term string, from int) (string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	term = strings.ToLower(term)
	if from > len(h.entries) {
		from = len(h.entries)
	}
	for i := from - 1; i >= 0; i-- {
		if strings.Contains(strings.ToLower(h.entries[i]), term) {
			return h.entries[i], i
		}
	}
	return "", -1
}

func (h *history) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.entries...)
}

// Interactive reads statements at a prompt and runs each as it is completed by ';', until EXIT, QUIT
// or Ctrl-D. Ctrl-C drops the statement being typed, or cancels the one running; a statement that fails
// is reported and the shell goes on.
func (s *Shell) Interactive(ctx context.Context) error {
	hist := loadHistory(s.opt.HistoryFile)
	in, err := newKeys()
	if err != nil {
		return err
	}
	defer in.close()
	in.done = ctx.Done()

	// At the prompt the terminal is raw and Ctrl-C is a key; while a statement runs it is a signal,
	// which cancels the statement only.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	go func() {
		for range sigs {
			s.Interrupt()
		}
	}()

	s.cat.refresh()
	var pending string
	var search struct {
		term string
		at   int
	}
	for ctx.Err() == nil {
		in.eof.Store(false)
		in.interrupt.Store(false)
		in.menu.Store(false)
		before := pending
		opts := []prompt.Option{
			prompt.OptionParser(in),
			prompt.OptionHistory(hist.list()),
			prompt.OptionLivePrefix(func() (string, bool) {
				if in.searching.Load() {
					return fmt.Sprintf("(search '%s') ", search.term), true
				}
				if before != "" {
					return continuationPrompt, true
				}
				return primaryPrompt, true
			}),
			prompt.OptionTitle("seiche"),
			prompt.OptionCompletionWordSeparator(" \t()[],.;=<>+-*/|'\""),
			prompt.OptionMaxSuggestion(8),
			prompt.OptionSetExitCheckerOnInput(func(string, bool) bool { return in.interrupt.Load() }),
			prompt.OptionAddKeyBind(
				prompt.KeyBind{Key: prompt.ControlC, Fn: func(*prompt.Buffer) { in.interrupt.Store(true) }},
				prompt.KeyBind{Key: prompt.Tab, Fn: func(buf *prompt.Buffer) { s.tab(in, before, buf) }},
				prompt.KeyBind{Key: prompt.ControlR, Fn: func(buf *prompt.Buffer) {
					if !in.searching.Load() {
						search.term, search.at = buf.Text(), len(hist.list())
						in.searching.Store(true)
					}
					if entry, i := hist.search(search.term, search.at); i >= 0 {
						search.at = i
						replaceBuffer(buf, entry)
					}
				}},
			),
		}
		if !s.opt.Color {
			opts = append(opts, noColors()...)
		}
		p := prompt.New(func(string) {}, func(d prompt.Document) []prompt.Suggest {
			if !in.menu.Load() {
				return nil
			}
			return s.cat.complete(before, d.TextBeforeCursor())
		}, opts...)
		line := p.Input()
		switch {
		case in.interrupt.Load():
			pending = ""
			continue
		case in.eof.Load() && line == "":
			return nil
		}
		if pending == "" && isShellCommand(line) {
			hist.add(line)
			if err := s.command(line); errors.Is(err, ErrExit) {
				return nil
			}
			continue
		}
		text := line
		if pending != "" {
			text = pending + "\n" + line
		}
		stmts, rest := split(text)
		if len(stmts) > 0 {
			hist.add(text)
		}
		pending = rest
		for _, st := range stmts {
			if err := s.Exec(ctx, st); errors.Is(err, ErrExit) {
				return nil
			}
		}
	}
	return ctx.Err()
}

// tab completes the word before the cursor: the one completion that fits is written out; when
// several fit, their common prefix is, and the menu opens (TAB again walks it).
func (s *Shell) tab(in *keys, before string, buf *prompt.Buffer) {
	if in.menu.Load() {
		return // go-prompt walks the open menu
	}
	line := buf.Document().TextBeforeCursor()
	word := lastWord(line)
	sugg := s.cat.complete(before, line)
	switch {
	case len(sugg) == 0:
	case len(sugg) == 1:
		buf.DeleteBeforeCursor(len([]rune(word)))
		buf.InsertText(sugg[0].Text+" ", false, true)
	default:
		if p := commonPrefix(sugg); len(p) > len(word) {
			buf.DeleteBeforeCursor(len([]rune(word)))
			buf.InsertText(matchCase(p, word), false, true)
		}
		in.menu.Store(true)
	}
}

func replaceBuffer(buf *prompt.Buffer, text string) {
	buf.CursorRight(len([]rune(buf.Text())))
	buf.DeleteBeforeCursor(len([]rune(buf.Text())))
	buf.InsertText(text, false, true)
}

func noColors() []prompt.Option {
	return []prompt.Option{
		prompt.OptionPrefixTextColor(prompt.DefaultColor),
		prompt.OptionInputTextColor(prompt.DefaultColor),
		prompt.OptionPreviewSuggestionTextColor(prompt.DefaultColor),
		prompt.OptionSuggestionTextColor(prompt.DefaultColor),
		prompt.OptionSuggestionBGColor(prompt.DefaultColor),
		prompt.OptionSelectedSuggestionTextColor(prompt.DefaultColor),
		prompt.OptionSelectedSuggestionBGColor(prompt.DefaultColor),
		prompt.OptionDescriptionTextColor(prompt.DefaultColor),
		prompt.OptionDescriptionBGColor(prompt.DefaultColor),
		prompt.OptionSelectedDescriptionTextColor(prompt.DefaultColor),
		prompt.OptionSelectedDescriptionBGColor(prompt.DefaultColor),
		prompt.OptionScrollbarThumbColor(prompt.DefaultColor),
		prompt.OptionScrollbarBGColor(prompt.DefaultColor),
	}
}

// isShellCommand reports whether a line is one of the commands that need no ';': exit, quit, help,
// \timing and friends.
func isShellCommand(line string) bool {
	f := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), ";"))
	if len(f) == 0 {
		return false
	}
	switch strings.ToLower(f[0]) {
	case "exit", "quit", "help", `\q`, `\?`, `\h`, `\timing`:
		return len(f) <= 2
	}
	return false
}

// command runs a shell command (see isShellCommand).
func (s *Shell) command(line string) error {
	f := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), ";"))
	switch strings.ToLower(f[0]) {
	case "exit", "quit", `\q`:
		return ErrExit
	case `\timing`:
		switch {
		case len(f) == 1:
			s.timing = !s.timing
		default:
			s.timing = strings.EqualFold(f[1], "on")
		}
		state := "off"
		if s.timing {
			state = "on"
		}
		fmt.Fprintf(s.opt.Out, "Timing is %s.\n", state)
	default:
		s.help(s.opt.Out)
	}
	return nil
}

func (s *Shell) help(w io.Writer) {
	fmt.Fprint(w, `Statements end with ';' and may span lines. Besides SQL (CREATE, SELECT, INSERT, SHOW, DESCRIBE, ...):
  SET 'property'='value';     UNSET 'property';     properties sent with every statement
  DEFINE name = 'value';      UNDEFINE name;        variables substituted for ${name}
  SHOW VARIABLES;             RUN SCRIPT 'file.sql';
  OUTPUT JSON;                OUTPUT TABULAR;
  \timing [on|off]            show how long each statement took
  help                        this text
  exit, quit or Ctrl-D        leave the shell
Keys: TAB completes names and keywords, Up/Down walk the history, Ctrl-R searches it,
Ctrl-C drops the statement being typed or cancels the running query.
`)
}
