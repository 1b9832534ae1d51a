package state

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
)

// TestKeyValueReader reads a cached store whose entries are spread over every layer (committed,
// in the task's transaction, dirty in the cache, deleted in the cache) and checks that the reader
// sees what the store itself sees, and that reading changed nothing in the cache.
func TestKeyValueReader(t *testing.T) {
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			db := e.open(t)
			defer db.Close()
			tk, err := db.OpenTask("app", "0_0", 0)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			s, err := tk.TimestampedKeyValueStore(ctx, "s", Caching(1<<20))
			if err != nil {
				t.Fatal(err)
			}
			put := func(k, v string, ts int64) {
				if err := s.Put([]byte(k), []byte(v), ts); err != nil {
					t.Fatal(err)
				}
			}
			c := tk.stores[0].cache
			put("a", "committed", 1)
			put("b", "committed", 2)
			put("c", "committed", 3)
			if err := tk.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			c.reset() // nothing dirty: a, b and c are now in Pebble (or the tree) only
			put("d", "flushed", 4)
			if err := tk.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			c.reset() // d is in the task's transaction only

			put("b", "dirty", 5) // in the cache over a committed value
			put("e", "dirty", 6)
			put("e0", "", 7) // an empty value is a value
			if err := s.Delete([]byte("c")); err != nil {
				t.Fatal(err)
			}
			wants := map[string]string{
				"a":  `"committed" 1 true <nil>`,
				"b":  `"dirty" 5 true <nil>`,
				"c":  `"" 0 false <nil>`,
				"d":  `"flushed" 4 true <nil>`,
				"e":  `"dirty" 6 true <nil>`,
				"e0": `"" 7 true <nil>`,
				"zz": `"" 0 false <nil>`,
			}
			lruBefore := lruKeys(c)
			r, err := tk.KeyValueReader("s")
			if err != nil {
				t.Fatal(err)
			}
			for k := range wants {
				v, ts, ok, err := r.Get([]byte(k))
				if got := fmt.Sprintf("%q %d %v %v", v, ts, ok, err); got != wants[k] {
					t.Errorf("Get(%s) = %s, store says %s", k, got, wants[k])
				}
			}
			scan := func(from, to []byte) []string {
				var out []string
				if err := r.Scan(from, to, func(k, v []byte, ts int64) bool {
					out = append(out, fmt.Sprintf("%s=%s@%d", k, v, ts))
					return true
				}); err != nil {
					t.Fatal(err)
				}
				return out
			}
			want := []string{"a=committed@1", "b=dirty@5", "d=flushed@4", "e=dirty@6", "e0=@7"}
			if got := scan(nil, nil); !slices.Equal(got, want) {
				t.Errorf("Scan(all) = %v, want %v", got, want)
			}
			if got := scan([]byte("b"), []byte("e")); !slices.Equal(got, want[1:3]) {
				t.Errorf("Scan[b, e) = %v, want %v", got, want[1:3])
			}
			if got := scan([]byte("e"), []byte("b")); len(got) != 0 {
				t.Errorf("Scan[e, b) = %v, want nothing", got)
			}
			n := 0
			r.Scan(nil, nil, func([]byte, []byte, int64) bool { n++; return n < 2 })
			if n != 2 {
				t.Errorf("Scan went on after fn returned false: %d calls", n)
			}
			if got := lruKeys(c); !slices.Equal(got, lruBefore) {
				t.Errorf("reading changed the cache's recency order: %v, was %v", got, lruBefore)
			}
			if c.index != nil || c.ranged {
				t.Errorf("reading built the cache's ordered index")
			}
			if len(tk.stores[0].iters) != 0 {
				t.Errorf("reading left %d iterators registered on the store", len(tk.stores[0].iters))
			}

			for k, want := range wants { // the store agrees
				v, ts, ok, err := s.Get([]byte(k))
				if got := fmt.Sprintf("%q %d %v %v", v, ts, ok, err); got != want {
					t.Errorf("store Get(%s) = %s, want %s", k, got, want)
				}
			}

			if _, err := tk.KeyValueReader("nope"); err == nil {
				t.Errorf("a reader of a store the task does not have")
			}
			if _, err := tk.WindowStore(ctx, "w", 10, 100); err != nil {
				t.Fatal(err)
			}
			if _, err := tk.KeyValueReader("w"); err == nil {
				t.Errorf("a key-value reader of a window store")
			}
			tk.Close()
			if _, _, _, err := r.Get([]byte("a")); !errors.Is(err, ErrClosed) {
				t.Errorf("Get after Close = %v, want ErrClosed", err)
			}
			if err := r.Scan(nil, nil, func([]byte, []byte, int64) bool { return true }); !errors.Is(err, ErrClosed) {
				t.Errorf("Scan after Close = %v, want ErrClosed", err)
			}
		})
	}
}

func lruKeys(c *cacheLayer) []string {
	var out []string
	for e := c.lru.head; e != nil; e = e.lruNext {
		out = append(out, string(e.key))
	}
	return out
}
