// Package testutil holds what tests that start real things in-process share: the one poll-until
// helper, so that a test waits for a condition instead of sleeping a fixed time.
package testutil

import (
	"testing"
	"time"
)

// CheckFor calls fn every 20ms until it returns nil; when it has not after timeout, it fails t with
// fn's last error.
func CheckFor(t testing.TB, timeout time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
