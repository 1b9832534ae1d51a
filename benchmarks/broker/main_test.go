package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestSmoke runs the whole workload with tiny counts against both brokers, so that the program cannot rot
// unnoticed: run fails unless every consume phase gets back every produced record exactly once.
func TestSmoke(t *testing.T) {
	cfg := config{
		records:    2000,
		warmup:     200,
		valueBytes: 100,
		partitions: []int{1, 3},
		rate:       2000,
		duration:   500 * time.Millisecond,
		linger:     time.Millisecond,
		targets:    []string{targetSeiche, targetKfake},
		dir:        t.TempDir(),
		count:      1,
		ceiling:    true,
		ballast:    true,
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := run(ctx, cfg, testLog{t})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(cfg.targets, targetCeiling) {
		want := 6*len(cfg.partitions) + 3
		if name == targetCeiling {
			want = 3 * len(cfg.partitions)
		}
		if len(res[name]) != want {
			t.Fatalf("%s: %d metrics, want %d", name, len(res[name]), want)
		}
		for _, m := range res[name] {
			if !(m.value > 0) {
				t.Errorf("%s: %s %s = %v, want > 0", name, m.workload, m.unit, m.value)
			}
		}
	}
	var out bytes.Buffer
	printTable(&out, cfg, res)
	t.Logf("\n%s", out.String())
	for _, s := range []string{"seiche/kfake", "produce, 3 partitions", "consume, 1 partition", "p99 ms", "client ceiling"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("table lacks %q", s)
		}
	}
}

func TestSeqSet(t *testing.T) {
	s := newSeqSet(3)
	for _, seq := range []uint64{2, 0} {
		if err := s.add(seq); err != nil {
			t.Fatal(err)
		}
	}
	if s.full() {
		t.Fatal("full after 2 of 3")
	}
	if err := s.add(2); err == nil {
		t.Error("duplicate accepted")
	}
	if err := s.add(3); err == nil {
		t.Error("out of range accepted")
	}
	if err := s.add(1); err != nil || !s.full() {
		t.Fatalf("add(1) = %v, full = %v", err, s.full())
	}
}

func TestPercentile(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5}, {0.99, 10}, {0.1, 1}, {0, 1}} {
		if got := percentile(d, c.q); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
}

// testLog sends the benchmark's progress lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
