package state

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

// TestEngineIteratorSnapshot checks that an iterator sees the engine as it was when it was opened,
// whatever the txn writes, deletes or rolls back while it is open, on both engines: the memory
// engine takes its snapshot lazily, at the first write while an iterator is open.
func TestEngineIteratorSnapshot(t *testing.T) {
	pdb, err := Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	for _, tc := range []struct {
		name string
		eng  engine
	}{{"memory", newMemoryEngine()}, {"pebble", pdb.eng}} {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.eng
			setup := e.newTxn()
			for _, k := range []string{"a", "c", "e"} {
				if err := setup.set([]byte(k), []byte(k+"0")); err != nil {
					t.Fatal(err)
				}
			}
			if err := setup.commit(); err != nil {
				t.Fatal(err)
			}
			collect := func(it rawIter) string {
				var out []string
				for it.next() {
					out = append(out, string(it.key())+"="+string(it.value()))
				}
				if err := it.close(); err != nil {
					t.Fatal(err)
				}
				return fmt.Sprint(out)
			}
			tx := e.newTxn()
			it1, _ := tx.iter([]byte("a"), []byte("z"), false)
			if !it1.next() || string(it1.key()) != "a" {
				t.Fatalf("first key: %q", it1.key())
			}
			it2, _ := tx.iter([]byte("a"), []byte("z"), true)
			closed, _ := tx.iter([]byte("a"), []byte("z"), false)
			closed.close()
			// Writes while it1 and it2 are open: neither may see them.
			tx.set([]byte("b"), []byte("b1"))
			tx.set([]byte("c"), []byte("c1"))
			tx.del([]byte("e"))
			// it3 opens after the writes: it sees them, but not the ones after it.
			it3, _ := tx.iter([]byte("a"), []byte("z"), false)
			tx.set([]byte("d"), []byte("d1"))
			tx.deleteRange([]byte("a"), []byte("c"))
			if got, want := collect(it1), "[c=c0 e=e0]"; got != want {
				t.Errorf("it1 = %s, want %s", got, want)
			}
			if got, want := collect(it2), "[e=e0 c=c0 a=a0]"; got != want {
				t.Errorf("it2 = %s, want %s", got, want)
			}
			if got, want := collect(it3), "[a=a0 b=b1 c=c1]"; got != want {
				t.Errorf("it3 = %s, want %s", got, want)
			}
			// Reads through the txn see its own writes.
			if got, want := collect(mustIter(t, tx)), "[c=c1 d=d1]"; got != want {
				t.Errorf("txn view = %s, want %s", got, want)
			}
			// The rollback restores what was committed.
			tx.abort()
			if got, want := collect(mustIter(t, e.newTxn())), "[a=a0 c=c0 e=e0]"; got != want {
				t.Errorf("after abort = %s, want %s", got, want)
			}
		})
	}
}

