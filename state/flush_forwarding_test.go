package state

import (
	"context"
	"testing"
)

// FlushForwarding flushes the caches that have a flush listener and leaves the others (a
// suppression buffer's) to coalesce until Commit: the listener hears the change at once, while
// the listener-less store's changes reach its changelog only at the commit, coalesced per key.
func TestFlushForwarding(t *testing.T) {
	ctx := context.Background()
	cl := newFakeChangelog()
	db := OpenMemory()
	defer db.Close()
	tk, err := db.OpenTask("app", "0_0", 0, WithChangelog(cl))
	if err != nil {
		t.Fatal(err)
	}
	var heard []string
	fwd, err := tk.KeyValueStore(ctx, "fwd", Caching(1<<20), OnFlush(func(c Change) error {
		heard = append(heard, string(c.Key)+"="+string(c.Value))
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	buf, err := tk.KeyValueStore(ctx, "buf", Caching(1<<20))
	if err != nil {
		t.Fatal(err)
	}
	logged := func(store string) int {
		return len(cl.part("app-"+store+"-changelog", 0).recs)
	}
	for i, v := range []string{"1", "2", "3"} {
		if err := fwd.Put([]byte("a"), []byte(v)); err != nil {
			t.Fatal(err)
		}
		if err := buf.Put([]byte("b"), []byte(v)); err != nil {
			t.Fatal(err)
		}
		if err := tk.FlushForwarding(); err != nil {
			t.Fatal(err)
		}
		if len(heard) != i+1 {
			t.Fatalf("after update %d the listener heard %v", i+1, heard)
		}
		if n := logged("buf"); n != 0 {
			t.Fatalf("after update %d the buffer's changelog holds %d records, want 0 before the commit", i+1, n)
		}
		if v, ok, err := buf.Get([]byte("b")); err != nil || !ok || string(v) != string(rune('1'+i)) {
			t.Fatalf("buffer reads %q %v %v", v, ok, err)
		}
	}
	if err := tk.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if n := logged("buf"); n != 1 {
		t.Errorf("after the commit the buffer's changelog holds %d records, want 1 (the updates coalesced)", n)
	}
	if n := logged("fwd"); n != 3 {
		t.Errorf("the forwarding store's changelog holds %d records, want 3 (flushed after each update)", n)
	}
}
