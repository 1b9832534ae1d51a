package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// iqProc writes every record to the key-value store "kv" and, with its timestamp, to the
// timestamped store "tkv"; a null value deletes the key from both.
type iqProc struct {
	ctx ProcessorContext[string, string]
}

func (p *iqProc) Init(ctx ProcessorContext[string, string]) error { p.ctx = ctx; return nil }
func (p *iqProc) Close() error                                    { return nil }
func (p *iqProc) Process(r Record[string, string]) error {
	kv, err := GetKeyValueStore(p.ctx, "kv", serde.String(), serde.String())
	if err != nil {
		return err
	}
	tkv, err := GetTimestampedKeyValueStore(p.ctx, "tkv", serde.String(), serde.String())
	if err != nil {
		return err
	}
	if r.Null {
		if err := kv.Delete(r.Key); err != nil {
			return err
		}
		return tkv.Delete(r.Key)
	}
	if err := kv.Put(r.Key, r.Value); err != nil {
		return err
	}
	return tkv.Put(r.Key, r.Value, r.Timestamp)
}

// iqTopology reads topic into the stores "kv" (uncached) and "tkv" (behind a record cache, so
// that reads must see what is still in the cache), and has a window store "win" besides.
func iqTopology(topic string) *Topology {
	topo := NewTopology()
	AddSource(topo, "src", SourceSpec[string, string]{Topics: []string{topic}, Keys: serde.String(), Values: serde.String()})
	AddProcessor(topo, "put", func() Processor[string, string, string, string] { return &iqProc{} }, "src")
	topo.AddStateStore(KeyValueStore("kv"), "put")
	topo.AddStateStore(TimestampedKeyValueStore("tkv", state.Caching(1<<20)), "put")
	topo.AddStateStore(windowStore{"win"}, "put")
	return topo
}

type windowStore struct{ name string }

func (w windowStore) Name() string { return w.name }
func (w windowStore) Open(ctx context.Context, t *state.Task) (state.Store, error) {
	return t.WindowStore(ctx, w.name, time.Minute, time.Hour)
}

