package state

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"
)

// physicalKeys counts the keys stored for a store in [data prefix, data prefix | segment(t)), as the
// engine holds them (through the task's transaction).
func physicalKeysBefore(t *testing.T, s *windowStore, before int64) int {
	t.Helper()
	hi := s.appendSegment(nil, before)
	it, err := s.t.txn.iter(s.data, hi, false)
	if err != nil {
		t.Fatal(err)
	}
	defer it.close()
	n := 0
	for it.next() {
		n++
	}
	return n
}

// TestWindowRetention: windows older than retention are gone once stream time passes them, and
// their segments are removed from storage (not only hidden); the newest windows remain.
func TestWindowRetention(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := e.open(t)
			defer db.Close()
			tk, err := db.OpenTask("app", "0_0", 0)
			if err != nil {
				t.Fatal(err)
			}
			const (
				size      = 1000
				retention = 10_000
				segment   = 2000
			)
			ws, err := tk.WindowStore(ctx, "w", size*time.Millisecond, retention*time.Millisecond, SegmentInterval(segment*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			s := ws.(*windowStore)
			keys := []string{"a", "b", "c"}
			for start := int64(0); start < 60_000; start += size {
				for _, k := range keys {
					if err := ws.Put([]byte(k), start, []byte(fmt.Sprint(start))); err != nil {
						t.Fatal(err)
					}
				}
				if start%7000 == 0 {
					if err := tk.Commit(ctx); err != nil {
						t.Fatal(err)
					}
				}
				// Every window starting after stream time - retention is there, in order; none older.
				oldest := max(0, start-retention+size)
				it, err := ws.All()
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for it.Next() {
					got = append(got, fmt.Sprintf("%s@%d", it.Key(), it.Window().Start))
				}
				if err := it.Close(); err != nil {
					t.Fatal(err)
				}
				var want []string
				for _, k := range keys {
					for w := oldest; w <= start; w += size {
						want = append(want, fmt.Sprintf("%s@%d", k, w))
					}
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("stream time %d:\n got %v\nwant %v", start, got, want)
				}
				// Storage: nothing left in the segments wholly before the retention horizon.
				horizon := start - retention + 1
				if n := physicalKeysBefore(t, s, horizon); n != 0 {
					t.Fatalf("stream time %d: %d keys left in expired segments", start, n)
				}
			}
			if err := tk.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			// Everything expired, through fetch too.
			it, err := ws.FetchAll(0, 49_000)
			if err != nil {
				t.Fatal(err)
			}
			if it.Next() {
				t.Fatalf("expired window returned: %s@%d", it.Key(), it.Window().Start)
			}
			it.Close()
			// The newest remain after a restart.
			tk.Close()
			tk, _ = db.OpenTask("app", "0_0", 0)
			ws, err = tk.WindowStore(ctx, "w", size*time.Millisecond, retention*time.Millisecond, SegmentInterval(segment*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			if v, ok, err := ws.Get([]byte("b"), 59_000); err != nil || !ok || string(v) != "59000" {
				t.Fatalf("newest window after reopen: %q %v %v", v, ok, err)
			}
			if v, ok, _ := ws.Get([]byte("b"), 49_000); ok {
				t.Fatalf("expired window after reopen: %q", v)
			}
			if n := physicalKeysBefore(t, ws.(*windowStore), 59_000-retention+1); n != 0 {
				t.Fatalf("%d keys left in expired segments after reopen", n)
			}
			tk.Close()
		})
	}
}

func TestSessionRetention(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			ctx := context.Background()
			db := e.open(t)
			defer db.Close()
			tk, _ := db.OpenTask("app", "0_0", 0)
			ss, err := tk.SessionStore(ctx, "s", 100*time.Millisecond, SegmentInterval(20*time.Millisecond))
			if err != nil {
				t.Fatal(err)
			}
			for end := int64(0); end <= 1000; end += 10 {
				if err := ss.Put([]byte("k"), Window{Start: end - 5, End: end}, []byte("v")); err != nil {
					t.Fatal(err)
				}
			}
			it, _ := ss.FindSessions([]byte("k"), math.MinInt64, math.MaxInt64)
			var ends []int64
			for it.Next() {
				ends = append(ends, it.Window().End)
			}
			it.Close()
			// Stream time 1000, retention 100: sessions ending after 900 remain.
			if len(ends) != 10 || ends[0] != 910 || ends[9] != 1000 {
				t.Fatalf("sessions left: %v", ends)
			}
			s := ss.(*sessionStore)
			hi := s.appendSegment(nil, 901)
			raw, _ := s.t.txn.iter(s.data, hi, false)
			for raw.next() {
				t.Fatalf("key left in an expired segment")
			}
			raw.close()
		})
	}
}