func mustIter(t *testing.T, tx txn) rawIter {
	t.Helper()
	it, err := tx.iter([]byte("a"), []byte("z"), false)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

// BenchmarkMemoryEngineLookupWrite is what the test driver does for a record of a join or an
// aggregation on the memory engine: a range lookup, one write, a commit, in one store. The
// baseline is the memory engine as it was, cloning the tree for every iterator (so the write after
// it copies its B-tree path), alternating chunks of records with the current engine in the same run.
func BenchmarkMemoryEngineLookupWrite(b *testing.B) {
	const keys = 100_000
	const chunkOps = 1000
	cur, old := newMemoryEngine(), newMemoryEngine()
	val := make([]byte, 100)
	prefix := append(storePrefix("app", "0_0", "store"), storeData)
	key := func(i int) []byte { return append(bytes.Clone(prefix), benchKey(i)...) }
	for _, e := range []*memoryEngine{cur, old} {
		tx := e.newTxn()
		for i := 0; i < keys; i++ {
			tx.set(key(i*2), val)
		}
		tx.commit()
	}
	eagerIter := func(t *memoryTxn, lo, hi []byte) rawIter {
		t.e.mu.Lock()
		defer t.e.mu.Unlock()
		p, rest := splitKey(lo)
		tr := t.e.treeLocked(p, false)
		snap := &memView{tree: tr.tree.Clone()}
		return &memoryIter{e: t.e, t: tr, view: snap, lo: rest, hi: hi[len(p):]}
	}
	lookupWrite := func(e *memoryEngine, i int, eager bool) {
		tx := e.newTxn().(*memoryTxn)
		k := key((i * 7919) % (2 * keys))
		hi := append(bytes.Clone(k), 0xff)
		var it rawIter
		if eager {
			it = eagerIter(tx, k, hi)
		} else {
			it, _ = tx.iter(k, hi, false)
		}
		for it.next() {
		}
		it.close()
		tx.set(k, val)
		tx.commit()
	}
	var nsCur, nsOld float64
	var nCur, nOld int
	for n := 0; n < b.N; {
		todo := min(chunkOps, b.N-n)
		for _, eager := range []bool{n/chunkOps%2 == 0, n/chunkOps%2 != 0} {
			e := cur
			if eager {
				e = old
			}
			start := processCPU()
			for j := 0; j < todo; j++ {
				lookupWrite(e, n+j, eager)
			}
			d := float64(processCPU() - start)
			if eager {
				nsOld += d
				nOld += todo
			} else {
				nsCur += d
				nCur += todo
			}
		}
		n += todo
	}
	b.ReportMetric(nsCur/float64(nCur), "cpu-ns/op")
	b.ReportMetric(nsOld/float64(nOld), "baseline-cpu-ns/op")
	b.ReportMetric(nsOld/nsCur*float64(nCur)/float64(nOld), "speedup")
}

// TestMemoryEngineMatchesPebble runs the same random operations on both engines, over keys of
// several applications, tasks and stores (the memory engine keeps a tree per store) and keys that
// are no store's, with ranges within a store and across stores, tasks and applications, and
// compares every read.
func TestMemoryEngineMatchesPebble(t *testing.T) {
	pdb, err := Open(filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer pdb.Close()
	engines := []engine{newMemoryEngine(), pdb.eng}
	// The Pebble DB holds its format key: so must the memory engine.
	format := []byte{tagFormat, 'f', 'o', 'r', 'm', 'a', 't'}
	if v, ok, err := pdb.eng.get(format); err != nil || !ok {
		t.Fatalf("format key: %v %v", ok, err)
	} else if tx := engines[0].newTxn(); tx.set(format, v) != nil || tx.commit() != nil {
		t.Fatal("copying the format key")
	}
	var prefixes [][]byte
	for _, app := range []string{"a", "ab"} {
		for _, task := range []string{"0_0", "0_1"} {
			for _, store := range []string{"s", "s2"} {
				p := storePrefix(app, task, store)
				prefixes = append(prefixes, append(bytes.Clone(p), storeMeta), append(bytes.Clone(p), storeData))
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	randKey := func() []byte {
		switch rng.IntN(10) {
		case 0:
			return []byte{tagFormat, 'f'}
		case 1: // a bound that is a task or application prefix
			if rng.IntN(2) == 0 {
				return taskPrefix([]string{"a", "ab"}[rng.IntN(2)], "0_1")
			}
			return prefixEnd(appPrefix("a"))
		}
		k := bytes.Clone(prefixes[rng.IntN(len(prefixes))])
		for range rng.IntN(3) {
			k = append(k, byte(rng.IntN(4)*0x55))
		}
		return k
	}
	txns := []txn{engines[0].newTxn(), engines[1].newTxn()}
	read := func(i int, lo, hi []byte, reverse bool) string {
		it, err := txns[i].iter(lo, hi, reverse)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for it.next() {
			out = append(out, fmt.Sprintf("%x=%s", it.key(), it.value()))
		}
		it.close()
		return fmt.Sprint(out)
	}
	for step := range 5000 {
		k, v := randKey(), []byte(fmt.Sprint(step))
		lo, hi := randKey(), randKey()
		if bytes.Compare(lo, hi) > 0 {
			lo, hi = hi, lo
		}
		op := rng.IntN(20)
		var got [2]string
		for i := range engines {
			tx := txns[i]
			switch {
			case op < 8:
				tx.set(k, v)
			case op < 10:
				tx.del(k)
			case op < 11:
				tx.deleteRange(lo, hi)
			case op < 13:
				val, ok, _ := tx.get(k)
				got[i] = fmt.Sprint(ok, string(val))
			case op < 16:
				got[i] = read(i, lo, hi, op%2 == 0)
			case op < 17:
				got[i] = read(i, lo, nil, op%2 == 0)
			case op < 19:
				if err := tx.commit(); err != nil {
					t.Fatal(err)
				}
				txns[i] = engines[i].newTxn()
			default:
				tx.abort()
				txns[i] = engines[i].newTxn()
			}
		}
		if got[0] != got[1] {
			t.Fatalf("step %d, op %d (key %x, range %x..%x): memory %s, pebble %s", step, op, k, lo, hi, got[0], got[1])
		}
	}
}
