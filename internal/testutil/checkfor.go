// Package testutil holds helpers for tests that start real things in-process.
package testutil

import (
	"testing"
	"time"
)

// CheckFor calls fn every 10ms until it returns nil, and fails t with fn's last error when it has not
// after timeout: a condition awaited without fixed sleeps.
func CheckFor(t testing.TB, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
