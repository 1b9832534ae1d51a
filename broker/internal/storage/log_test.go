package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/seichedb/seiche/broker/internal/records"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func openLog(t *testing.T, dir string, cfg Config, c *clock) *Log {
	t.Helper()
	opts := Options{Logger: quiet}
	if c != nil {
		opts.Now = c.now
	}
	l, err := Open(dir, cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func testConfig() Config {
	return Config{SegmentBytes: 4096, RetentionMs: -1, RetentionBytes: -1, Delete: true, IndexIntervalBytes: 256}
}

// batch builds a batch of key/value records (value nil = tombstone) with timestamp ts.
func batch(t testing.TB, ts int64, pid int64, epoch int16, seq int32, kvs ...[2]*string) []byte {
	recs := make([]records.Record, len(kvs))
	for i, kv := range kvs {
		recs[i].OffsetDelta = int32(i)
		if kv[0] != nil {
			recs[i].Key = []byte(*kv[0])
		}
		if kv[1] != nil {
			recs[i].Value = []byte(*kv[1])
		}
	}
	b, err := records.Encode(nil, records.Header{FirstTimestamp: ts, MaxTimestamp: ts, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq}, recs, records.None)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func kv(k, v string) [2]*string { return [2]*string{&k, &v} }
func tomb(k string) [2]*string  { return [2]*string{&k, nil} }

func appendN(t *testing.T, l *Log, n int, ts int64) {
	t.Helper()
	for i := 0; i < n; i++ {
		if _, err := l.Append(batch(t, ts, -1, -1, -1, kv(fmt.Sprint("k", i), fmt.Sprint("value-", i)))); err != nil {
			t.Fatal(err)
		}
	}
}

// readAll reads every record from offset from to the end: offset, key, value (nil for tombstones).
func readAll(t *testing.T, l *Log, from int64) []struct {
	off   int64
	key   string
	value *string
} {
	t.Helper()
	var out []struct {
		off   int64
		key   string
		value *string
	}
	for off := from; off < l.EndOffset(); {
		data, err := l.Read(off, 1<<20, l.EndOffset())
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if len(data) == 0 {
			break
		}
		bs, err := records.Split(data)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			h, recs, err := records.Decode(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				o := h.BaseOffset + int64(r.OffsetDelta)
				if o < off {
					continue
				}
				rec := struct {
					off   int64
					key   string
					value *string
				}{off: o, key: string(r.Key)}
				if r.Value != nil {
					v := string(r.Value)
					rec.value = &v
				}
				out = append(out, rec)
			}
			off = h.LastOffset() + 1
		}
	}
	return out
}

func TestAppendReadRollReopen(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, testConfig(), nil)
	appendN(t, l, 200, 1000)
	if l.EndOffset() != 200 {
		t.Fatalf("end %d", l.EndOffset())
	}
	if n := len(l.mu.segments); n < 3 {
		t.Fatalf("expected rolled segments, have %d", n)
	}
	got := readAll(t, l, 0)
	if len(got) != 200 || got[199].off != 199 || *got[57].value != "value-57" {
		t.Fatalf("read %d records", len(got))
	}
	// Read from the middle returns the batch holding the offset first.
	data, err := l.Read(123, 10, 200)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := records.ParseHeader(data); h.BaseOffset != 123 {
		t.Fatalf("read at 123 starts at %d", h.BaseOffset)
	}
	if _, err := l.Read(201, 100, 201); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read past end: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	l = openLog(t, dir, testConfig(), nil)
	defer l.Close()
	if l.EndOffset() != 200 || len(readAll(t, l, 0)) != 200 {
		t.Fatalf("after reopen: end %d", l.EndOffset())
	}
	appendN(t, l, 1, 1000)
	if l.EndOffset() != 201 {
		t.Fatalf("append after reopen: end %d", l.EndOffset())
	}
}

func TestRecoveryCutsTornTail(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, Config{RetentionMs: -1, RetentionBytes: -1}, nil)
	appendN(t, l, 10, 1000)
	if err := l.WaitDurable(context.Background(), 9); err != nil {
		t.Fatal(err)
	}
	l.Close()
	seg := segmentName(dir, 0, logSuffix)
	good, _ := os.ReadFile(seg)
	for name, corrupt := range map[string][]byte{
		"half batch": append(append([]byte{}, good...), batch(t, 1, -1, -1, -1, kv("a", "b"))[:30]...),
		"bad crc": func() []byte {
			b := batch(t, 1, -1, -1, -1, kv("a", "b"))
			b[len(b)-1] ^= 0xff
			return append(append([]byte{}, good...), b...)
		}(),
		"zeros": append(append([]byte{}, good...), make([]byte, 4096)...),
	} {
		if err := os.WriteFile(seg, corrupt, 0o644); err != nil {
			t.Fatal(err)
		}
		l := openLog(t, dir, Config{RetentionMs: -1, RetentionBytes: -1}, nil)
		if l.EndOffset() != 10 || len(readAll(t, l, 0)) != 10 {
			t.Fatalf("%s: end %d after recovery", name, l.EndOffset())
		}
		if st, _ := os.Stat(seg); st.Size() != int64(len(good)) {
			t.Fatalf("%s: segment is %d bytes, want %d", name, st.Size(), len(good))
		}
		l.Close()
	}
}

