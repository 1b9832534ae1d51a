package qtt

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/seichedb/seiche/internal/testutil"
)

// TestCaseTimeoutStops runs a case whose query feeds its own input, which never ends, and checks
// that Run gives up when its context is done and leaves no goroutine behind.
func TestCaseTimeoutStops(t *testing.T) {
	c := &Case{
		Name: "feeds its own input",
		Statements: []string{
			"CREATE STREAM S (ID INT KEY, V STRING) WITH (KAFKA_TOPIC='loop', VALUE_FORMAT='JSON');",
			"INSERT INTO S SELECT * FROM S;",
		},
		Inputs:  []Record{{Topic: "loop", Key: json.RawMessage(`1`), Value: json.RawMessage(`{"V": "a"}`)}},
		Outputs: []Record{{Topic: "loop", Key: json.RawMessage(`1`), Value: json.RawMessage(`{"V": "a"}`)}},
	}
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	r := RunCase(ctx, c)
	if r.Status != Fail || !strings.HasPrefix(r.Reason, "stopped: ") {
		t.Fatalf("Run = %s %q, want a failure saying the case was stopped", r.Status, r.Reason)
	}
	if took := time.Since(start); took > caseTimeout/2 {
		t.Errorf("Run took %s to give up after 200ms", took)
	}
	testutil.CheckFor(t, 5*time.Second, func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("%d goroutines after the case, %d before", n, before)
		}
		return nil
	})
}
