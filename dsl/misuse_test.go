package dsl_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// misuse are programs that must not compile: each misuses the dsl in a way its types forbid. Each
// is a package of its own (the compiler stops at a package's first errors), compiled by one
// `go build` through an overlay, so no file is written into the module.
var misuse = []struct {
	name, body string
	want       string // a regular expression the package's error matches
}{
	{"partitions_on_filter", `s.Filter(func(string, string) (bool, error) { return true, nil }, dsl.Partitions(3))`,
		`PartitionsOpt does not implement .*NodeOpt`},
	{"retention_on_count", `s.GroupByKey().Count(dsl.Retention(time.Hour))`,
		`WindowedAggregateOpt does not implement .*AggregateOpt`},
	{"store_on_source", `dsl.Source(b, "t2", serde.String(), serde.String(), dsl.Materialized("x"))`,
		`StoreOpt does not implement .*SourceOpt`},
	{"changelog_on_sink", `s.To("out", dsl.WithoutChangelog())`,
		`ChangelogOpt does not implement .*NodeOpt`},
	{"value_serde_of_other_type", `s.WithValueSerde(serde.Int64()).To("out")`,
		`cannot use serde.Int64\(\).*as serde.Serde\[string\]`},
	{"aggregate_serde_of_other_type", `dsl.Aggregate(s.GroupByKey(), func() (int64, error) { return 0, nil },
		func(_, _ string, n int64) (int64, error) { return n + 1, nil }, serde.String())`,
		`(cannot use serde.String\(\)|type serde.Serde\[string\] of serde.String\(\) does not match)`},
	{"windowed_count_of_grouping", `dsl.WindowedCount(s.GroupByKey())`,
		`GroupedStream\[string, string\] of s.GroupByKey\(\) does not match .*WindowedStream`},
}

// wellTyped compiles with the same preamble, so that a misuse failing proves its own error.
const wellTyped = `s.Filter(func(string, string) (bool, error) { return true, nil }, dsl.Named("f")).To("out")
	dsl.WindowedCount(s.GroupByKey().WindowedBy(dsl.TumblingWindows(time.Hour, 0)), dsl.Retention(2*time.Hour))`

func misusePackage(body string) string {
	return `package misuse

import (
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/serde"
)

var _ = time.Hour

func build() {
	b := dsl.NewBuilder()
	s := dsl.Source(b, "t", serde.String(), serde.String())
	_ = s
	` + body + `
}
`
}

// TestMisuseDoesNotCompile proves what the option families and typed serdes promise: an option
// that cannot apply to an operation and a serde of the wrong type are compile errors.
func TestMisuseDoesNotCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		t.Skipf("no go command at %s: %v", goCmd, err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	overlay := map[string]string{}
	var pkgs []string
	add := func(name, body string) {
		src := filepath.Join(tmp, name+".go")
		if err := os.WriteFile(src, []byte(misusePackage(body)), 0o644); err != nil {
			t.Fatal(err)
		}
		// A directory inside the module that does not exist: the overlay alone makes it a package.
		overlay[filepath.Join(wd, "misuse_"+name, "misuse.go")] = src
		pkgs = append(pkgs, "./misuse_"+name)
	}
	add("well_typed", wellTyped)
	for _, m := range misuse {
		add(m.name, m.body)
	}
	ov, err := json.Marshal(map[string]any{"Replace": overlay})
	if err != nil {
		t.Fatal(err)
	}
	ovFile := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovFile, ov, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goCmd, append([]string{"build", "-overlay", ovFile}, pkgs...)...)
	cmd.Dir = wd
	out, _ := cmd.CombinedOutput()
	errs := buildErrors(string(out))
	if e, ok := errs["well_typed"]; ok {
		t.Fatalf("the well-typed program does not compile, so the misuse results mean nothing:\n%s", e)
	}
	for _, m := range misuse {
		e, ok := errs[m.name]
		if !ok {
			t.Errorf("%s compiles:\n\t%s", m.name, m.body)
			continue
		}
		if !regexp.MustCompile(m.want).MatchString(e) {
			t.Errorf("%s: error does not match %q:\n%s", m.name, m.want, e)
		}
	}
}

// buildErrors splits go build's output by the misuse package each error is in: the lines after
// its "# <import path>" header.
func buildErrors(out string) map[string]string {
	errs := map[string]string{}
	header := regexp.MustCompile(`^# .*/misuse_([a-z_]+)$`)
	pkg := ""
	for _, line := range strings.Split(out, "\n") {
		if m := header.FindStringSubmatch(line); m != nil {
			pkg = m[1]
			continue
		}
		if pkg != "" && line != "" {
			errs[pkg] += fmt.Sprintln(line)
		}
	}
	return errs
}
