package state

import (
	"context"
	"maps"
	"testing"
)

// An unlogged store's source checkpoint commits atomically with the task's writes: a task closed
// without committing leaves neither, and DropTask removes both.
func TestSetCheckpointCommitsWithWrites(t *testing.T) {
	ctx := context.Background()
	db := OpenMemory()
	defer db.Close()
	open := func() (*Task, TimestampedKeyValueStore) {
		t.Helper()
		st, err := db.OpenTask("app", "global-items", 0)
		if err != nil {
			t.Fatal(err)
		}
		kv, err := st.TimestampedKeyValueStore(ctx, "items", WithoutLogging())
		if err != nil {
			t.Fatal(err)
		}
		return st, kv
	}
	check := func(st *Task, kv TimestampedKeyValueStore, want map[int32]int64, wantKey bool) {
		t.Helper()
		got, err := st.Checkpoints("items")
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, want) {
			t.Errorf("Checkpoints = %v, want %v", got, want)
		}
		if _, _, ok, err := kv.Get([]byte("k")); err != nil || ok != wantKey {
			t.Errorf("Get(k) ok = %v (err %v), want %v", ok, err, wantKey)
		}
	}

	st, kv := open()
	check(st, kv, map[int32]int64{}, false)
	if err := kv.Put([]byte("k"), []byte("v"), 1); err != nil {
		t.Fatal(err)
	}
	for p, off := range map[int32]int64{0: 4, 2: 9} {
		if err := st.SetCheckpoint("items", p, off); err != nil {
			t.Fatal(err)
		}
	}
	check(st, kv, map[int32]int64{0: 4, 2: 9}, true) // visible in the task before the commit
	st.Close()

	st, kv = open()
	check(st, kv, map[int32]int64{}, false) // not committed: neither the write nor the checkpoint
	if err := kv.Put([]byte("k"), []byte("v"), 1); err != nil {
		t.Fatal(err)
	}
	if err := st.SetCheckpoint("items", 1, 7); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, kv = open()
	check(st, kv, map[int32]int64{1: 7}, true)
	if err := st.SetCheckpoint("other", 0, 1); err == nil {
		t.Errorf("SetCheckpoint of a store not open succeeded")
	}
	st.Close()
	if err := db.DropTask("app", "global-items"); err != nil {
		t.Fatal(err)
	}
	st, kv = open()
	check(st, kv, map[int32]int64{}, false)
	st.Close()
}
