package qtt

import (
	"context"
	"os"
	"regexp"
	"testing"
)

// TestDebugCase prints the result of the cases matching $QTT_CASE (a regexp over case ids), read from
// $QTT_DIR when set, else from the corpus.
func TestDebugCase(t *testing.T) {
	pat := os.Getenv("QTT_CASE")
	dir := os.Getenv("QTT_DIR")
	if dir == "" {
		dir = CorpusDir(".")
	}
	if pat == "" || dir == "" {
		t.Skip("debugging aid, not a check: set QTT_CASE=<regexp over case ids> to print the diffs of matching failing cases (needs ../shared/conformance)")
	}
	re := regexp.MustCompile(pat)
	files, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		for _, v := range f.Variants() {
			if !re.MatchString(v.ID) || n > 40 {
				continue
			}
			r := Run(context.Background(), v)
			if r.Status != Fail {
				continue
			}
			n++
			t.Logf("%s: %s %s\n%s", v.ID, r.Status, r.Reason, r.Detail)
		}
	}
}
