package shell

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seichedb/seiche/engine"
)

// syncBuffer is a bytes.Buffer a test reads while the shell writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func startServer(t *testing.T) *engine.Embedded {
	t.Helper()
	x, err := engine.StartEmbedded(engine.EmbeddedConfig{DataDir: t.TempDir(), Opts: engine.TestOpts()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = x.Close() })
	return x
}

func newTestShell(url string) (*Shell, *syncBuffer) {
	out := &syncBuffer{}
	return New(Options{Client: NewClient(url), Out: out, Width: func() int { return 100 }}), out
}

// TestScriptAgainstServer runs a script through a real server: DDL, INSERT, a push query with LIMIT, a
// pull query on a table a query keeps, variables, RUN SCRIPT; then a failing statement stops the
// script with its position shown, and what follows it does not run.
func TestScriptAgainstServer(t *testing.T) {
	x := startServer(t)
	sh, out := newTestShell(x.URL)
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "more.sql"), []byte("INSERT INTO orders (id, item, qty) VALUES (3, '${thing}', 7);\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sh.opt.Dir = dir
	script := `
-- orders, and a table of quantities per item
DEFINE thing = 'kite';
CREATE STREAM orders (id INT KEY, item VARCHAR, qty INT)
  WITH (kafka_topic='orders', value_format='JSON', partitions=1);
INSERT INTO orders (id, item, qty) VALUES (1, 'pen', 2); INSERT INTO orders (id, item, qty) VALUES (2, 'pen', 3);
RUN SCRIPT 'more.sql';
SET 'auto.offset.reset'='earliest';
SELECT id, item, qty FROM orders EMIT CHANGES LIMIT 3;
CREATE TABLE per_item AS SELECT item, SUM(qty) AS total FROM orders GROUP BY item;
`
	if err := sh.Script(ctx, strings.NewReader(script)); err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	got := out.String()
	for _, want := range []string{"Stream created", "kite", "Limit Reached", "Query terminated", "Created query with ID CTAS_PER_ITEM"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	// The table's pull query answers once the query has counted the three orders.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out.mu.Lock()
		out.b.Reset()
		out.mu.Unlock()
		if err := sh.Run(ctx, "SELECT * FROM per_item WHERE item = 'pen';"); err != nil {
			t.Fatalf("pull query: %v\n%s", err, out)
		}
		if strings.Contains(out.String(), "5") && strings.Contains(out.String(), "(1 row)") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pull query never saw the sum 5:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A failing statement stops the script; its position is shown under the statement.
	out.mu.Lock()
	out.b.Reset()
	out.mu.Unlock()
	err := sh.Script(ctx, strings.NewReader("SHOW STREAMS;\nSELECT * FROM\n  orders WHERE EMIT;\nDROP STREAM orders;\n"))
	var se *StatementError
	if !errors.As(err, &se) {
		t.Fatalf("a failing statement returned %v; want a *StatementError", err)
	}
	got = out.String()
	if !strings.Contains(got, "^") || !strings.Contains(got, "orders WHERE EMIT") {
		t.Errorf("the error shows no caret under its statement:\n%s", got)
	}
	if strings.Contains(got, "Source `ORDERS` (topic: orders) was dropped") || strings.Contains(got, "dropped") {
		t.Errorf("a statement after the failed one ran:\n%s", got)
	}
}

// TestInterruptStopsPushQuery: Interrupt (Ctrl-C) ends a running push query with "Query terminated",
// and the shell goes on.
func TestInterruptStopsPushQuery(t *testing.T) {
	x := startServer(t)
	sh, out := newTestShell(x.URL)
	ctx := context.Background()
	if err := sh.Run(ctx, "CREATE STREAM s (k INT KEY, v INT) WITH (kafka_topic='s', value_format='JSON', partitions=1); INSERT INTO s (k, v) VALUES (1, 41); SET 'auto.offset.reset'='earliest';"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	done := make(chan error, 1)
	go func() { done <- sh.Exec(ctx, "SELECT * FROM s EMIT CHANGES") }()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "41") {
		if time.Now().After(deadline) {
			t.Fatalf("the push query's row never came:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !sh.Interrupt() {
		t.Fatal("Interrupt found no running statement")
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("an interrupted push query returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the push query did not stop on Interrupt")
	}
	if !strings.Contains(out.String(), "Query terminated") {
		t.Errorf("no \"Query terminated\":\n%s", out)
	}
	if err := sh.Run(ctx, "SHOW STREAMS;"); err != nil || !strings.Contains(out.String(), "S ") {
		t.Fatalf("the shell is not usable after an interrupt: %v\n%s", err, out)
	}
}

// TestServerGoesAway: a server that stops is reported in one clear error, and the shell answers again
// once a server is back at the same address.
func TestServerGoesAway(t *testing.T) {
	data := t.TempDir()
	x, err := engine.StartEmbedded(engine.EmbeddedConfig{DataDir: data, Opts: engine.TestOpts()})
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(x.URL, "http://")
	sh, out := newTestShell(x.URL)
	ctx := context.Background()
	if err := sh.Run(ctx, "SHOW STREAMS;"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	err = sh.Run(ctx, "SHOW STREAMS;")
	var ue *UnreachableError
	if !errors.As(err, &ue) {
		t.Fatalf("with the server gone: %v; want an UnreachableError", err)
	}
	if got := out.String(); !strings.Contains(got, "cannot reach the server at "+x.URL) {
		t.Errorf("unclear message:\n%s", got)
	}
	x2, err := engine.StartEmbedded(engine.EmbeddedConfig{DataDir: data, HTTPAddr: addr, Opts: engine.TestOpts()})
	if err != nil {
		t.Fatal(err)
	}
	defer x2.Close()
	if err := sh.Run(ctx, "SHOW STREAMS;"); err != nil {
		t.Fatalf("the shell did not reconnect: %v\n%s", err, out)
	}
}
