package main

import (
	"context"
	"io"
	"testing"
	"time"
)

// TestSmoke runs every implementation on a few records: each must produce exactly the expected
// output and commit all its input.
func TestSmoke(t *testing.T) {
	cfg := config{records: 2000, partitions: 2, valueBytes: 100, count: 1, commitInterval: 100 * time.Millisecond}
	res, err := run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, impl := range []string{implSeiche, implSeicheEOS, implHandwritten} {
		if res.median(impl) == 0 {
			t.Errorf("no figure for %s", impl)
		}
	}
}
