package qtt

import (
	"context"
	"testing"

	"github.com/seichedb/seiche/internal/knownfailures"
	"github.com/seichedb/seiche/internal/testutil"
)

const conformanceKnownFailuresFile = "testdata/known_failures.txt"

// TestConformance runs every QTT case of ksqlDB's corpus end to end (statements, then inputs through a
// runtime.TestDriver, outputs compared per topic) and compares the failures with
// testdata/known_failures.txt: a case failing that is not listed, or listed and passing, fails the test,
// so the list only shrinks. -rewrite regenerates it.
func TestConformance(t *testing.T) {
	dir := CorpusDir(".")
	if dir == "" {
		testutil.MissingCorpus(t, "ksqlDB conformance corpus not found: set SEICHE_KSQL_TESTS to ksqldb-functional-tests/src/test/resources of a ksqlDB clone (or put it at ../shared/conformance/ksql)")
	}
	files, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	known := loadKnownFailuresFile(t, conformanceKnownFailuresFile)
	failures := map[string]string{}
	var posTotal, posPass, negTotal, negPass, skipped int
	for _, f := range files {
		for _, v := range f.Variants() {
			r := Run(context.Background(), v)
			if r.Status == Skip {
				skipped++
				continue
			}
			neg := v.Case.ExpectedException != nil
			if neg {
				negTotal++
			} else {
				posTotal++
			}
			if r.Status == Pass {
				if neg {
					negPass++
				} else {
					posPass++
				}
				continue
			}
			reason := r.Reason
			if neg {
				reason = oneLine(r.Detail)
			}
			failures[v.ID] = oneLine(reason)
		}
	}
	pct := func(a, b int) float64 {
		if b == 0 {
			return 0
		}
		return 100 * float64(a) / float64(b)
	}
	t.Logf("positive cases: %d/%d pass (%.1f%%)", posPass, posTotal, pct(posPass, posTotal))
	t.Logf("negative cases: %d/%d fail with the expected message (%.1f%%)", negPass, negTotal, pct(negPass, negTotal))
	t.Logf("%d passed, %d failed, %d skipped", posPass+negPass, len(failures), skipped)

	if *rewrite {
		if err := knownfailures.Write(conformanceKnownFailuresFile,
			"# QTT cases that fail end to end (sql/qtt TestConformance), one per line: case id TAB reason.\n"+
				"# Regenerate with: go test ./sql/qtt -run TestConformance -rewrite\n", failures); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, m := range knownfailures.Diff(conformanceKnownFailuresFile, known, failures) {
		t.Error(m)
	}
}