func TestIdempotentProducerState(t *testing.T) {
	dir := t.TempDir()
	l := openLog(t, dir, testConfig(), nil)
	r1, err := l.Append(batch(t, 1, 7, 0, 0, kv("a", "1"), kv("b", "2")))
	if err != nil || r1.BaseOffset != 0 {
		t.Fatal(r1, err)
	}
	dup, err := l.Append(batch(t, 1, 7, 0, 0, kv("a", "1"), kv("b", "2")))
	if err != nil || !dup.Duplicate || dup.BaseOffset != 0 || dup.LastOffset != 1 {
		t.Fatalf("duplicate: %+v %v", dup, err)
	}
	if _, err := l.Append(batch(t, 1, 7, 0, 5, kv("a", "1"))); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("gap: %v", err)
	}
	if _, err := l.Append(batch(t, 1, 8, 0, 3, kv("a", "1"))); !errors.Is(err, ErrUnknownProducerID) {
		t.Fatalf("unknown producer: %v", err)
	}
	if _, err := l.Append(batch(t, 1, 7, 0, 2, kv("c", "3"))); err != nil {
		t.Fatal(err)
	}
	// Producer state survives a crash (no snapshot: rebuilt from the log) and a clean restart.
	os.Remove(filepath.Join(dir, producerSnapshotFile))
	l.Flush()
	l2 := openLog(t, t.TempDir(), testConfig(), nil)
	l2.Close()
	l.Close()
	os.Remove(filepath.Join(dir, producerSnapshotFile))
	for _, name := range []string{"rebuilt", "snapshot"} {
		l = openLog(t, dir, testConfig(), nil)
		if r, err := l.Append(batch(t, 1, 7, 0, 2, kv("c", "3"))); err != nil || !r.Duplicate || r.BaseOffset != 2 {
			t.Fatalf("%s: retry after restart: %+v %v", name, r, err)
		}
		if _, err := l.Append(batch(t, 1, 7, -1+1, 9, kv("c", "3"))); !errors.Is(err, ErrOutOfOrderSequence) {
			t.Fatalf("%s: gap after restart: %v", name, err)
		}
		l.Close()
	}
	l = openLog(t, dir, testConfig(), nil)
	defer l.Close()
	if _, err := l.Append(batch(t, 1, 7, 1, 0, kv("d", "4"))); err != nil {
		t.Fatalf("new epoch: %v", err)
	}
	if _, err := l.Append(batch(t, 1, 7, 0, 3, kv("d", "4"))); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("old epoch: %v", err)
	}
}

// TestRetention checks that segments past retention.ms (by their newest timestamp) and past
// retention.bytes are deleted whole and that the log start offset moves to the first kept segment.
func TestRetention(t *testing.T) {
	c := &clock{t: time.UnixMilli(1_000_000)}
	cfg := testConfig()
	cfg.RetentionMs = 60_000
	l := openLog(t, t.TempDir(), cfg, c)
	defer l.Close()
	appendN(t, l, 100, 1_000_000) // old records
	appendN(t, l, 100, 1_050_000) // newer records
	c.t = time.UnixMilli(1_000_000 + 30_000)
	if n, err := l.EnforceRetention(); err != nil || n != 0 {
		t.Fatalf("nothing expired yet: %d %v", n, err)
	}
	c.t = time.UnixMilli(1_000_000 + 61_000)
	n, err := l.EnforceRetention()
	if err != nil || n == 0 {
		t.Fatalf("retention.ms: %d %v", n, err)
	}
	start := l.StartOffset()
	if start == 0 || start > 100 {
		t.Fatalf("log start offset %d after deleting the old segments", start)
	}
	for _, r := range readAll(t, l, start) {
		if r.off < start {
			t.Fatal("read below start")
		}
	}
	if _, err := l.Read(0, 100, l.EndOffset()); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below log start: %v", err)
	}
	// Everything expired, including the active segment: rolled and deleted.
	c.t = time.UnixMilli(1_050_000 + 61_000)
	if _, err := l.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	if l.StartOffset() != 200 || l.EndOffset() != 200 {
		t.Fatalf("all expired: start %d end %d", l.StartOffset(), l.EndOffset())
	}

	// retention.bytes keeps the newest segments within the limit.
	cfg = testConfig()
	cfg.RetentionBytes = 8192
	l2 := openLog(t, t.TempDir(), cfg, c)
	defer l2.Close()
	appendN(t, l2, 500, c.t.UnixMilli())
	if _, err := l2.EnforceRetention(); err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, s := range l2.mu.segments {
		total += s.size
	}
	if total > 8192+4096 || l2.StartOffset() == 0 {
		t.Fatalf("retention.bytes: %d bytes kept, start %d", total, l2.StartOffset())
	}
	if got := readAll(t, l2, l2.StartOffset()); int64(len(got)) != 500-l2.StartOffset() {
		t.Fatalf("read %d records after retention", len(got))
	}
	low, err := l2.DeleteRecordsBefore(490)
	if err != nil || low != 490 || len(readAll(t, l2, 490)) != 10 {
		t.Fatalf("delete records: %d %v", low, err)
	}
}

