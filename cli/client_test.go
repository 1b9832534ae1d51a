package cli

import (
	"bytes"
	"context"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seichedb/seiche/broker/brokertest"
)

// startBroker starts a Seiche broker for the test and returns its bootstrap address.
func startBroker(t *testing.T) string {
	t.Helper()
	return brokertest.Start(t).Addr()
}

// result is what one in-process run of the seiche command line printed and returned.
type result struct {
	stdout, stderr string
	err            error
}

// run runs `seiche args... --bootstrap addr` in-process with stdin as standard input.
func run(t *testing.T, addr, stdin string, args ...string) result {
	t.Helper()
	return runContext(t, context.Background(), addr, stdin, args...)
}

func runContext(t *testing.T, ctx context.Context, addr, stdin string, args ...string) result {
	t.Helper()
	var stdout syncBuffer
	return runTo(ctx, &stdout, addr, strings.NewReader(stdin), args...)
}

// runTo is run with standard output going to stdout, which the caller may read while it runs.
func runTo(ctx context.Context, stdout *syncBuffer, addr string, stdin io.Reader, args ...string) result {
	cmd := NewRootCommand()
	var stderr syncBuffer
	if addr != "" {
		args = append(args, "--bootstrap", addr)
	}
	if !slices.Contains(args, "--timeout") {
		args = append(args, "--timeout", "10s")
	}
	cmd.SetArgs(args)
	cmd.SetIn(stdin)
	cmd.SetOut(stdout)
	cmd.SetErr(&stderr)
	err := cmd.ExecuteContext(ctx)
	return result{stdout.String(), stderr.String(), err}
}

// syncBuffer is a bytes.Buffer that a test can read while a command writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ok runs the command and fails the test if it returns an error; it returns standard output.
func ok(t *testing.T, addr, stdin string, args ...string) string {
	t.Helper()
	r := run(t, addr, stdin, args...)
	if r.err != nil {
		t.Fatalf("seiche %s: %v (stderr: %q)", strings.Join(args, " "), r.err, r.stderr)
	}
	return r.stdout
}

// fails runs the command and fails the test unless it returns an error containing want.
func fails(t *testing.T, addr, stdin, want string, args ...string) {
	t.Helper()
	r := run(t, addr, stdin, args...)
	if r.err == nil || !strings.Contains(r.err.Error(), want) {
		t.Fatalf("seiche %s: got error %v, want one containing %q", strings.Join(args, " "), r.err, want)
	}
}

func TestBootstrapFromEnvAndKafkaFlagName(t *testing.T) {
	addr := startBroker(t)
	ok(t, addr, "", "topics", "create", "t1")

	t.Setenv("SEICHE_BOOTSTRAP", addr)
	if got := ok(t, "", "", "topics", "list"); got != "t1\n" {
		t.Fatalf("topics list with SEICHE_BOOTSTRAP: got %q", got)
	}
	t.Setenv("SEICHE_BOOTSTRAP", "")
	if got := ok(t, "", "", "topics", "list", "--bootstrap-server", addr); got != "t1\n" {
		t.Fatalf("topics list --bootstrap-server: got %q", got)
	}
}

func TestUnreachableBootstrap(t *testing.T) {
	t.Parallel()
	start := time.Now()
	fails(t, "127.0.0.1:1", "", "127.0.0.1:1", "topics", "list", "--timeout", "1s")
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("topics list against a closed port took %s with --timeout 1s", d)
	}
}

func TestUnknownSubcommand(t *testing.T) {
	t.Parallel()
	for _, parent := range []string{"topics", "groups"} {
		fails(t, "", "", `unknown command "bogus" for "seiche `+parent+`"`, parent, "bogus")
	}
}
