package cli

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestStop stops a server running as a child process the way a user stops one started with
// "go run . server &": seiche stop on its data directory, which waits for a clean exit.
func TestStop(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the seiche binary and runs it as a child process; skipped with -short")
	}
	bin := buildSeiche(t)
	dir := t.TempDir()
	srv := startSeiche(t, bin, dir)
	out, err := exec.Command(bin, "stop", "--data-dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Stopped the server on") {
		t.Fatalf("seiche stop: %v: %s", err, out)
	}
	select {
	case <-srv.exited:
		if srv.exitErr != nil {
			t.Fatalf("the server exited with %v after seiche stop:\n%s", srv.exitErr, srv.stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("seiche stop returned, and the server is still running")
	}
	out, err = exec.Command(bin, "stop", "--data-dir", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "No server is running") {
		t.Fatalf("seiche stop with no server: %v: %s", err, out)
	}
}
