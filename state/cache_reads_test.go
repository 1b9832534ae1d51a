package state

import (
	"context"
	"testing"
	"time"
)

// readCounter is a layer that counts the point reads reaching it.
type readCounter struct {
	layer
	gets int
}

func (l *readCounter) get(k []byte) ([]byte, bool, error) {
	l.gets++
	return l.layer.get(k)
}

// The reads a store with a flush listener that wants old values makes below its record cache (or
// in place of one): a window written with PutNew is never looked up, nor is the old value of an
// entry the cache already held; a Put of an unknown key still is. The listener hears the same
// changes either way (the data-driven tests in testdata/window_new.txt and cache.txt check them).
func TestCacheReadsBelow(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cache int64
		// ops are run in order: 'n' PutNew of window a@0, 'p' Put of it, 'g' Get of it, 'f' a
		// flush; want is the number of reads below the cache.
		ops  string
		want int
	}{
		{"uncached put of a new window", 0, "p", 1},
		{"uncached put-new", 0, "n", 0},
		{"uncached get then put", 0, "ngp", 0},
		{"uncached put after put", 0, "np", 1},
		{"cached put-new, puts, flush", 1 << 20, "nppf", 0},
		{"cached put of an unknown key, flush", 1 << 20, "pf", 1},
		{"cached put after a flush", 1 << 20, "nfpf", 0},
		{"cached get, put, flush", 1 << 20, "nfgpf", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := OpenMemory()
			defer db.Close()
			tk, err := db.OpenTask("app", "0_0", 0)
			if err != nil {
				t.Fatal(err)
			}
			defer tk.Close()
			heard := 0
			ws, err := tk.WindowStore(context.Background(), "w", 10*time.Millisecond, 100*time.Millisecond,
				Caching(tc.cache), OnFlush(func(Change) error { heard++; return nil }), SendOldValues())
			if err != nil {
				t.Fatal(err)
			}
			s := ws.(*windowStore)
			rc := &readCounter{layer: s.cache.lower}
			s.cache.lower = rc
			for i, op := range tc.ops {
				v := []byte{byte(i)}
				switch op {
				case 'n':
					err = ws.PutNew([]byte("a"), 0, v)
				case 'p':
					err = ws.Put([]byte("a"), 0, v)
				case 'g':
					n := rc.gets
					_, _, err = ws.Get([]byte("a"), 0)
					rc.gets = n // count only the reads the writes add

				case 'f':
					err = tk.Flush(context.Background())
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if rc.gets != tc.want {
				t.Errorf("%d reads below the cache, want %d", rc.gets, tc.want)
			}
			if heard == 0 {
				t.Error("the listener heard nothing")
			}
		})
	}
}
