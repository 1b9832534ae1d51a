package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseCount(t *testing.T) {
	for in, want := range map[string]int64{"500": 500, "20K": 20_000, "10M": 10_000_000, "3m": 3_000_000} {
		if got, err := parseCount(in); err != nil || got != want {
			t.Errorf("parseCount(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "M", "-5", "1.5M", "ten"} {
		if _, err := parseCount(in); err == nil {
			t.Errorf("parseCount(%q): no error", in)
		}
	}
}

// TestBenchNexmark runs the command on a few events in process and checks the table has a row per
// implementation.
func TestBenchNexmark(t *testing.T) {
	var out, errOut bytes.Buffer
	root := NewRootCommand()
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"bench", "nexmark", "--query", "q2", "--events", "2K"})
	if err := root.Execute(); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	for _, impl := range []string{"sql", "sql-topology", "dsl"} {
		if !strings.Contains(out.String(), " "+impl+" ") {
			t.Errorf("no %s row in\n%s", impl, out.String())
		}
	}
	root = NewRootCommand()
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs([]string{"bench", "nexmark", "--query", "q99"})
	if err := root.Execute(); err == nil || !strings.Contains(err.Error(), "q99") {
		t.Errorf("unknown query: %v", err)
	}
}
