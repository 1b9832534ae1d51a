package storage

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/seichedb/seiche/broker/internal/records"
)

// txnBatch is batch marked transactional.
func txnBatch(t testing.TB, ts int64, pid int64, epoch int16, seq int32, kvs ...[2]*string) []byte {
	b := batch(t, ts, pid, epoch, seq, kvs...)
	binary.BigEndian.PutUint16(b[21:], binary.BigEndian.Uint16(b[21:])|0x10)
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32.MakeTable(crc32.Castagnoli)))
	return b
}

func mustAppend(t *testing.T, l *Log, b []byte) AppendResult {
	t.Helper()
	r, err := l.Append(b)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustMarker(t *testing.T, l *Log, pid int64, epoch int16, commit bool) AppendResult {
	t.Helper()
	r, err := l.AppendMarker(pid, epoch, commit, 0)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The last stable offset follows the oldest open transaction; aborted transactions are indexed and
// survive a clean reopen and a crash (no snapshot, no index files) alike.
func TestLastStableOffsetAndAbortedIndex(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	l := openLog(t, dir, cfg, nil)
	const a, b = 10, 20
	mustAppend(t, l, batch(t, 1, -1, -1, -1, kv("x", "1")))               // 0
	mustAppend(t, l, txnBatch(t, 1, a, 0, 0, kv("a", "1"), kv("a", "2"))) // 1-2
	mustAppend(t, l, txnBatch(t, 1, b, 0, 0, kv("b", "1")))               // 3
	if lso := l.LastStableOffset(); lso != 1 {
		t.Fatalf("two open transactions: last stable offset %d, want 1", lso)
	}
	mustMarker(t, l, b, 0, true) // 4
	if lso := l.LastStableOffset(); lso != 1 {
		t.Fatalf("older transaction still open: last stable offset %d, want 1", lso)
	}
	mustAppend(t, l, txnBatch(t, 1, a, 0, 2, kv("a", "3"))) // 5
	mustMarker(t, l, a, 0, false)                           // 6
	if lso := l.LastStableOffset(); lso != 7 {
		t.Fatalf("all decided: last stable offset %d, want 7", lso)
	}
	if _, err := l.AppendMarker(a, -1, true, 0); err == nil {
		t.Fatal("a marker from an older epoch was accepted")
	}
	mustAppend(t, l, txnBatch(t, 1, a, 1, 0, kv("a", "4"))) // 7, left open
	want := []AbortedTxn{{ProducerID: a, FirstOffset: 1, LastOffset: 6}}
	check := func(stage string) {
		t.Helper()
		if got := l.AbortedTransactions(0, l.EndOffset()); !slices.Equal(got, want) {
			t.Fatalf("%s: aborted %v, want %v", stage, got, want)
		}
		if got := l.AbortedTransactions(7, l.EndOffset()); len(got) != 0 {
			t.Fatalf("%s: aborted after the marker: %v", stage, got)
		}
		if got := l.AbortedTransactions(0, 1); len(got) != 0 {
			t.Fatalf("%s: aborted before the transaction: %v", stage, got)
		}
		if lso := l.LastStableOffset(); lso != 7 {
			t.Fatalf("%s: last stable offset %d, want 7", stage, lso)
		}
	}
	check("appended")
	l.Close()
	l = openLog(t, dir, cfg, nil)
	check("reopened")
	l.Close()
	// A crash: no snapshot and no index files; everything is rebuilt from the log.
	for _, name := range []string{producerSnapshotFile, segmentName("", 0, txnIndexSuffix)} {
		os.Remove(filepath.Join(dir, name))
	}
	l = openLog(t, dir, cfg, nil)
	defer l.Close()
	check("recovered")
	mustMarker(t, l, a, 1, true)
	if lso := l.LastStableOffset(); lso != l.EndOffset() {
		t.Fatalf("after the last commit: last stable offset %d, end %d", lso, l.EndOffset())
	}
}

// Compaction removes aborted data, keeps markers while their transaction's data remains and then for
// delete.retention.ms, and never touches what is past the last stable offset.
func TestCompactionWithTransactions(t *testing.T) {
	c := &clock{t: time.UnixMilli(5_000_000)}
	cfg := Config{SegmentBytes: 1 << 20, RetentionMs: -1, RetentionBytes: -1, Compact: true, MinCleanableDirtyRatio: 0.01,
		DeleteRetentionMs: 60_000, IndexIntervalBytes: 512}
	dir := t.TempDir()
	l := openLog(t, dir, cfg, c)
	defer l.Close()
	ts := c.t.UnixMilli()
	const a, b, open = 10, 20, 30
	mustAppend(t, l, txnBatch(t, ts, a, 0, 0, kv("k1", "aborted"))) // 0
	mustMarker(t, l, a, 0, false)                                   // 1
	mustAppend(t, l, txnBatch(t, ts, b, 0, 0, kv("k2", "b")))       // 2
	mustMarker(t, l, b, 0, true)                                    // 3
	mustAppend(t, l, batch(t, ts, -1, -1, -1, kv("k1", "plain")))   // 4
	roll := func() {
		l.mu.Lock()
		l.rollLocked()
		l.mu.Unlock()
	}
	roll()
	mustAppend(t, l, txnBatch(t, ts, open, 0, 0, kv("k1", "undecided"))) // 5, open
	roll()
	mustAppend(t, l, batch(t, ts, -1, -1, -1, kv("k9", "x"))) // 6
	roll()

	offsets := func() []int64 {
		var out []int64
		for off := int64(0); off < l.EndOffset(); {
			data, err := l.Read(off, 1<<20, l.EndOffset())
			if err != nil || len(data) == 0 {
				break
			}
			bs, _ := records.Split(data)
			for _, bt := range bs {
				h, _ := records.ParseHeader(bt)
				out = append(out, h.BaseOffset)
				off = h.LastOffset() + 1
			}
		}
		return out
	}
	if _, err := l.Clean(); err != nil {
		t.Fatal(err)
	}
	// The aborted batch (0) is gone; its marker (1) waits for its delete horizon; b's data and marker
	// stay; nothing from the open transaction on is cleaned.
	if got := offsets(); !slices.Equal(got, []int64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("after the first clean: batches at %v", got)
	}
	if got := l.AbortedTransactions(0, 10); len(got) != 1 {
		t.Fatalf("aborted index: %v", got)
	}
	c.t = c.t.Add(61 * time.Second)
	if _, err := l.Clean(); err != nil {
		t.Fatal(err)
	}
	if got := offsets(); !slices.Equal(got, []int64{2, 3, 4, 5, 6}) {
		t.Fatalf("after delete.retention.ms: batches at %v", got)
	}
	if got := l.AbortedTransactions(0, 10); len(got) != 0 {
		t.Fatalf("aborted index keeps the removed marker's entry: %v", got)
	}
	// Once b's only record is superseded, its commit marker goes too (after its own horizon).
	mustMarker(t, l, open, 0, true)                                            // 7: the open transaction commits
	mustAppend(t, l, batch(t, c.t.UnixMilli(), -1, -1, -1, kv("k2", "newer"))) // 8
	roll()
	if _, err := l.Clean(); err != nil {
		t.Fatal(err)
	}
	c.t = c.t.Add(61 * time.Second)
	if _, err := l.Clean(); err != nil {
		t.Fatal(err)
	}
	if got := offsets(); !slices.Equal(got, []int64{5, 6, 7, 8}) {
		t.Fatalf("after b's data was superseded: batches at %v", got)
	}
}
