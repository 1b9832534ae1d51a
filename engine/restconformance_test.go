package engine_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seichedb/seiche/engine"
	"github.com/seichedb/seiche/engine/resttest"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/rest_known_failures.txt from the current results")

const restKnownFailuresFile = "testdata/rest_known_failures.txt"

// TestRESTConformance runs ksqlDB's REST test files (../shared/conformance/ksql/rest) against an
// embedded server over HTTP and compares the failures with testdata/rest_known_failures.txt: a case
// failing that is not listed, or listed and passing, fails the test, so the list only shrinks.
// -rewrite regenerates it.
func TestRESTConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the REST corpus takes minutes; skipped with -short")
	}
	dir := resttest.CorpusDir(".")
	if dir == "" {
		t.Skip("ksqlDB conformance corpus not found at ../shared/conformance/ksql/rest relative to the module root")
	}
	cases, err := resttest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := engine.StartEmbedded(engine.EmbeddedConfig{DataDir: t.TempDir(), Opts: engine.TestOpts()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	target := resttest.Target{HTTP: srv.URL, Bootstrap: srv.Bootstrap, Timeout: 15 * time.Second}
	failures := map[string]string{}
	var passed, skipped int
	for _, c := range cases {
		r := resttest.Run(context.Background(), target, c)
		switch r.Status {
		case resttest.Pass:
			passed++
		case resttest.Skip:
			skipped++
		default:
			failures[c.ID] = oneLine(r.Reason)
		}
	}
	usable := passed + len(failures)
	pct := 0.0
	if usable > 0 {
		pct = 100 * float64(passed) / float64(usable)
	}
	t.Logf("REST cases: %d/%d usable cases pass (%.1f%%); %d skipped", passed, usable, pct, skipped)
	t.Logf("%d passed, %d failed, %d skipped", passed, len(failures), skipped)
	if *rewrite {
		ids := make([]string, 0, len(failures))
		for id := range failures {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		var b strings.Builder
		b.WriteString("# ksqlDB REST test cases that fail against an embedded server (engine TestRESTConformance),\n")
		b.WriteString("# one per line: case id TAB reason. Regenerate with: go test ./engine -run TestRESTConformance -rewrite\n")
		for _, id := range ids {
			b.WriteString(id + "\t" + failures[id] + "\n")
		}
		if err := os.WriteFile(restKnownFailuresFile, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	known := loadKnownFailures(t, restKnownFailuresFile)
	var msgs []string
	for id, reason := range failures {
		if _, ok := known[id]; !ok {
			msgs = append(msgs, fmt.Sprintf("new failure (not in %s): %s: %s", restKnownFailuresFile, id, reason))
		}
	}
	for id := range known {
		if _, ok := failures[id]; !ok {
			msgs = append(msgs, fmt.Sprintf("listed in %s but now passes (remove it, or run with -rewrite): %s", restKnownFailuresFile, id))
		}
	}
	sort.Strings(msgs)
	for _, m := range msgs {
		t.Error(m)
	}
}

func loadKnownFailures(t *testing.T, path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		if os.IsNotExist(err) {
			return out
		}
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, reason, _ := strings.Cut(line, "\t")
		out[id] = reason
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\t", " ")
	s = strings.ReplaceAll(s, "\n", `\n`)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