// TestCompaction is in the spirit of Kafka's LogCompactionTester: many keys, many updates and deletes;
// after cleaning, reading from the start yields exactly the last value of every live key, in offset
// order, no deleted key (once the tombstone horizon passed), and offsets never change.
func TestCompaction(t *testing.T) {
	c := &clock{t: time.UnixMilli(5_000_000)}
	cfg := Config{SegmentBytes: 16 << 10, RetentionMs: -1, RetentionBytes: -1, Compact: true, MinCleanableDirtyRatio: 0.01,
		DeleteRetentionMs: 60_000, IndexIntervalBytes: 512}
	dir := t.TempDir()
	l := openLog(t, dir, cfg, c)
	rng := rand.New(rand.NewSource(1))
	const keys = 500
	want := map[string]*string{}
	wantOff := map[string]int64{}
	for i := 0; i < 20000; i++ {
		k := fmt.Sprintf("key-%03d", rng.Intn(keys))
		var rec [2]*string
		if rng.Intn(10) == 0 {
			rec = tomb(k)
			want[k] = nil
		} else {
			v := fmt.Sprintf("v%d", i)
			rec = kv(k, v)
			want[k] = &v
		}
		r, err := l.Append(batch(t, c.t.UnixMilli(), -1, -1, -1, rec))
		if err != nil {
			t.Fatal(err)
		}
		wantOff[k] = r.BaseOffset
	}
	// Roll so that everything is in sealed segments.
	l.mu.Lock()
	l.rollLocked()
	l.mu.Unlock()
	end := l.EndOffset()

	check := func(stage string, tombstonesGone bool) {
		got := readAll(t, l, 0)
		seen := map[string]bool{}
		prev := int64(-1)
		for _, r := range got {
			if r.off <= prev {
				t.Fatalf("%s: offsets not increasing at %d", stage, r.off)
			}
			prev = r.off
			if seen[r.key] {
				t.Fatalf("%s: key %s appears twice", stage, r.key)
			}
			seen[r.key] = true
			if r.off != wantOff[r.key] {
				t.Fatalf("%s: key %s at offset %d, its last write was at %d", stage, r.key, r.off, wantOff[r.key])
			}
			w := want[r.key]
			if (w == nil) != (r.value == nil) || (w != nil && *w != *r.value) {
				t.Fatalf("%s: key %s has %v, want %v", stage, r.key, r.value, w)
			}
			if tombstonesGone && r.value == nil {
				t.Fatalf("%s: tombstone for %s still present after delete.retention.ms", stage, r.key)
			}
		}
		for k, v := range want {
			if v != nil && !seen[k] {
				t.Fatalf("%s: live key %s missing", stage, k)
			}
		}
		if l.EndOffset() != end {
			t.Fatalf("%s: end offset moved", stage)
		}
	}
	st, err := l.Clean()
	if err != nil || st.SegmentsCleaned == 0 || st.RecordsRemoved == 0 || st.BytesAfter >= st.BytesBefore {
		t.Fatalf("clean: %+v %v", st, err)
	}
	check("first clean", false)
	// Nothing dirty: a second pass does nothing until the tombstones' horizon passes.
	c.t = c.t.Add(61 * time.Second)
	appendN(t, l, 1, c.t.UnixMilli()) // make a little dirt so the cleaner runs
	l.mu.Lock()
	l.rollLocked()
	l.mu.Unlock()
	wantOff["k0"], want["k0"] = end, ptr("value-0")
	end = l.EndOffset()
	if _, err := l.Clean(); err != nil {
		t.Fatal(err)
	}
	check("after delete.retention.ms", true)
	// The cleaned log recovers like any other.
	l.Close()
	l = openLog(t, dir, cfg, c)
	defer l.Close()
	check("after reopen", true)
}

