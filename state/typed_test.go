package state

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"
)

type int64Serde struct{}

func (int64Serde) Serialize(v int64) ([]byte, error) {
	return binary.BigEndian.AppendUint64(nil, uint64(v)^signBit), nil
}

func (int64Serde) Deserialize(b []byte) (int64, error) {
	if len(b) != 8 {
		return 0, errors.New("int64: need 8 bytes")
	}
	return int64(binary.BigEndian.Uint64(b) ^ signBit), nil
}

type stringSerde struct{}

func (stringSerde) Serialize(v string) ([]byte, error)   { return []byte(v), nil }
func (stringSerde) Deserialize(b []byte) (string, error) { return string(b), nil }

func TestTyped(t *testing.T) {
	ctx := context.Background()
	db := OpenMemory()
	defer db.Close()
	tk, _ := db.OpenTask("app", "0_0", 0)
	raw, _ := tk.KeyValueStore(ctx, "kv")
	kv := NewKV[int64, string](raw, int64Serde{}, stringSerde{})
	for _, k := range []int64{5, -3, 10, 0} {
		if err := kv.Put(k, fmt.Sprint("v", k)); err != nil {
			t.Fatal(err)
		}
	}
	if v, ok, err := kv.Get(-3); err != nil || !ok || v != "v-3" {
		t.Fatalf("get: %q %v %v", v, ok, err)
	}
	from, to := int64(-3), int64(10)
	it, err := kv.Range(&from, &to)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for it.Next() {
		got = append(got, fmt.Sprintf("%d=%s", it.Key(), it.Value()))
	}
	it.Close()
	if fmt.Sprint(got) != "[-3=v-3 0=v0 5=v5]" {
		t.Fatalf("range: %v", got)
	}
	// A key that fails to deserialize ends the iteration with an error.
	raw.Put([]byte("bad"), []byte("x"))
	it, _ = kv.All()
	for it.Next() {
	}
	if it.Err() == nil {
		t.Fatal("no deserialization error")
	}
	it.Close()

	rawTS, _ := tk.TimestampedKeyValueStore(ctx, "ts")
	ts := NewTimestampedKV[string, string](rawTS, stringSerde{}, stringSerde{})
	ts.Put("a", "x", 42)
	if vt, ok, err := ts.Get("a"); err != nil || !ok || vt.Value != "x" || vt.Timestamp != 42 {
		t.Fatalf("timestamped get: %+v %v %v", vt, ok, err)
	}
	tit, _ := ts.All()
	if !tit.Next() || tit.Timestamp() != 42 {
		t.Fatal("timestamped iterator")
	}
	tit.Close()

	rawW, _ := tk.WindowStore(ctx, "w", 10*time.Millisecond, time.Second)
	w := NewWindowed[string, int64](rawW, stringSerde{}, int64Serde{})
	w.Put("k", 0, 1)
	w.Put("k", 10, 2)
	wit, _ := w.Fetch("k", 0, 100)
	var sum int64
	for wit.Next() {
		sum += wit.Value()
		if wit.Window().End != wit.Window().Start+10 {
			t.Fatalf("window %v", wit.Window())
		}
	}
	wit.Close()
	if sum != 3 {
		t.Fatalf("window sum %d", sum)
	}

	rawS, _ := tk.SessionStore(ctx, "s", time.Second)
	s := NewSessions[string, string](rawS, stringSerde{}, stringSerde{})
	s.Put("k", Window{Start: 0, End: 5}, "a")
	sit, _ := s.FindSessions("k", 3, 10)
	if !sit.Next() || sit.Value() != "a" || sit.Window() != (Window{0, 5}) {
		t.Fatal("session find")
	}
	sit.Close()
}
