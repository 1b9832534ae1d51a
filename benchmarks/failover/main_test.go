package main

import (
	"context"
	"io"
	"testing"
	"time"
)

// TestSmoke measures one failover of each kind on a small load: a new owner takes the partition over
// and produces output, without and with a standby replica.
func TestSmoke(t *testing.T) {
	p := params{records: 2000, partitions: 2, sessionTimeout: 3 * time.Second, commitInterval: 100 * time.Millisecond, count: 1, log: io.Discard}
	res, err := run(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1} {
		if len(res[n]) != 1 || res[n][0] <= 0 {
			t.Errorf("%d standby replicas: figures %v", n, res[n])
		}
	}
	res.print(io.Discard, p)
}