// scanAll returns the entries of [from, to) as "key=value@ts".
func scanAll(t testing.TB, r StoreReader, from, to string) []string {
	t.Helper()
	var out []string
	if err := r.Scan(bound(from), bound(to), func(k, v []byte, ts int64) bool {
		out = append(out, fmt.Sprintf("%s=%s@%d", k, v, ts))
		return true
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// bound makes "" an unbounded end.
func bound(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func TestInteractiveDriver(t *testing.T) {
	d, err := NewTestDriver(iqTopology("in"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	pipe := func(k, v string, ts int64) {
		t.Helper()
		var vb []byte
		if v != "<null>" {
			vb = []byte(v)
		}
		if err := d.PipeInput("in", []byte(k), vb, ts); err != nil {
			t.Fatal(err)
		}
	}
	// Readers taken before any input see it: they read the task's stores, not a copy.
	stores, err := d.LocalStores("kv")
	if err != nil || len(stores) != 1 || stores[0] == nil {
		t.Fatalf("LocalStores(kv) = %v, %v; want one reader under partition 0", stores, err)
	}
	kv := stores[0]
	pipe("b", "B", 10)
	pipe("a", "A", 20)
	pipe("d", "D", 30)
	pipe("c", "C", 40)
	pipe("a", "A2", 50)
	pipe("c", "<null>", 60)
	pipe("e", "", 70) // an empty value is a value

	tstores, err := d.LocalStores("tkv")
	if err != nil || len(tstores) != 1 {
		t.Fatalf("LocalStores(tkv) = %v, %v", tstores, err)
	}
	tkv := tstores[0]
	for _, c := range []struct {
		r      StoreReader
		key    string
		want   string
		ts     int64
		absent bool
	}{
		{r: kv, key: "a", want: "A2"},
		{r: kv, key: "b", want: "B"},
		{r: kv, key: "c", absent: true},
		{r: kv, key: "e", want: ""},
		{r: kv, key: "zz", absent: true},
		{r: tkv, key: "a", want: "A2", ts: 50},
		{r: tkv, key: "d", want: "D", ts: 30},
		{r: tkv, key: "c", absent: true},
		{r: tkv, key: "e", want: "", ts: 70},
	} {
		v, ts, ok, err := c.r.Get([]byte(c.key))
		switch {
		case err != nil:
			t.Errorf("Get(%s): %v", c.key, err)
		case ok == c.absent || string(v) != c.want || ts != c.ts:
			t.Errorf("Get(%s) = %q %d %v, want %q %d %v", c.key, v, ts, ok, c.want, c.ts, !c.absent)
		case ok && v == nil:
			t.Errorf("Get(%s) returned a nil value", c.key)
		}
	}
	for _, c := range []struct {
		r        StoreReader
		from, to string
		want     string
	}{
		{kv, "", "", "a=A2@0 b=B@0 d=D@0 e=@0"},
		{kv, "b", "e", "b=B@0 d=D@0"},
		{kv, "bb", "", "d=D@0 e=@0"},
		{kv, "", "b", "a=A2@0"},
		{kv, "c", "d", ""},
		{kv, "e", "b", ""},
		{tkv, "", "", "a=A2@50 b=B@10 d=D@30 e=@70"},
		{tkv, "a", "c", "a=A2@50 b=B@10"},
	} {
		if got := strings.Join(scanAll(t, c.r, c.from, c.to), " "); got != c.want {
			t.Errorf("Scan[%q, %q) = %q, want %q", c.from, c.to, got, c.want)
		}
	}
	n := 0
	if err := kv.Scan(nil, nil, func([]byte, []byte, int64) bool { n++; return n < 2 }); err != nil || n != 2 {
		t.Errorf("Scan stopping after 2 entries: %d calls, %v", n, err)
	}

	// A range longer than a scan chunk comes back whole and in order.
	const many = 2*scanChunkEntries + 17
	for i := range many {
		pipe(fmt.Sprintf("k%04d", i), fmt.Sprint(i), int64(100+i))
	}
	got := scanAll(t, tkv, "k", "l")
	if len(got) != many {
		t.Fatalf("Scan over %d keys returned %d", many, len(got))
	}
	for i, e := range got {
		if want := fmt.Sprintf("k%04d=%d@%d", i, i, 100+i); e != want {
			t.Fatalf("entry %d = %s, want %s", i, e, want)
		}
	}
	got = scanAll(t, tkv, "k0100", "k0400")
	if len(got) != 300 || !strings.HasPrefix(got[0], "k0100=") || !strings.HasPrefix(got[299], "k0399=") {
		t.Errorf("Scan[k0100, k0400) = %d entries from %s to %s", len(got), got[0], got[len(got)-1])
	}

	if _, err := d.LocalStores("nope"); err == nil {
		t.Errorf("LocalStores of a store no sub-topology has: no error")
	}
	if _, err := d.LocalStores("win"); err == nil {
		t.Errorf("LocalStores of a window store: no error")
	}

	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := kv.Get([]byte("a")); !errors.Is(err, ErrStoreMigrated) {
		t.Errorf("Get after Close = %v, want ErrStoreMigrated", err)
	}
	if err := kv.Scan(nil, nil, func([]byte, []byte, int64) bool { return true }); !errors.Is(err, ErrStoreMigrated) {
		t.Errorf("Scan after Close = %v, want ErrStoreMigrated", err)
	}
	if stores, err := d.LocalStores("kv"); err != nil || len(stores) != 0 {
		t.Errorf("LocalStores after Close = %v, %v; want an empty map", stores, err)
	}
}

// iqRound is what one round of input writes: key k%03d (i < keys) gets "v<i>-<round>" with
// timestamp round*10000+i on partition i%3, and every deleteEvery-th key is deleted instead.
type iqRound struct {
	round, keys, deleteEvery int
}

func (r iqRound) records() []*kgo.Record {
	var out []*kgo.Record
	for i := range r.keys {
		rec := &kgo.Record{Topic: "iq-in", Partition: int32(i % 3), Key: fmt.Appendf(nil, "k%03d", i),
			Timestamp: time.UnixMilli(int64(r.round*10000 + i))}
		if r.deleteEvery == 0 || i%r.deleteEvery != 0 {
			rec.Value = fmt.Appendf(nil, "v%d-%d", i, r.round)
		}
		out = append(out, rec)
	}
	return out
}

// want returns the expected "key=value@ts" entries of each partition's tkv store.
func (r iqRound) want() map[int32][]string {
	out := map[int32][]string{}
	for i := range r.keys {
		if r.deleteEvery == 0 || i%r.deleteEvery != 0 {
			out[int32(i%3)] = append(out[int32(i%3)], fmt.Sprintf("k%03d=v%d-%d@%d", i, i, r.round, r.round*10000+i))
		}
	}
	return out
}

// checkStores returns nil when the tkv stores of the instances, each partition on one of them,
// hold exactly want.
func checkStores(want map[int32][]string, apps ...*App) error {
	stores := map[int32]StoreReader{}
	for _, a := range apps {
		local, err := a.LocalStores("tkv")
		if err != nil {
			return err
		}
		for p, r := range local {
			if stores[p] != nil {
				return fmt.Errorf("partition %d is on two instances", p)
			}
			stores[p] = r
		}
	}
	if len(stores) != len(want) {
		return fmt.Errorf("readers for %d partitions, want %d", len(stores), len(want))
	}
	for p, r := range stores {
		var got []string
		err := r.Scan(nil, nil, func(k, v []byte, ts int64) bool {
			got = append(got, fmt.Sprintf("%s=%s@%d", k, v, ts))
			return true
		})
		if err != nil {
			return err
		}
		if w := want[p]; strings.Join(got, " ") != strings.Join(w, " ") {
			return fmt.Errorf("partition %d: %d entries, want %d", p, len(got), len(w))
		}
	}
	return nil
}

// TestInteractiveApp runs an application over three partitions and reads its stores with
// LocalStores while it processes: first until every record shows, then from several goroutines
// while more records arrive, and on while a second instance joins and takes tasks over. The
// commit interval is an hour, so what the reads see before that is uncommitted: in the record
// cache ("tkv") or the task's transaction ("kv").
func TestInteractiveApp(t *testing.T) {
	addr, cl := testBroker(t)
	createTopics(t, cl, 3, "iq-in")
	pcl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer pcl.Close()
	produce := func(recs []*kgo.Record) {
		t.Helper()
		if err := pcl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	instances := 0
	newApp := func() *App {
		t.Helper()
		instances++
		a, err := New(iqTopology("iq-in"), ApplicationID("iq"), Bootstrap(addr), StateDir(t.TempDir()),
			ApplicationServer(fmt.Sprintf("host-%d:8088", instances)),
			CommitInterval(time.Hour), MaxPollRecords(20),
			SessionTimeout(6*time.Second), HeartbeatInterval(500*time.Millisecond), Logger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := newApp()
	if _, err := a.LocalStores("nope"); err == nil {
		t.Errorf("LocalStores of a store no sub-topology has: no error")
	}
	if stores, err := a.LocalStores("tkv"); err != nil || len(stores) != 0 {
		t.Errorf("LocalStores before Run = %v, %v; want an empty map", stores, err)
	}
	startApp(t, a)

	first := iqRound{round: 0, keys: 150}
	produce(first.records())
	checkFor(t, 30*time.Second, 20*time.Millisecond, func() error { return checkStores(first.want(), a) })
	if _, err := a.LocalStores("win"); err == nil {
		t.Errorf("LocalStores of a window store: no error")
	}

	// Readers hammer both stores while the second round (updates, new keys, deletes) arrives.
	second := iqRound{round: 1, keys: 300, deleteEvery: 7}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads, migrated atomic.Int64
	var apps atomic.Pointer[[]*App]
	apps.Store(&[]*App{a})
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				instances := *apps.Load()
				if err := iqRead(g, i, instances[i%len(instances)]); errors.Is(err, ErrStoreMigrated) {
					migrated.Add(1)
				} else if err != nil {
					t.Errorf("reader %d: %v", g, err)
					return
				}
				reads.Add(1)
			}
		}()
	}
	recs := second.records()
	for len(recs) > 0 {
		n := min(len(recs), 25)
		produce(recs[:n])
		recs = recs[n:]
		// Let the readers in between batches, so that reads and processing interleave.
		before := reads.Load()
		checkFor(t, 10*time.Second, time.Millisecond, func() error {
			if reads.Load() < before+8 {
				return errors.New("readers stalled")
			}
			return nil
		})
	}
	checkFor(t, 30*time.Second, 20*time.Millisecond, func() error { return checkStores(second.want(), a) })

	var stores map[int32]StoreReader
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		var err error
		if stores, err = a.LocalStores("kv"); err == nil && len(stores) != 3 {
			err = fmt.Errorf("%d kv readers", len(stores))
		}
		return err
	})
	if v, ts, ok, err := stores[1].Get([]byte("k004")); err != nil || !ok || string(v) != "v4-1" || ts != 0 {
		t.Errorf("kv Get(k004) = %q %d %v %v, want v4-1", v, ts, ok, err)
	}
	if _, _, ok, err := stores[0].Get([]byte("k007")); err != nil || ok {
		t.Errorf("kv Get(k007), deleted = %v %v", ok, err)
	}
	if _, _, ok, err := stores[0].Get([]byte("k004")); err != nil || ok {
		t.Errorf("kv Get(k004) on partition 0, which does not hold it = %v %v", ok, err)
	}

	// A second instance joins and takes tasks over (closed on the first, restored from their
	// changelogs on the second) while the readers go on reading both.
	b := newApp()
	startApp(t, b)
	apps.Store(&[]*App{a, b})
	checkFor(t, 60*time.Second, 20*time.Millisecond, func() error {
		if local, err := b.LocalStores("tkv"); err != nil || len(local) == 0 {
			return fmt.Errorf("no task on the second instance yet (%v)", err)
		}
		return checkStores(second.want(), a, b)
	})
	close(stop)
	wg.Wait()
	t.Logf("%d concurrent reads, %d found a task migrated", reads.Load(), migrated.Load())

	// Both instances know where every task of the store runs: the host that has it locally.
	checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		byHost := map[string]*App{"host-1:8088": a, "host-2:8088": b}
		for _, x := range []*App{a, b} {
			md, err := x.StoreMetadata("kv")
			if err != nil {
				return err
			}
			if md.Partitions != 3 || len(md.Active) != 3 {
				return fmt.Errorf("store metadata %+v, want 3 partitions, each with a host", md)
			}
			for p, host := range md.Active {
				local, err := byHost[host].LocalStores("kv")
				if err != nil {
					return err
				}
				if _, ok := local[p]; !ok {
					return fmt.Errorf("partition %d is said to run on %s, which does not have it", p, host)
				}
			}
		}
		return nil
	})
	if _, err := a.StoreMetadata("nope"); err == nil {
		t.Errorf("StoreMetadata of a store no sub-topology has: no error")
	}
	moved := 0
	for p, r := range stores {
		if _, _, _, err := r.Get([]byte("k004")); errors.Is(err, ErrStoreMigrated) {
			moved++
		} else if err != nil {
			t.Errorf("partition %d: %v", p, err)
		}
	}
	if local, _ := b.LocalStores("kv"); moved < len(local) {
		t.Errorf("%d readers of the first instance report their task migrated; the second instance has %d tasks", moved, len(local))
	}

	a.Close()
	for p, r := range stores {
		if _, _, _, err := r.Get([]byte("k004")); !errors.Is(err, ErrStoreMigrated) {
			t.Errorf("partition %d: Get after Close = %v, want ErrStoreMigrated", p, err)
		}
		if err := r.Scan(nil, nil, func([]byte, []byte, int64) bool { return true }); !errors.Is(err, ErrStoreMigrated) {
			t.Errorf("partition %d: Scan after Close = %v, want ErrStoreMigrated", p, err)
		}
	}
	if stores, err := a.LocalStores("kv"); err != nil || len(stores) != 0 {
		t.Errorf("LocalStores after Close = %v, %v; want an empty map", stores, err)
	}
}

// iqRead is one round of a concurrent reader: a Get of a key on its partition and a Scan of a
// range, checking that whatever they see is something the input wrote there.
func iqRead(g, i int, a *App) error {
	name := "tkv"
	if i%2 == 1 {
		name = "kv"
	}
	stores, err := a.LocalStores(name)
	if err != nil {
		return err
	}
	k := (g*131 + i*17) % 300
	if r, ok := stores[int32(k%3)]; ok {
		v, ts, found, err := r.Get(fmt.Appendf(nil, "k%03d", k))
		if err != nil {
			return err
		}
		if found {
			if err := checkEntry(name, fmt.Sprintf("k%03d", k), v, ts); err != nil {
				return err
			}
		}
	}
	for p, r := range stores {
		var last string
		var bad error
		err := r.Scan(fmt.Appendf(nil, "k%03d", k/2), fmt.Appendf(nil, "k%03d", k/2+60), func(kb, v []byte, ts int64) bool {
			key := string(kb)
			if key <= last {
				bad = fmt.Errorf("scan of partition %d: %s after %s", p, key, last)
				return false
			}
			last = key
			var n int
			fmt.Sscanf(key, "k%d", &n)
			if n%3 != int(p) {
				bad = fmt.Errorf("key %s read from partition %d", key, p)
				return false
			}
			bad = checkEntry(name, key, v, ts)
			return bad == nil
		})
		if err != nil {
			return err
		}
		if bad != nil {
			return bad
		}
	}
	return nil
}

// checkEntry checks that value and ts are what one of the rounds wrote for key.
func checkEntry(store, key string, v []byte, ts int64) error {
	var n, round int
	if _, err := fmt.Sscanf(key, "k%d", &n); err != nil {
		return err
	}
	if _, err := fmt.Sscanf(string(v), fmt.Sprintf("v%d-%%d", n), &round); err != nil || round > 1 {
		return fmt.Errorf("%s: %s = %q", store, key, v)
	}
	want := int64(round*10000 + n)
	if store == "kv" {
		want = 0
	}
	if ts != want {
		return fmt.Errorf("%s: %s = %q with timestamp %d, want %d", store, key, v, ts, want)
	}
	return nil
}

// TestStatefulTasksMoveBetweenThreads runs a stateful topology on two stream threads per instance:
// the first thread to join takes every task, then hands some to the second, whose rebalance callback
// may run before the first has closed them; and a second instance takes tasks from both. Every
// move must open the task's state once its old thread has let it go, and the stores hold every
// record.
func TestStatefulTasksMoveBetweenThreads(t *testing.T) {
	addr, cl := testBroker(t)
	createTopics(t, cl, 3, "iq-in") // iqRound writes partitions 0-2 of iq-in
	newApp := func(host string) *App {
		t.Helper()
		a, err := New(iqTopology("iq-in"), ApplicationID("mt"), Bootstrap(addr), StateDir(t.TempDir()),
			NumStreamThreads(2), ApplicationServer(host), CommitInterval(100*time.Millisecond),
			SessionTimeout(6*time.Second), HeartbeatInterval(500*time.Millisecond), Logger(testLogger(t)))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	a := newApp("a:1")
	errs := startApp(t, a)
	round := iqRound{round: 0, keys: 120}
	pcl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer pcl.Close()
	if err := pcl.ProduceSync(context.Background(), round.records()...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	checkFor(t, 60*time.Second, 20*time.Millisecond, func() error {
		select {
		case err := <-errs:
			t.Fatalf("the first instance stopped: %v", err)
		default:
		}
		return checkStores(round.want(), a)
	})
	b := newApp("b:1")
	errsB := startApp(t, b)
	checkFor(t, 60*time.Second, 20*time.Millisecond, func() error {
		for _, ch := range []<-chan error{errs, errsB} {
			select {
			case err := <-ch:
				t.Fatalf("an instance stopped: %v", err)
			default:
			}
		}
		if len(b.Tasks()) == 0 {
			return errors.New("no task on the second instance yet")
		}
		return checkStores(round.want(), a, b)
	})
}
