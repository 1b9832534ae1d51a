package state

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// A standby copy follows the active task's changelog through ApplyChangelog, checkpoints with
// Commit, resumes from its checkpoint when reopened, and when the task opens active on its DB the
// restore reads only the records the copy had not applied.
func TestStandbyFollowsChangelog(t *testing.T) {
	ctx := context.Background()
	cl := newFakeChangelog()
	activeDB, standbyDB := OpenMemory(), OpenMemory()
	defer activeDB.Close()
	defer standbyDB.Close()

	active, err := activeDB.OpenTask("app", "0_1", 1, WithChangelog(cl))
	if err != nil {
		t.Fatal(err)
	}
	akv, err := active.KeyValueStore(ctx, "kv")
	if err != nil {
		t.Fatal(err)
	}
	put := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			if err := akv.Put(fmt.Appendf(nil, "k%02d", i%10), fmt.Appendf(nil, "v%d", i)); err != nil {
				t.Fatal(err)
			}
		}
		if err := active.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	put(0, 30)

	openStandby := func() (*Task, KeyValueStore) {
		t.Helper()
		st, err := standbyDB.OpenTask("app", "0_1", 1, WithChangelog(cl), Standby())
		if err != nil {
			t.Fatal(err)
		}
		kv, err := st.KeyValueStore(ctx, "kv", Caching(1<<20))
		if err != nil {
			t.Fatal(err)
		}
		return st, kv
	}
	// follow reads the changelog from the store's position to its end, as the runtime's consumer does.
	follow := func(st *Task) (applied int) {
		t.Helper()
		for _, p := range st.StandbyPositions() {
			_, end, _ := cl.Offsets(ctx, p.Topic, p.Partition)
			err := cl.Read(ctx, p.Topic, p.Partition, p.Next, end, func(recs []ChangelogRecord) error {
				applied += len(recs)
				return st.ApplyChangelog(p.Store, recs, recs[len(recs)-1].Offset+1)
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		return applied
	}
	get := func(kv KeyValueStore, key string) string {
		t.Helper()
		v, ok, err := kv.Get([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return "<none>"
		}
		return string(v)
	}

	st, kv := openStandby()
	if ps := st.StandbyPositions(); len(ps) != 1 || ps[0].Next != 0 || ps[0].End != 30 || ps[0].Topic != "app-kv-changelog" {
		t.Fatalf("positions of a new standby: %+v", ps)
	}
	if n := follow(st); n != 30 {
		t.Errorf("applied %d records, want 30", n)
	}
	if got := get(kv, "k03"); got != "v23" {
		t.Errorf("standby k03 = %s, want v23", got)
	}
	if err := kv.Put([]byte("x"), []byte("y")); !errors.Is(err, ErrStandby) {
		t.Errorf("Put on a standby store: %v, want ErrStandby", err)
	}
	// A batch handed over twice changes nothing.
	if err := st.ApplyChangelog("kv", []ChangelogRecord{{Offset: 3, Key: []byte("k03"), Value: []byte("old")}}, 4); err != nil {
		t.Fatal(err)
	}
	if got := get(kv, "k03"); got != "v23" {
		t.Errorf("after a replayed record k03 = %s, want v23", got)
	}
	if err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// Reopened, the standby resumes after its checkpoint.
	put(30, 40)
	st, _ = openStandby()
	if ps := st.StandbyPositions(); ps[0].Next != 30 || ps[0].End != 40 {
		t.Fatalf("positions after a restart: %+v", ps)
	}
	if n := follow(st); n != 10 {
		t.Errorf("applied %d records after the restart, want 10", n)
	}
	// Closed without a commit: what was applied since is lost, and the next open reads it again.
	st.Close()
	st, _ = openStandby()
	if ps := st.StandbyPositions(); ps[0].Next != 30 {
		t.Fatalf("positions after an uncommitted close: %+v", ps)
	}
	follow(st)
	if err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	st.Close()

	// The task becomes active where the standby was: the restore reads the tail only.
	put(40, 45)
	var restored int64
	promoted, err := standbyDB.OpenTask("app", "0_1", 1, WithChangelog(cl), OnRestore(func(p RestoreProgress) {
		if p.Done {
			restored = p.Records
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	pkv, err := promoted.KeyValueStore(ctx, "kv")
	if err != nil {
		t.Fatal(err)
	}
	if restored != 5 {
		t.Errorf("promoted task restored %d records, want the 5 the standby had not applied", restored)
	}
	for i := range 10 {
		k := fmt.Sprintf("k%02d", i)
		if got, want := get(pkv, k), get(akv, k); got != want {
			t.Errorf("promoted %s = %s, active had %s", k, got, want)
		}
	}
	if ps := promoted.StandbyPositions(); ps != nil {
		t.Errorf("an active task has standby positions %v", ps)
	}
	promoted.Close()
	active.Close()
}

// A standby's window store applies the changelog as a restore does: windows, their sequence
// numbers and stream time, so retention drops what the active dropped.
func TestStandbyWindowStore(t *testing.T) {
	ctx := context.Background()
	cl := newFakeChangelog()
	db := OpenMemory()
	defer db.Close()
	active, err := db.OpenTask("app", "0_0", 0, WithChangelog(cl))
	if err != nil {
		t.Fatal(err)
	}
	w, err := active.WindowStore(ctx, "w", 10e6, 100e6, SegmentInterval(50e6))
	if err != nil {
		t.Fatal(err)
	}
	for i := range int64(30) {
		if err := w.Put([]byte("k"), i*10, fmt.Appendf(nil, "v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := active.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	active.Close()

	other := OpenMemory()
	defer other.Close()
	st, err := other.OpenTask("app", "0_0", 0, WithChangelog(cl), Standby())
	if err != nil {
		t.Fatal(err)
	}
	sw, err := st.WindowStore(ctx, "w", 10e6, 100e6, SegmentInterval(50e6))
	if err != nil {
		t.Fatal(err)
	}
	p := st.StandbyPositions()[0]
	if err := cl.Read(ctx, p.Topic, p.Partition, p.Next, p.End, func(recs []ChangelogRecord) error {
		return st.ApplyChangelog("w", recs, recs[len(recs)-1].Offset+1)
	}); err != nil {
		t.Fatal(err)
	}
	if got := sw.StreamTime(); got != 290 {
		t.Errorf("standby stream time %d, want 290", got)
	}
	if v, ok, err := sw.Get([]byte("k"), 280); err != nil || !ok || string(v) != "v28" {
		t.Errorf("standby window 280 = %q %v %v", v, ok, err)
	}
	if _, ok, _ := sw.Get([]byte("k"), 0); ok {
		t.Errorf("standby kept window 0, past retention")
	}
	st.Close()
}
