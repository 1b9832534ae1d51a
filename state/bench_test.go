package state

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"path/filepath"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/seichedb/seiche/broker/brokertest"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The store benchmarks run the same operations on a Pebble-backed KeyValueStore and on raw Pebble
// in the same run, alternating chunks of operations so that both see the same machine state, and
// report both costs and their ratio. The raw baseline does what the store does underneath: writes
// into an indexed batch (reads see uncommitted writes) committed every commitEvery operations,
// reads that copy the value out, iterators with bounds.

const (
	benchKeys   = 200_000
	benchValue  = 100
	commitEvery = 1000
	chunk       = 5000
)

func benchKey(i int) []byte { return []byte(fmt.Sprintf("key-%012d", i)) }

var benchVal = make([]byte, benchValue)

type benchPair struct {
	db    *DB
	tk    *Task
	store KeyValueStore
	raw   *pebble.DB
	batch *pebble.Batch
	nRaw  int
	nSt   int
}

func newBenchPair(b *testing.B) *benchPair {
	dir := b.TempDir()
	db, err := Open(filepath.Join(dir, "store"))
	if err != nil {
		b.Fatal(err)
	}
	tk, err := db.OpenTask("bench", "0_0", 0)
	if err != nil {
		b.Fatal(err)
	}
	s, err := tk.KeyValueStore(context.Background(), "kv")
	if err != nil {
		b.Fatal(err)
	}
	cache := pebble.NewCache(defaultCacheBytes)
	defer cache.Unref()
	raw, err := pebble.Open(filepath.Join(dir, "raw"), &pebble.Options{
		Cache:        cache,
		MemTableSize: 64 << 20,
		Logger:       pebbleLogger{l: slog.New(slog.NewTextHandler(io.Discard, nil))},
	})
	if err != nil {
		b.Fatal(err)
	}
	p := &benchPair{db: db, tk: tk, store: s, raw: raw}
	b.Cleanup(func() {
		if p.batch != nil {
			p.batch.Close()
		}
		raw.Close()
		db.Close()
	})
	return p
}

func (p *benchPair) rawPut(b *testing.B, k, v []byte) {
	if p.batch == nil {
		p.batch = p.raw.NewIndexedBatch()
	}
	if err := p.batch.Set(k, v, nil); err != nil {
		b.Fatal(err)
	}
	if p.nRaw++; p.nRaw%commitEvery == 0 {
		if err := p.batch.Commit(pebble.NoSync); err != nil {
			b.Fatal(err)
		}
		p.batch.Close()
		p.batch = nil
	}
}

