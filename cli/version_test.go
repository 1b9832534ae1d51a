package cli

import (
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	want := "seiche " + versionString() + "\n"
	if !strings.Contains(want, runtime.Version()) {
		t.Fatalf("version %q does not name the Go version %s", want, runtime.Version())
	}
	for _, arg := range []string{"version", "--version"} {
		cmd := NewRootCommand()
		var out strings.Builder
		cmd.SetArgs([]string{arg})
		cmd.SetOut(&out)
		if err := cmd.Execute(); err != nil || out.String() != want {
			t.Errorf("seiche %s: got %q, %v; want %q", arg, out.String(), err, want)
		}
	}
}
