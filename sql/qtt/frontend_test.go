package qtt

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/parser"

	"github.com/seichedb/seiche/internal/knownfailures"
	"github.com/seichedb/seiche/internal/testutil"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the known-failures files of the tests run from the current results")

const knownFailuresFile = "testdata/frontend_known_failures.txt"

// frontEnd runs a variant's statements through parse + analysis against an in-memory metastore. It returns
// the first error and whether every statement got through.
func frontEnd(v Variant) error {
	a := analyzer.New(analyzer.NewMetastore())
	for k, val := range v.Case.Properties {
		a.Props[k] = fmt.Sprint(val)
	}
	var ps parser.Parser
	for _, s := range v.Statements {
		parsed, err := ps.ParseScript(s)
		if err != nil {
			return err
		}
		for _, p := range parsed {
			an, err := a.Analyze(p.Statement, p.Text)
			if err != nil {
				return err
			}
			a.Apply(an)
		}
	}
	return nil
}

func loadKnownFailures(t *testing.T) map[string]string {
	return loadKnownFailuresFile(t, knownFailuresFile)
}

func loadKnownFailuresFile(t *testing.T, path string) map[string]string {
	known, err := knownfailures.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return known
}

func oneLine(s string) string { return knownfailures.OneLine(s) }

// TestFrontEndConformance runs every QTT case's statements through the parser and analyzer. A positive
// case passes when all its statements parse and analyze; a negative case whose error arises at parse or
// analysis time passes when our error contains the expected message. Negative cases that our front end
// accepts are expected to fail at run time and are counted, not judged, here. Results are compared with
// testdata/frontend_known_failures.txt, which must list exactly the failing cases (-rewrite regenerates it).
func TestFrontEndConformance(t *testing.T) {
	dir := CorpusDir(".")
	if dir == "" {
		testutil.MissingCorpus(t, "ksqlDB conformance corpus not found: set SEICHE_KSQL_TESTS to ksqldb-functional-tests/src/test/resources of a ksqlDB clone (or put it at ../shared/conformance/ksql)")
	}
	files, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	known := loadKnownFailures(t)
	failures := map[string]string{}
	var posTotal, posPass, negTotal, negFrontEnd, negPass, negLater, skipped int
	for _, f := range files {
		for _, v := range f.Variants() {
			if r := SkipReason(v); r != "" {
				skipped++
				continue
			}
			err := frontEnd(v)
			if exp := v.Case.ExpectedException; exp != nil {
				negTotal++
				if err == nil {
					negLater++
					continue
				}
				negFrontEnd++
				if strings.Contains(err.Error(), exp.Message) {
					negPass++
				} else {
					failures[v.ID] = oneLine(fmt.Sprintf("expected error containing %q, got %q", exp.Message, err.Error()))
				}
				continue
			}
			posTotal++
			if err == nil {
				posPass++
			} else {
				failures[v.ID] = oneLine(err.Error())
			}
		}
	}
	t.Logf("positive cases: %d/%d parse and analyze", posPass, posTotal)
	t.Logf("negative cases: %d total; %d fail in the front end, %d of them with the expected message; %d pass the front end (their error is expected at run time or is a missing check)",
		negTotal, negFrontEnd, negPass, negLater)
	t.Logf("skipped: %d (disabled, schema-registry formats, test-only functions)", skipped)

	if *rewrite {
		if err := knownfailures.Write(knownFailuresFile,
			"# QTT cases that fail parse + analysis (sql/qtt TestFrontEndConformance), one per line: case id TAB reason.\n"+
				"# Regenerate with: go test ./sql/qtt -run TestFrontEndConformance -rewrite\n", failures); err != nil {
			t.Fatal(err)
		}
		return
	}
	for _, m := range knownfailures.Diff(knownFailuresFile, known, failures) {
		t.Error(m)
	}
}
