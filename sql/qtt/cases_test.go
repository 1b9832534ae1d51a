package qtt

import (
	"context"
	"testing"

	"github.com/seichedb/seiche/internal/knownfailures"
)

const ownKnownFailuresFile = "testdata/own_known_failures.txt"

// TestOwnCases runs the QTT-format cases of our own under testdata/cases: rules of ksqlDB's
// documented semantics, clause by clause, that need nothing outside the repository. Every case must
// pass, except those listed in testdata/own_known_failures.txt (case id TAB why Seiche is wrong there):
// a listed case that passes fails the test, as does one that fails unlisted, so the list only shrinks.
// The list is kept by hand: each line says what Seiche does instead of what ksqlDB does.
func TestOwnCases(t *testing.T) {
	files, err := LoadDir("testdata/cases")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no cases under testdata/cases")
	}
	known, err := knownfailures.Load(ownKnownFailuresFile)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var total, failing int
	for _, f := range files {
		for _, v := range f.Variants() {
			total++
			seen[v.ID] = true
			reason, listed := known[v.ID]
			t.Run(v.ID, func(t *testing.T) {
				r := Run(context.Background(), v)
				switch {
				case r.Status == Pass && listed:
					t.Errorf("passes, but is listed in %s (remove it): %s", ownKnownFailuresFile, reason)
				case r.Status != Pass && !listed:
					t.Errorf("%s: %s\n%s", r.Status, r.Reason, r.Detail)
				case r.Status != Pass:
					failing++
					t.Logf("known failure (%s): %s", reason, r.Reason)
				}
			})
		}
	}
	for id := range known {
		if !seen[id] {
			t.Errorf("%s lists %q, which is no case under testdata/cases", ownKnownFailuresFile, id)
		}
	}
	t.Logf("own QTT cases: %d, of which %d are known failures (%s)", total, failing, ownKnownFailuresFile)
}