func ptr(s string) *string { return &s }

func TestGroupCommitSharesFsync(t *testing.T) {
	l := openLog(t, t.TempDir(), testConfig(), nil)
	defer l.Close()
	done := make(chan error, 50)
	for i := 0; i < 50; i++ {
		go func() {
			r, err := l.Append(batch(t, 1, -1, -1, -1, kv("k", "v")))
			if err != nil {
				done <- err
				return
			}
			done <- l.WaitDurable(context.Background(), r.LastOffset)
		}()
	}
	for i := 0; i < 50; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	l.flush.Lock()
	durable := l.flush.durable
	l.flush.Unlock()
	if durable != 50 {
		t.Fatalf("durable %d", durable)
	}
}

// TestReadWithReadsOnlyWholeBatches checks a read from every offset with several byte limits, on batches
// of mixed sizes (some below the index interval, some far above it) in several segments: it returns
// exactly the whole batches that fit in maxBytes (at least one), asks alloc for less than one index
// interval more than it returns (unless the first batch alone exceeds maxBytes), and returns the same
// bytes after a reopen, when the sealed segments' indexes come from disk.
func TestReadWithReadsOnlyWholeBatches(t *testing.T) {
	dir := t.TempDir()
	const interval = 512
	cfg := Config{SegmentBytes: 16 << 10, RetentionMs: -1, RetentionBytes: -1, Delete: true, IndexIntervalBytes: interval}
	l := openLog(t, dir, cfg, nil)
	rng := rand.New(rand.NewSource(1))
	for range 150 {
		n := 1 + rng.Intn(3)
		if rng.Intn(4) == 0 {
			n = 20 + rng.Intn(40) // a batch larger than the index interval
		}
		kvs := make([][2]*string, n)
		for i := range kvs {
			kvs[i] = kv(fmt.Sprint("key-", i), fmt.Sprint("value-", rng.Int()))
		}
		if _, err := l.Append(batch(t, 1000, -1, -1, -1, kvs...)); err != nil {
			t.Fatal(err)
		}
	}
	if len(l.mu.segments) < 3 {
		t.Fatalf("want several segments, have %d", len(l.mu.segments))
	}

	// The reference: each segment's batches as the file holds them.
	type stored struct {
		h    records.Header
		data []byte // the batch and every later batch of its segment
	}
	var all []stored
	for _, s := range l.mu.segments {
		file, err := os.ReadFile(s.path())
		if err != nil {
			t.Fatal(err)
		}
		for pos := 0; pos < len(file); {
			h, err := records.ParseHeader(file[pos:])
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, stored{h, file[pos:]})
			pos += h.Size()
		}
	}
	want := func(offset int64, maxBytes int) []byte {
		for _, st := range all {
			if st.h.LastOffset() < offset {
				continue
			}
			n := st.h.Size()
			for n < len(st.data) {
				next, err := records.ParseHeader(st.data[n:])
				if err != nil {
					t.Fatal(err)
				}
				if n+next.Size() > maxBytes {
					break
				}
				n += next.Size()
			}
			return st.data[:n]
		}
		return nil
	}

	check := func(stage string, bounded bool) {
		t.Helper()
		for off := int64(0); off < l.EndOffset(); off++ {
			for _, maxBytes := range []int{1, 100, 700, 1500, 5000, 1 << 20} {
				var asked []int
				got, err := l.ReadWith(off, maxBytes, l.EndOffset(), func(n int) []byte {
					asked = append(asked, n)
					return make([]byte, n)
				})
				if err != nil {
					t.Fatal(err)
				}
				w := want(off, maxBytes)
				if !bytes.Equal(got, w) {
					t.Fatalf("%s: read at %d, max %d: %d bytes, want %d", stage, off, maxBytes, len(got), len(w))
				}
				if bounded && len(w) <= maxBytes && asked[0] >= len(got)+interval {
					t.Errorf("%s: read at %d, max %d: asked for %v bytes to return %d", stage, off, maxBytes, asked, len(got))
				}
			}
		}
	}
	check("after appends", true)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openLog(t, dir, cfg, nil)
	defer l.Close()
	check("after reopen", false)
}