func (p *benchPair) storePut(b *testing.B, k, v []byte) {
	if err := p.store.Put(k, v); err != nil {
		b.Fatal(err)
	}
	if p.nSt++; p.nSt%commitEvery == 0 {
		if err := p.tk.Commit(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

func (p *benchPair) commitAll(b *testing.B) {
	if p.batch != nil {
		if err := p.batch.Commit(pebble.NoSync); err != nil {
			b.Fatal(err)
		}
		p.batch.Close()
		p.batch = nil
	}
	if err := p.tk.Commit(context.Background()); err != nil {
		b.Fatal(err)
	}
}

func (p *benchPair) load(b *testing.B) {
	for i := 0; i < benchKeys; i++ {
		k := benchKey(i)
		p.rawPut(b, k, benchVal)
		p.storePut(b, k, benchVal)
	}
	p.commitAll(b)
	// Flush both to sstables so that reads measure the same on-disk shape.
	if err := p.raw.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := p.db.eng.(*pebbleEngine).db.Flush(); err != nil {
		b.Fatal(err)
	}
}

// alternate runs n operations of each side in alternating chunks and reports both and the ratio.
func alternate(b *testing.B, raw, store func(i int)) {
	var rawDur, storeDur time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += chunk {
		n := min(chunk, b.N-done)
		t0 := time.Now()
		for i := done; i < done+n; i++ {
			raw(i)
		}
		t1 := time.Now()
		for i := done; i < done+n; i++ {
			store(i)
		}
		storeDur += time.Since(t1)
		rawDur += t1.Sub(t0)
	}
	b.StopTimer()
	b.ReportMetric(float64(storeDur.Nanoseconds())/float64(b.N), "store-ns/op")
	b.ReportMetric(float64(rawDur.Nanoseconds())/float64(b.N), "pebble-ns/op")
	b.ReportMetric(storeDur.Seconds()/rawDur.Seconds(), "ratio")
	b.ReportMetric(float64(b.N)/storeDur.Seconds(), "store-ops/s")
}

func BenchmarkPut(b *testing.B) {
	p := newBenchPair(b)
	rng := rand.New(rand.NewSource(1))
	keys := make([][]byte, 1<<16)
	for i := range keys {
		keys[i] = benchKey(rng.Intn(1 << 30))
	}
	b.SetBytes(int64(len(keys[0]) + benchValue))
	alternate(b,
		func(i int) { p.rawPut(b, keys[i&(len(keys)-1)], benchVal) },
		func(i int) { p.storePut(b, keys[i&(len(keys)-1)], benchVal) })
}

func BenchmarkGet(b *testing.B) {
	p := newBenchPair(b)
	p.load(b)
	rng := rand.New(rand.NewSource(1))
	keys := make([][]byte, 1<<16)
	for i := range keys {
		keys[i] = benchKey(rng.Intn(benchKeys))
	}
	b.SetBytes(int64(len(keys[0]) + benchValue))
	alternate(b,
		func(i int) {
			v, closer, err := p.raw.Get(keys[i&(len(keys)-1)])
			if err != nil {
				b.Fatal(err)
			}
			out := make([]byte, len(v))
			copy(out, v)
			closer.Close()
		},
		func(i int) {
			if _, ok, err := p.store.Get(keys[i&(len(keys)-1)]); err != nil || !ok {
				b.Fatal(ok, err)
			}
		})
}

const rangeLen = 100

func BenchmarkRange(b *testing.B) {
	p := newBenchPair(b)
	p.load(b)
	rng := rand.New(rand.NewSource(1))
	keys := make([][]byte, 1<<12)
	for i := range keys {
		keys[i] = benchKey(rng.Intn(benchKeys - rangeLen))
	}
	b.SetBytes(rangeLen * int64(len(keys[0])+benchValue))
	alternate(b,
		func(i int) {
			it, err := p.raw.NewIter(&pebble.IterOptions{LowerBound: keys[i&(len(keys)-1)]})
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for valid := it.First(); valid && n < rangeLen; valid = it.Next() {
				_, _ = it.Key(), it.Value()
				n++
			}
			it.Close()
		},
		func(i int) {
			it, err := p.store.Range(keys[i&(len(keys)-1)], nil)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for n < rangeLen && it.Next() {
				_, _ = it.Key(), it.Value()
				n++
			}
			it.Close()
		})
}

// BenchmarkRestore measures restoring a key-value store into Pebble from a changelog partition on
// the integrated broker: restoreRecords records of 16-byte keys and 100-byte values.
func BenchmarkRestore(b *testing.B) {
	const restoreRecords = 1_000_000
	br := brokertest.Start(b)
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(br.Addr()), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	kc := NewKafkaChangelog(cl)
	topic := ChangelogTopic("bench", "kv")
	if err := kc.EnsureTopic(ctx, topic, 1, map[string]string{"cleanup.policy": "compact"}); err != nil {
		b.Fatal(err)
	}
	val := make([]byte, benchValue)
	for i := 0; i < restoreRecords; i++ {
		kc.Produce(ChangelogRecord{Topic: topic, Key: []byte(fmt.Sprintf("key-%012d", i)), Value: val, Timestamp: -1},
			func(_ int64, err error) {
				if err != nil {
					b.Error(err)
				}
			})
	}
	if err := kc.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(restoreRecords * (16 + benchValue))
	b.ResetTimer()
	var elapsed time.Duration
	for i := 0; i < b.N; i++ {
		db, err := Open(filepath.Join(b.TempDir(), "state"))
		if err != nil {
			b.Fatal(err)
		}
		var last RestoreProgress
		tk, err := db.OpenTask("bench", "0_0", 0, WithChangelog(kc), OnRestore(func(p RestoreProgress) { last = p }))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tk.KeyValueStore(ctx, "kv"); err != nil {
			b.Fatal(err)
		}
		if last.Records != restoreRecords {
			b.Fatalf("restored %d records, want %d", last.Records, restoreRecords)
		}
		elapsed += last.Elapsed
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(restoreRecords*b.N)/elapsed.Seconds(), "records/s")
}

// BenchmarkWindowCount is one task of a windowed count over many keys: every record opens a new
// one-second window (each key has one record per window), so nothing coalesces in the cache and
// the cache's bookkeeping and flush are all it adds. The task commits every windowCountCommit
// records, as a runtime thread does at its commit interval; the store is logged to an in-memory
// changelog and kept in Pebble. Retention is the windows' size (the default of a windowed
// aggregation) or a day. cpu-ns/op is the process's CPU time (Pebble's and the GC's threads too),
// steadier than ns/op on a shared machine.
func BenchmarkWindowCount(b *testing.B) {
	const (
		keys              = 2500
		windowCountCommit = 10_000
	)
	for _, retention := range []time.Duration{time.Second, 24 * time.Hour} {
		for _, cache := range []int64{0, 10 << 20} {
			b.Run(fmt.Sprintf("retention=%v/cache=%d", retention, cache), func(b *testing.B) {
				db, err := Open(b.TempDir())
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				tk, err := db.OpenTask("bench", "0_0", 0, WithChangelog(newDiscardChangelog()))
				if err != nil {
					b.Fatal(err)
				}
				forwarded := 0
				s, err := tk.WindowStore(context.Background(), "counts", time.Second, retention,
					Caching(cache), OnFlush(func(Change) error { forwarded++; return nil }))
				if err != nil {
					b.Fatal(err)
				}
				keyBufs := make([][]byte, keys)
				for i := range keyBufs {
					keyBufs[i] = []byte(fmt.Sprintf("k%d", i))
				}
				value := make([]byte, 16)
				b.ResetTimer()
				cpu0 := processCPU()
				for i := range b.N {
					ts := int64(i) * 4
					if err := s.Put(keyBufs[i%keys], ts-ts%1000, value); err != nil {
						b.Fatal(err)
					}
					if (i+1)%windowCountCommit == 0 {
						if err := tk.Commit(context.Background()); err != nil {
							b.Fatal(err)
						}
					}
				}
				if err := tk.Commit(context.Background()); err != nil {
					b.Fatal(err)
				}
				cpu := processCPU() - cpu0
				b.StopTimer()
				if forwarded != b.N {
					b.Fatalf("forwarded %d of %d windows", forwarded, b.N)
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			})
		}
	}
}

// discardChangelog acknowledges every record at once and keeps none: the changelog's cost in
// BenchmarkWindowCount is the store's, not a fake broker's.
type discardChangelog struct{ next int64 }

func newDiscardChangelog() *discardChangelog { return &discardChangelog{} }

func (c *discardChangelog) Produce(rec ChangelogRecord, done func(int64, error)) {
	done(c.next, nil)
	c.next++
}

func (c *discardChangelog) Flush(context.Context) error { return nil }

func (c *discardChangelog) Offsets(context.Context, string, int32) (int64, int64, error) {
	return 0, 0, nil
}

func (c *discardChangelog) Read(context.Context, string, int32, int64, int64, func([]ChangelogRecord) error) error {
	return nil
}
