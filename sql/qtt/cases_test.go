package qtt

import (
	"context"
	"testing"
)

// TestOwnCases runs the QTT-format cases of our own under testdata/cases: rules of ksqlDB's
// documented semantics that its corpus does not pin down. Every case must pass; they need nothing
// outside the repository.
func TestOwnCases(t *testing.T) {
	files, err := LoadDir("testdata/cases")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no cases under testdata/cases")
	}
	for _, f := range files {
		for _, v := range f.Variants() {
			t.Run(v.ID, func(t *testing.T) {
				r := Run(context.Background(), v)
				if r.Status != Pass {
					t.Errorf("%s: %s\n%s", r.Status, r.Reason, r.Detail)
				}
			})
		}
	}
}
