package dirlock

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const childEnv = "DIRLOCK_TEST_CHILD_DIR"

// TestMain lets the test binary act as a second process that tries to lock a directory.
func TestMain(m *testing.M) {
	if dir := os.Getenv(childEnv); dir != "" {
		l, err := Acquire(dir)
		if err != nil {
			fmt.Println(err)
			os.Exit(2)
		}
		l.Release()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestAcquireRelease(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, FileName))
	if err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Fatalf("lock file holds %q (%v), want this process's id %d", b, err, os.Getpid())
	}

	// A second holder in this process, and in another, is refused and told who holds it.
	_, err = Acquire(dir)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || le.PID != os.Getpid() {
		t.Fatalf("second Acquire in this process: %v, want a LockedError naming pid %d", err, os.Getpid())
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	out, err := cmd.CombinedOutput()
	want := fmt.Sprintf("directory %s is in use by process %d", dir, os.Getpid())
	if err == nil || !strings.Contains(string(out), want) {
		t.Fatalf("Acquire in another process: %v, output %q, want it to contain %q", err, out, want)
	}

	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("second Release: %v", err)
	}
	// Released: another process gets it, and so does this one again.
	cmd = exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("Acquire in another process after Release: %v %s", err, out)
	}
	l, err = Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	l.Release()
}
