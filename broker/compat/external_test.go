package compat

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// External clients run as child processes. A consumer prints each record it delivers on its own line
// of standard output as
//
//	rec PARTITION OFFSET VALUE
//
// and everything else it prints is kept for the failure message. See testdata/README.md.

// stopWait is how long a stopped external group member gets to commit, leave the group and exit.
const stopWait = 30 * time.Second

// proc is a running external client.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	recorder
	out      lockedBuffer // stderr and the non-record lines of stdout
	done     chan struct{}
	err      error // set before done is closed
	stopOnce sync.Once
	stopping atomic.Bool
	reported atomic.Bool // the output is already in an error, so the failing test shows it
	stopErr  error
	// stopSignal, when set, stops the process instead of closing its standard input.
	stopSignal os.Signal
}

// startProc starts argv with stdin as its standard input (closed after it is written, unless keepStdin).
// The process is killed when ctx is done and, at the latest, when the test ends.
func startProc(ctx context.Context, t *testing.T, name string, argv []string, env []string, stdin string, keepStdin bool) (*proc, error) {
	p := &proc{name: name, done: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, argv[0], argv[1:]...)
	p.cmd.Dir = "testdata"
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.WaitDelay = 5 * time.Second
	p.cmd.Stderr = &p.out
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if r, ok := parseRec(line); ok {
				p.add(r)
				continue
			}
			p.out.WriteString(line + "\n")
		}
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() && !p.reported.Load() {
			t.Logf("%s %s output:\n%s", name, strings.Join(argv[1:], " "), p.out.String())
		}
	})
	if _, err := io.WriteString(p.stdin, stdin); err != nil {
		return p, fmt.Errorf("%s: write stdin: %w", name, err)
	}
	if !keepStdin {
		p.stdin.Close()
	}
	return p, nil
}

// runProc runs argv to completion and returns the records it printed.
func runProc(ctx context.Context, t *testing.T, name string, argv []string, env []string, stdin string) ([]rec, error) {
	p, err := startProc(ctx, t, name, argv, env, stdin, false)
	if err != nil {
		return nil, err
	}
	<-p.done
	if p.err != nil {
		return p.seen(), fmt.Errorf("%s: %v (context: %v); output:\n%s", name, p.err, ctx.Err(), p.output())
	}
	return p.seen(), nil
}

// output returns what the process printed besides records, for an error message.
func (p *proc) output() string {
	p.reported.Store(true)
	return p.out.String()
}

// failed returns why the process exited, if it has exited without being stopped.
func (p *proc) failed() error {
	select {
	case <-p.done:
	default:
		return nil
	}
	if p.stopping.Load() {
		return nil
	}
	return fmt.Errorf("%s exited unasked (%v); output:\n%s", p.name, p.err, p.output())
}

// stop asks the process to leave its group and exit, and kills it if it has not within stopWait.
func (p *proc) stop() error {
	p.stopOnce.Do(func() {
		p.stopping.Store(true)
		if p.stopSignal != nil {
			p.cmd.Process.Signal(p.stopSignal)
		} else {
			p.stdin.Close()
		}
		select {
		case <-p.done:
			if p.err != nil {
				p.stopErr = fmt.Errorf("%s exited: %v; output:\n%s", p.name, p.err, p.output())
			}
		case <-time.After(stopWait):
			p.cmd.Process.Kill()
			<-p.done
			p.stopErr = fmt.Errorf("%s did not exit within %v of being stopped; output:\n%s", p.name, stopWait, p.output())
		}
	})
	return p.stopErr
}

// parseRec parses "rec PARTITION OFFSET VALUE".
func parseRec(line string) (rec, bool) {
	f := strings.SplitN(line, " ", 4)
	if len(f) != 4 || f[0] != "rec" {
		return rec{}, false
	}
	p, err1 := strconv.ParseInt(f[1], 10, 32)
	o, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil {
		return rec{}, false
	}
	return rec{int32(p), o, f[3]}, true
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) WriteString(s string) {
	b.mu.Lock()
	b.b.WriteString(s)
	b.mu.Unlock()
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// scriptClient is a client driven by a program under testdata that takes
//
//	MODE BOOTSTRAP TOPIC [GROUP] [COUNT]
//
// with MODE one of produce (values on standard input, one a line), consume, commit and member
// (consumes until its standard input closes).
type scriptClient struct {
	name  string
	argv  []string // the interpreter and script
	env   []string
	idemp bool
}

func (c scriptClient) idempotent() bool { return c.idemp }

func (c scriptClient) args(mode string, rest ...string) []string {
	return append(append(append([]string(nil), c.argv...), mode), rest...)
}

func (c scriptClient) produce(ctx context.Context, t *testing.T, addr, topic string, values []string) error {
	_, err := runProc(ctx, t, c.name, c.args("produce", addr, topic), c.env, strings.Join(values, "\n")+"\n")
	return err
}

func (c scriptClient) consume(ctx context.Context, t *testing.T, addr, topic string, n int) ([]rec, error) {
	return runProc(ctx, t, c.name, c.args("consume", addr, topic, topic+"-reader", strconv.Itoa(n)), c.env, "")
}

func (c scriptClient) consumeCommit(ctx context.Context, t *testing.T, addr, topic, group string, n int) ([]rec, error) {
	return runProc(ctx, t, c.name, c.args("commit", addr, topic, group, strconv.Itoa(n)), c.env, "")
}

func (c scriptClient) join(ctx context.Context, t *testing.T, addr, topic, group string) (member, error) {
	return startProc(ctx, t, c.name, c.args("member", addr, topic, group), c.env, "", true)
}

// findPython returns the first Python interpreter that can import module: /usr/bin/python3 first, as
// Debian's python3-* packages install there while a pyenv python3 may come first in PATH.
func findPython(module string) (string, error) {
	var tried []string
	for _, py := range []string{os.Getenv("SEICHE_COMPAT_PYTHON"), "/usr/bin/python3", "python3"} {
		if py == "" {
			continue
		}
		path, err := exec.LookPath(py)
		if err != nil {
			tried = append(tried, py+": not found")
			continue
		}
		out, err := exec.Command(path, "-c", "import "+module).CombinedOutput()
		if err == nil {
			return path, nil
		}
		tried = append(tried, fmt.Sprintf("%s: %s", path, lastLine(out)))
	}
	return "", errors.New(strings.Join(tried, "; "))
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// interrupt is the signal that makes kcat leave its group and exit cleanly.
var interrupt os.Signal = syscall.SIGINT
