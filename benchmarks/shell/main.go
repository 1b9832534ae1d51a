// Command shell measures how long `seiche shell` takes from its start to its first prompt, in a
// pseudo-terminal as a person runs it: with the embedded server it starts when no server answers (in a
// new data directory, and again in one it left behind), and connecting to a server already running.
// The baseline, in the same run, is the floor of any command of the binary: `seiche --help` from exec
// to exit in the same pseudo-terminal.
//
//	go run ./shell [-count 5]
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/creack/pty"
)

func main() {
	count := flag.Int("count", 5, "runs of each measurement; the table shows medians")
	flag.Parse()
	res, err := run(context.Background(), *count, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "shell benchmark:", err)
		os.Exit(1)
	}
	res.print(os.Stdout)
}

type results struct {
	floor, first, restart, connect, exit []time.Duration
}

func run(ctx context.Context, count int, log io.Writer) (*results, error) {
	work, err := os.MkdirTemp("", "seiche-shell-bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	bin, err := build(work)
	if err != nil {
		return nil, err
	}
	env := append(os.Environ(), "HOME="+work, "XDG_CONFIG_HOME="+filepath.Join(work, "config"), "NO_COLOR=1", "TERM=xterm")
	res := &results{}
	for i := 0; i < count; i++ {
		fmt.Fprintf(log, "run %d/%d\n", i+1, count)
		d, err := timeToExit(ctx, env, bin, "--help")
		if err != nil {
			return nil, fmt.Errorf("seiche --help: %w", err)
		}
		res.floor = append(res.floor, d)

		data := filepath.Join(work, fmt.Sprintf("data-%d", i))
		args := []string{"shell", "--http-listen", freeAddr(), "--listen", "127.0.0.1:0", "--data-dir", data}
		d, exit, err := timeToPrompt(ctx, env, bin, "CREATE STREAM s (k INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1);", args...)
		if err != nil {
			return nil, fmt.Errorf("first start: %w", err)
		}
		res.first, res.exit = append(res.first, d), append(res.exit, exit)
		if d, _, err = timeToPrompt(ctx, env, bin, "", args...); err != nil {
			return nil, fmt.Errorf("restart: %w", err)
		}
		res.restart = append(res.restart, d)
	}
	// A server already running: the shell only connects.
	srv, url, err := startServer(ctx, env, bin, filepath.Join(work, "server"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()
	for i := 0; i < count; i++ {
		d, _, err := timeToPrompt(ctx, env, bin, "", "shell", "--server", url)
		if err != nil {
			return nil, fmt.Errorf("connect: %w", err)
		}
		res.connect = append(res.connect, d)
	}
	return res, nil
}

func build(dir string) (string, error) {
	bin := filepath.Join(dir, "seiche")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = seicheDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// timeToExit runs the binary in a pseudo-terminal and times it from start to exit.
func timeToExit(ctx context.Context, env []string, bin string, args ...string) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	start := time.Now()
	f, err := pty.Start(cmd)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	go func() { _, _ = io.Copy(io.Discard, f) }()
	err = cmd.Wait()
	return time.Since(start), err
}

// timeToPrompt starts the shell in a pseudo-terminal and times it until its prompt is on the screen;
// then it types stmt (if any) and exit, and times the exit (the embedded server's clean stop).
func timeToPrompt(ctx context.Context, env []string, bin, stmt string, args ...string) (toPrompt, toExit time.Duration, err error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	start := time.Now()
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	screen := &watcher{want: "seiche> ", seen: make(chan struct{})}
	exited := make(chan error, 1)
	go func() { _, _ = io.Copy(screen, f) }()
	go func() { exited <- cmd.Wait() }()
	select {
	case <-screen.seen:
		toPrompt = time.Since(start)
	case err := <-exited:
		return 0, 0, fmt.Errorf("the shell exited before its prompt (%v):\n%s", err, screen.text())
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		return 0, 0, fmt.Errorf("no prompt after 60s:\n%s", screen.text())
	}
	if stmt != "" {
		screen.expect("created")
		fmt.Fprintf(f, "%s\r", stmt)
		select {
		case <-screen.seen:
		case <-time.After(30 * time.Second):
			return 0, 0, fmt.Errorf("%s: no answer:\n%s", stmt, screen.text())
		}
	}
	stop := time.Now()
	fmt.Fprint(f, "exit\r")
	select {
	case err := <-exited:
		if err != nil {
			return 0, 0, fmt.Errorf("exit: %w\n%s", err, screen.text())
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		return 0, 0, errors.New("the shell did not exit")
	}
	return toPrompt, time.Since(stop), nil
}

// watcher collects a terminal's output and signals when a text appears in it.
type watcher struct {
	buf  bytes.Buffer
	want string
	seen chan struct{}
	mu   sync.Mutex
}

func (w *watcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.want != "" && strings.Contains(w.buf.String(), w.want) {
		w.want = ""
		close(w.seen)
	}
	return len(p), nil
}

// expect resets the watcher to signal the next appearance of text.
func (w *watcher) expect(text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Reset()
	w.want, w.seen = text, make(chan struct{})
}

func (w *watcher) text() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// startServer starts `seiche server` on free ports and returns once /info answers.
func startServer(ctx context.Context, env []string, bin, data string) (*exec.Cmd, string, error) {
	addr := freeAddr()
	cmd := exec.CommandContext(ctx, bin, "server", "--listen", "127.0.0.1:0", "--http-listen", addr, "--data-dir", data)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	url := "http://" + addr
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return cmd, url, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return nil, "", errors.New("seiche server did not listen within 60s")
}

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func (r *results) print(w io.Writer) {
	floor := median(r.floor)
	fmt.Fprintf(w, "| start-up to the first prompt | median (of %d) | × the `seiche --help` floor |\n|---|---:|---:|\n", len(r.floor))
	row := func(name string, ds []time.Duration) {
		m := median(ds)
		fmt.Fprintf(w, "| %s | %s | %.1f× |\n", name, m.Round(time.Millisecond), float64(m)/float64(floor))
	}
	row("`seiche --help`, exec to exit (floor)", r.floor)
	row("embedded server, new data directory", r.first)
	row("embedded server, its data directory again", r.restart)
	row("a server already running", r.connect)
	row("`exit` to process exit (embedded server stopped cleanly)", r.exit)
}

// seicheDir is the directory of the seiche module (the benchmarks module replaces it with ..), found
// with go list so that it is right from any working directory: go run ./x runs in benchmarks/, go test
// in the program's own directory.
func seicheDir() string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/seichedb/seiche").Output()
	if err != nil {
		return ".."
	}
	return strings.TrimSpace(string(out))
}
