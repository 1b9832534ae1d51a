package main

import (
	"context"
	"io"
	"testing"
	"time"
)

// TestSmoke runs every workload of both implementations once with tiny counts.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	cfg := config{records: 2000, keys: 50, partitions: 2, count: 1, commitInterval: 200 * time.Millisecond,
		window: time.Second, workloads: "count,window-count,join"}
	res, err := run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"count/seiche", "count/goka", "window-count/seiche", "window-count/goka", "join/seiche"} {
		if res.median(key) <= 0 {
			t.Errorf("no figure for %s", key)
		}
	}
}
