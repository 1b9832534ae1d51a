package testutil

import (
	"os"
	"testing"
)

// RequireCorpusEnv names the environment variable under which a test that needs ksqlDB's
// conformance corpus fails when the corpus is missing, instead of skipping. CI sets it, so that a
// run without the corpus cannot pass by having checked nothing; a user's clone, which has no
// corpus, leaves it unset and the tests skip.
const RequireCorpusEnv = "SEICHE_REQUIRE_KSQL_TESTS"

// MissingCorpus ends a test that cannot find ksqlDB's conformance corpus: reason says what was
// looked for and how to provide it. It skips, or fails when RequireCorpusEnv is set to a
// non-empty value other than "0".
func MissingCorpus(t testing.TB, reason string) {
	t.Helper()
	if v := os.Getenv(RequireCorpusEnv); v != "" && v != "0" {
		t.Fatalf("%s (%s=%s requires the corpus)", reason, RequireCorpusEnv, v)
	}
	t.Skip(reason)
}
