// Package brokertest starts a real Seiche broker in-process for tests: on 127.0.0.1 port 0, with its
// data in a temporary directory, stopped when the test ends.
package brokertest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/seichedb/seiche/broker"
)

// Start starts a broker for the test and returns it; Addr() is the bootstrap address. The broker
// listens on 127.0.0.1:0, keeps its data under t.TempDir(), rebalances new groups without Kafka's
// initial delay, and logs only warnings (set SEICHE_TEST_LOG=debug for everything). Options given are
// applied after these defaults. The broker is closed at t.Cleanup and Close errors fail the test.
func Start(t testing.TB, opts ...broker.Opt) *broker.Broker {
	t.Helper()
	all := append([]broker.Opt{
		broker.ListenAddr("127.0.0.1:0"),
		broker.DataDir(t.TempDir()),
		broker.Logger(Logger()),
		broker.GroupInitialRebalanceDelay(0),
	}, opts...)
	b, err := broker.New(all...)
	if err != nil {
		t.Fatalf("brokertest: start broker: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(context.Background()) }()
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("brokertest: close broker: %v", err)
		}
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Errorf("brokertest: broker did not stop within 30s")
		}
	})
	return b
}

// Logger returns the logger tests give a broker: warnings and errors to stderr, or everything when
// SEICHE_TEST_LOG=debug.
func Logger() *slog.Logger {
	level := slog.LevelWarn
	var w io.Writer = os.Stderr
	if os.Getenv("SEICHE_TEST_LOG") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}
