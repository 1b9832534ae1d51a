package cli

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tmuxSession is a terminal a test types into: a tmux session of a fixed size whose screen the test
// reads back.
type tmuxSession struct {
	t    *testing.T
	name string
}

func startTmux(t *testing.T, width, height int, env []string, argv ...string) *tmuxSession {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Skip("tmux is not installed (Debian: apt-get install tmux; .ci/run installs it): the shell's terminal test needs a terminal")
	}
	s := &tmuxSession{t: t, name: fmt.Sprintf("seiche-test-%d", time.Now().UnixNano())}
	// A socket of the test's own keeps it away from the user's tmux server.
	sock := filepath.Join(t.TempDir(), "tmux.sock")
	s.name = "-S" + sock
	// tmux runs the command with sh; the program's exit status is printed after it, for exitStatus.
	cmd := strings.Join(append(append([]string{"env"}, env...), shellQuote(argv)...), " ") + `; echo "[exit status $?]"`
	s.tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", fmt.Sprint(width), "-y", fmt.Sprint(height), cmd)
	s.tmux("set-option", "-t", "t", "remain-on-exit", "on")
	t.Cleanup(func() { _ = exec.Command("tmux", s.name, "kill-server").Run() })
	return s
}

func shellQuote(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return out
}

func (s *tmuxSession) tmux(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("tmux", append([]string{s.name}, args...)...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// screen is what the terminal shows now, wrapped lines joined.
func (s *tmuxSession) screen() string { return s.tmux("capture-pane", "-p", "-J", "-t", "t") }

// typeText types text literally. tmux reads an argument's trailing ';' as the end of its command,
// so that one is escaped.
func (s *tmuxSession) typeText(text string) {
	if strings.HasSuffix(text, ";") {
		text = strings.TrimSuffix(text, ";") + `\;`
	}
	s.tmux("send-keys", "-t", "t", "-l", text)
}

// key presses tmux's named keys (Enter, Tab, Up, C-c).
func (s *tmuxSession) key(names ...string) {
	s.tmux(append([]string{"send-keys", "-t", "t"}, names...)...)
}

// line types a line and Enter.
func (s *tmuxSession) line(text string) {
	s.typeText(text)
	s.key("Enter")
}

// waitFor waits until the screen satisfies ok, failing the test with the screen after d.
func (s *tmuxSession) waitFor(what string, d time.Duration, ok func(screen string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for {
		sc := s.screen()
		if ok(sc) {
			return sc
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("waiting for %s: the screen is\n%s", what, sc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitExit waits until the program in the terminal has exited and returns the screen it left and
// its exit status.
func (s *tmuxSession) waitExit(what string, d time.Duration) (screen, status string) {
	s.t.Helper()
	s.waitFor(what, d, func(string) bool {
		return strings.TrimSpace(s.tmux("display-message", "-p", "-t", "t", "#{pane_dead}")) == "1"
	})
	screen = s.screen() // once dead: the screen waitFor read may predate the last lines

	if m := regexp.MustCompile(`\[exit status (\d+)\]`).FindStringSubmatch(screen); m != nil {
		status = m[1]
	}
	return screen, status
}

// waitText waits until the screen shows text n times or more.
func (s *tmuxSession) waitText(text string, n int) string {
	s.t.Helper()
	return s.waitFor(fmt.Sprintf("%d× %q", n, text), 60*time.Second, func(sc string) bool { return strings.Count(sc, text) >= n })
}

// lastLine is the screen's last non-empty line: where the cursor's prompt is.
func lastLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n "), "\n")
	return lines[len(lines)-1]
}

func freeTCPAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestShellInATerminal drives `seiche shell` in a terminal as a person does: it starts its embedded
// server, takes a CREATE STREAM typed over three lines, an INSERT, completes a column name on TAB,
// shows a push query's rows as they come and stops at its LIMIT, cancels a push query on Ctrl-C and
// stays usable, recalls a statement with the up arrow, and leaves on exit; a second run executes a
// script with -f against the data the first left behind.
func TestShellInATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts a server: not in -short")
	}
	bin := buildSeiche(t)
	dir := t.TempDir()
	httpAddr := freeTCPAddr(t)
	env := []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "TERM=xterm-256color", "NO_COLOR=1"}
	args := []string{bin, "shell", "--http-listen", httpAddr, "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data")}
	s := startTmux(t, 100, 40, env, args...)

	// capture-pane drops trailing spaces: the prompt reads "seiche>".
	sc := s.waitText("seiche>", 1)
	if !strings.Contains(sc, "started one here") {
		t.Fatalf("the shell did not say it started an embedded server:\n%s", sc)
	}

	// A statement over three lines: the second and third get the continuation prompt.
	s.line("CREATE STREAM clicks (user VARCHAR KEY,")
	s.waitText("     -> ", 1)
	s.line("  page VARCHAR, dur INT)")
	s.line("  WITH (kafka_topic='clicks', value_format='JSON', partitions=1);")
	s.waitText("Stream created", 1)

	s.line("SET 'auto.offset.reset'='earliest';")
	s.waitText("Successfully changed local property", 1)
	s.line("INSERT INTO clicks (user, page, dur) VALUES ('ana', 'home', 10); INSERT INTO clicks (user, page, dur) VALUES ('bo', 'docs', 20);")
	s.line("INSERT INTO clicks (user, page, dur) VALUES ('cy', 'blog', 30);")

	// TAB completes the column: "pag" is only PAGE among the columns, functions and keywords.
	s.typeText("SELECT user, pag")
	s.key("Tab")
	s.waitFor("TAB to complete pag to page", 10*time.Second, func(sc string) bool {
		return strings.HasSuffix(strings.TrimSpace(lastLine(sc)), "SELECT user, page")
	})
	s.line("FROM clicks EMIT CHANGES LIMIT 2;")
	sc = s.waitText("Limit Reached", 1)
	for _, want := range []string{"USER", "PAGE", "ana", "home", "bo", "docs"} {
		if !strings.Contains(sc, want) {
			t.Fatalf("the push query's rows are not on the screen (want %q):\n%s", want, sc)
		}
	}

	// A push query without a limit runs until Ctrl-C, which stops the query, not the shell.
	s.line("SELECT page, dur FROM clicks EMIT CHANGES;")
	// Once its last row is on the screen ("blog" is there once already, in the INSERT), so that
	// Ctrl-C reaches a running statement, not the prompt.
	s.waitText("blog", 2)
	s.key("C-c")
	s.waitText("Query terminated", 2)
	s.waitFor("a prompt after Ctrl-C", 10*time.Second, func(sc string) bool { return lastLine(sc) == "seiche>" })

	// The up arrow recalls the previous statements, newest first; Enter runs the recalled one.
	s.key("Up")
	s.waitFor("the last statement recalled", 10*time.Second, func(sc string) bool {
		return lastLine(sc) == "seiche> SELECT page, dur FROM clicks EMIT CHANGES;"
	})
	s.key("Up")
	s.waitFor("the statement before recalled", 10*time.Second, func(sc string) bool {
		return lastLine(sc) == "seiche> SELECT user, page FROM clicks EMIT CHANGES LIMIT 2;"
	})
	s.key("Enter")
	s.waitText("Limit Reached", 2)

	s.line("exit")
	if sc, st := s.waitExit("the shell to exit", 60*time.Second); st != "0" {
		t.Fatalf("the shell exited with status %q:\n%s", st, sc)
	}
	hist, err := os.ReadFile(filepath.Join(dir, "config", "seiche", "history"))
	if err != nil || !strings.Contains(string(hist), "CREATE STREAM clicks (user VARCHAR KEY, page VARCHAR, dur INT) WITH") {
		t.Fatalf("history file: %v\n%s", err, hist)
	}

	// A script, run with -f against what the first run left in the data directory.
	script := filepath.Join(dir, "report.sql")
	if err := os.WriteFile(script, []byte(`-- every click so far
SET 'auto.offset.reset' = 'earliest';
SELECT user, dur
  FROM clicks
  EMIT CHANGES LIMIT 3;
SHOW STREAMS;
`), 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := startTmux(t, 100, 40, env, append(args, "-f", script)...)
	sc, st := s2.waitExit("the script to end", 90*time.Second)
	for _, want := range []string{"ana", "bo", "cy", "Limit Reached", "CLICKS", "clicks", "JSON"} {
		if !strings.Contains(sc, want) {
			t.Fatalf("the script's output lacks %q:\n%s", want, sc)
		}
	}
	if strings.Contains(sc, "seiche>") {
		t.Fatalf("a script run shows prompts:\n%s", sc)
	}
	if st != "0" {
		t.Fatalf("the script run exited with status %q:\n%s", st, sc)
	}
}
