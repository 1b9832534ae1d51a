package main

import (
	"context"
	"io"
	"testing"
	"time"
)

// TestSmoke runs every workload with tiny counts: each checks its own answers (every lookup's row,
// every pushed record exactly once, the same output values from SQL and DSL), so a figure from this
// program is never one of wrong results.
func TestSmoke(t *testing.T) {
	cfg := config{
		phases: []string{"pull", "push", "persistent"}, count: 1, commitInterval: 100 * time.Millisecond, verify: true,
		pullKeys: 200, pullClients: 4, pullWarmup: 50 * time.Millisecond, pullDuration: 200 * time.Millisecond,
		pushRate: 1000, pushWarmup: 100 * time.Millisecond, pushDuration: 300 * time.Millisecond, linger: time.Millisecond,
		records: 3000, partitions: 2,
	}
	res, err := run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, side := range []string{sideSeiche, sideCeiling} {
		if rs := res.pull[side]; len(rs) != 1 || rs[0].requests == 0 {
			t.Errorf("pull: no figure for %s: %+v", side, rs)
		}
	}
	if res.push == nil || len(res.push.counted) != 1 || res.push.counted[0] == 0 || res.push.push[0].p50 <= 0 || res.push.consumer[0].p50 <= 0 || len(res.push.added) != 1 {
		t.Errorf("push: no figure: %+v", res.push)
	}
	for _, side := range []string{sideSeiche, sideDSL} {
		if rs := res.persistent[side]; len(rs) != 1 || rs[0].elapsed <= 0 || rs[0].cpu <= 0 {
			t.Errorf("persistent: no figure for %s", side)
		}
	}
	if want := kept(cfg.records); res.kept != want {
		t.Errorf("persistent: %d records out, want %d", res.kept, want)
	}
	res.print(io.Discard)
}
