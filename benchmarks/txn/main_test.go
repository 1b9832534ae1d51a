package main

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestSmoke runs the benchmark with tiny counts: both producers write, and read back, every record.
func TestSmoke(t *testing.T) {
	p := params{records: 3000, partitions: 2, txnSizes: []int{500}, count: 1, log: io.Discard}
	res, err := run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{0, 500} {
		if len(res[size]) != 1 || res[size][0] <= 0 {
			t.Errorf("%s: figures %v", name(size), res[size])
		}
	}
	var out strings.Builder
	res.print(&out, p)
	if !strings.Contains(out.String(), "500 records/transaction") {
		t.Errorf("table misses the transactional row:\n%s", out.String())
	}
}
