package engine_test

import (
	"context"
	"flag"
	"testing"

	"github.com/seichedb/seiche/engine"
	"github.com/seichedb/seiche/engine/resttest"

	"github.com/seichedb/seiche/internal/knownfailures"
	"github.com/seichedb/seiche/internal/testutil"
)

var rewrite = flag.Bool("rewrite", false, "rewrite testdata/rest_known_failures.txt from the current results")

const restKnownFailuresFile = "testdata/rest_known_failures.txt"

// TestRESTConformance runs ksqlDB's REST test files (../shared/conformance/ksql/rest) against an
// embedded server over HTTP and compares the failures with testdata/rest_known_failures.txt: a case
// failing that is not listed, or listed and passing, fails the test, so the list only shrinks.
// -rewrite regenerates it.
func TestRESTConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("the REST corpus takes over a minute; skipped with -short")
	}
	dir := resttest.CorpusDir(".")
	if dir == "" {
		testutil.MissingCorpus(t, "ksqlDB REST corpus not found: set SEICHE_KSQL_TESTS to ksqldb-functional-tests/src/test/resources of a ksqlDB clone (or put it at ../shared/conformance/ksql)")
	}
	cases, err := resttest.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := engine.StartEmbedded(engine.EmbeddedConfig{DataDir: t.TempDir(), Opts: engine.TestOpts(), BrokerOpts: engine.TestBrokerOpts()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	target := resttest.Target{HTTP: srv.URL, Bootstrap: srv.Bootstrap}
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
			failures[c.ID] = knownfailures.OneLine(r.Reason)
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
		if err := knownfailures.Write(restKnownFailuresFile,
			"# ksqlDB REST test cases that fail against an embedded server (engine TestRESTConformance),\n"+
				"# one per line: case id TAB reason. Regenerate with: go test ./engine -run TestRESTConformance -rewrite\n", failures); err != nil {
			t.Fatal(err)
		}
		return
	}
	known, err := knownfailures.Load(restKnownFailuresFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range knownfailures.Diff(restKnownFailuresFile, known, failures) {
		t.Error(m)
	}
}
