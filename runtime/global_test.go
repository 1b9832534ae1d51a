package runtime

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/serde"
	"github.com/seichedb/seiche/state"
)

// lookupTopology answers each record of gl-lookups (key: an item, value: a request id) with the
// global store's value for the item, "<none>" without one, keyed by the request id.
func lookupTopology() *Topology {
	topo := NewTopology()
	AddGlobalStore(topo, "items", GlobalStoreSpec[string, string]{Topic: "gl-items", Keys: serde.String(), Values: serde.String()})
	AddSource(topo, "lookups", SourceSpec[string, string]{Topics: []string{"gl-lookups"}, Keys: serde.String(), Values: serde.String()})
	AddProcessor(topo, "lookup", func() Processor[string, string, string, string] { return &lookupProc{} }, "lookups")
	AddSink(topo, "answers", SinkSpec[string, string]{Topic: "gl-answers", Keys: serde.String(), Values: serde.String()}, "lookup")
	return topo
}

type lookupProc struct {
	ctx   ProcessorContext[string, string]
	items GlobalStore[string, string]
}

func (p *lookupProc) Init(ctx ProcessorContext[string, string]) (err error) {
	p.ctx = ctx
	p.items, err = GetGlobalStore(ctx, "items", serde.String(), serde.String())
	return err
}
func (p *lookupProc) Close() error { return nil }
func (p *lookupProc) Process(r Record[string, string]) error {
	v, _, ok, err := p.items.Get(r.Key)
	if err != nil {
		return err
	}
	if !ok {
		v = "<none>"
	}
	return p.ctx.Forward(WithKeyValue(r, r.Value, v))
}

// fetchCounter records the offsets of gl-items the global consumer fetched (kgo's
// HookFetchRecordBuffered; only the global consumer reads that topic).
type fetchCounter struct {
	mu      sync.Mutex
	offsets map[int32][]int64
}

func (f *fetchCounter) OnFetchRecordBuffered(r *kgo.Record) {
	if r.Topic != "gl-items" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.offsets == nil {
		f.offsets = map[int32][]int64{}
	}
	f.offsets[r.Partition] = append(f.offsets[r.Partition], r.Offset)
}

// fetched returns the distinct offsets fetched by partition (a fetch retried after an error may
// buffer a record twice).
func (f *fetchCounter) fetched() (map[int32]map[int64]bool, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out, n := map[int32]map[int64]bool{}, 0
	for p, offs := range f.offsets {
		out[p] = map[int64]bool{}
		for _, o := range offs {
			if !out[p][o] {
				out[p][o] = true
				n++
			}
		}
	}
	return out, n
}

// globalFixture is a broker with the lookup application's topics, a producer and a reader of the
// answers, and one state directory shared by the application's successive runs.
type globalFixture struct {
	t        *testing.T
	addr     string
	cl       *kgo.Client
	answers  *kgo.Client
	dir      string
	requests int
	got      map[string]string // answer by request id
}

func newGlobalFixture(t *testing.T) *globalFixture {
	if testing.Short() {
		t.Skip("starts a broker")
	}
	addr, _ := testBroker(t)
	f := &globalFixture{t: t, addr: addr, dir: t.TempDir(), got: map[string]string{}}
	cl := f.producer()
	f.cl = cl
	createTopics(t, cl, 3, "gl-items")
	createTopics(t, cl, 1, "gl-lookups", "gl-answers")
	answers, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("gl-answers"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(answers.Close)
	f.answers = answers
	return f
}

func (f *globalFixture) producer() *kgo.Client {
	f.t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.addr), kgo.ProducerLinger(0), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(cl.Close)
	return cl
}

// items writes item i (key "k<i>", value prefix+i) for i in [from, to), to partition i%3.
func (f *globalFixture) items(from, to int, prefix string) {
	f.t.Helper()
	for i := from; i < to; i++ {
		r := &kgo.Record{Topic: "gl-items", Partition: int32(i % 3), Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "%s%d", prefix, i)}
		if err := f.cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			f.t.Fatalf("produce: %v", err)
		}
	}
}

// start runs the application on the fixture's state directory with a fresh fetch counter.
func (f *globalFixture) start(commitInterval time.Duration, opts ...Opt) (*App, <-chan error, *fetchCounter) {
	f.t.Helper()
	fc := &fetchCounter{}
	a, err := New(lookupTopology(), append([]Opt{ApplicationID("gl-app"), Bootstrap(f.addr), StateDir(f.dir),
		CommitInterval(commitInterval), SessionTimeout(6 * time.Second), HeartbeatInterval(500 * time.Millisecond),
		ClientOpts(kgo.WithHooks(fc)), Logger(testLogger(f.t))}, opts...)...)
	if err != nil {
		f.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background()) }()
	f.t.Cleanup(func() { a.Close() })
	return a, done, fc
}

// stop closes the application cleanly and checks that Run returned nil.
func (f *globalFixture) stop(a *App, done <-chan error) {
	f.t.Helper()
	a.Close()
	if err := <-done; err != nil {
		f.t.Fatalf("Run: %v", err)
	}
}

// ask looks up every item through the running application and checks the answers. Use it for
// what the store must hold when the stream threads start: startGlobals restores every global
// store to its topic's end offsets before any task exists.
func (f *globalFixture) ask(want map[string]string) {
	f.t.Helper()
	got := f.lookup(want)
	for item, v := range got {
		if v != want[item] {
			f.t.Errorf("lookup of %s = %q, want %q", item, v, want[item])
		}
	}
}

// askEventually looks up every item until the answers are the wanted ones. Use it after writing
// to gl-items while the application runs: the global consumer applies records in its own
// goroutine, unordered with respect to the stream tasks (as Kafka Streams' GlobalStreamThread
// is), so a lookup sent right after an update may still see the old value.
func (f *globalFixture) askEventually(want map[string]string) {
	f.t.Helper()
	pending := maps.Clone(want)
	checkFor(f.t, 30*time.Second, 50*time.Millisecond, func() error {
		for item, v := range f.lookup(pending) {
			if v == want[item] {
				delete(pending, item)
			}
		}
		if len(pending) > 0 {
			return fmt.Errorf("lookups not answered as wanted yet: %v", pending)
		}
		return nil
	})
}

// lookup sends one request per item to the running application and returns its answers by item.
func (f *globalFixture) lookup(items map[string]string) map[string]string {
	f.t.Helper()
	ids := map[string]string{} // item by request id
	for item := range items {
		f.requests++
		id := fmt.Sprintf("req%d", f.requests)
		ids[id] = item
		r := &kgo.Record{Topic: "gl-lookups", Key: []byte(item), Value: []byte(id)}
		if err := f.cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			f.t.Fatalf("produce: %v", err)
		}
	}
	checkFor(f.t, 30*time.Second, 10*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		f.answers.PollFetches(ctx).EachRecord(func(r *kgo.Record) { f.got[string(r.Key)] = string(r.Value) })
		for id := range ids {
			if _, ok := f.got[id]; !ok {
				return fmt.Errorf("no answer to %s yet", id)
			}
		}
		return nil
	})
	out := map[string]string{}
	for id, item := range ids {
		out[item] = f.got[id]
	}
	return out
}

// ends returns the end offsets of gl-items by partition.
func (f *globalFixture) ends() map[int32]int64 {
	f.t.Helper()
	ends, err := kadm.NewClient(f.cl).ListEndOffsets(context.Background(), "gl-items")
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// stored opens the stopped application's state directory and returns the global store's
// checkpoint (next offset by partition) and its value of key.
func (f *globalFixture) stored(key string) (next map[int32]int64, value string, ok bool) {
	f.t.Helper()
	db, err := state.Open(filepath.Join(f.dir, "gl-app"))
	if err != nil {
		f.t.Fatal(err)
	}
	defer db.Close()
	st, err := db.OpenTask("gl-app", globalTaskID("items"), 0)
	if err != nil {
		f.t.Fatal(err)
	}
	defer st.Close()
	kv, err := st.TimestampedKeyValueStore(context.Background(), "items", state.WithoutLogging())
	if err != nil {
		f.t.Fatal(err)
	}
	cps, err := st.Checkpoints("items")
	if err != nil {
		f.t.Fatal(err)
	}
	next = map[int32]int64{}
	for p, o := range cps {
		next[p] = o + 1
	}
	v, _, ok, err := kv.Get([]byte(key))
	if err != nil {
		f.t.Fatal(err)
	}
	return next, string(v), ok
}

// A clean stop checkpoints the global store; the restart keeps its data and fetches only the
// records written since, from the checkpointed offsets, while lookups see both.
func TestGlobalStoreResumesFromCheckpoint(t *testing.T) {
	f := newGlobalFixture(t)
	f.items(0, 30, "v1-")
	// A commit interval longer than the test: the only checkpoint is the one written on Close.
	a, done, fc := f.start(time.Hour)
	f.ask(map[string]string{"k0": "v1-0", "k29": "v1-29", "k30": "<none>"})
	if _, n := fc.fetched(); n != 30 {
		t.Errorf("first start fetched %d records, want all 30", n)
	}
	f.stop(a, done)

	checkpointed := f.ends()
	if next, _, _ := f.stored("k0"); !maps.Equal(next, checkpointed) {
		t.Errorf("checkpoint after a clean stop = %v, want the end offsets %v", next, checkpointed)
	}
	f.items(0, 3, "v2-")   // updates
	f.items(30, 33, "v2-") // new items
	a, done, fc = f.start(time.Hour)
	f.ask(map[string]string{"k0": "v2-0", "k2": "v2-2", "k5": "v1-5", "k29": "v1-29", "k31": "v2-31"})
	offs, n := fc.fetched()
	if n != 6 {
		t.Errorf("restart fetched %d records, want the 6 written since the stop: %v", n, offs)
	}
	for p, set := range offs {
		for o := range set {
			if o < checkpointed[p] {
				t.Errorf("restart fetched partition %d offset %d, before the checkpoint %d", p, o, checkpointed[p])
			}
		}
	}
	f.stop(a, done)
}

// A checkpoint that does not fit the topic makes the restart drop the store and rebuild it from
// the beginning: after the topic was deleted and recreated with fewer records (checkpoint beyond
// the end), and after records past the checkpoint were deleted (checkpoint before the log start).
func TestGlobalStoreRebuildsOnUnusableCheckpoint(t *testing.T) {
	cases := map[string]func(f *globalFixture) (want map[string]string, fetched int){
		"topic recreated": func(f *globalFixture) (map[string]string, int) {
			adm := kadm.NewClient(f.cl)
			resp, err := adm.DeleteTopics(context.Background(), "gl-items")
			if err == nil {
				err = resp.Error()
			}
			if err != nil {
				t.Fatalf("delete topic: %v", err)
			}
			checkFor(t, 10*time.Second, 20*time.Millisecond, func() error {
				resp, err := adm.CreateTopics(context.Background(), 3, 1, nil, "gl-items")
				if err == nil {
					err = resp.Error()
				}
				return err
			})
			// A new producer: the old one knows the deleted topic's id.
			f.cl = f.producer()
			f.items(100, 102, "new-")
			return map[string]string{"k0": "<none>", "k29": "<none>", "k100": "new-100", "k101": "new-101"}, 2
		},
		"records deleted": func(f *globalFixture) (map[string]string, int) {
			f.items(30, 33, "v2-") // one more record in each partition
			ends := f.ends()
			var del kadm.Offsets
			del.Add(kadm.Offset{Topic: "gl-items", Partition: 0, At: ends[0]})
			resp, err := kadm.NewClient(f.cl).DeleteRecords(context.Background(), del)
			if err == nil {
				err = resp.Error()
			}
			if err != nil {
				t.Fatalf("delete records: %v", err)
			}
			// Partition 0 is empty now: its items are gone from the rebuilt store. Partitions 1
			// and 2 are read again from offset 0.
			return map[string]string{"k0": "<none>", "k30": "<none>", "k1": "v1-1", "k31": "v2-31"}, 22
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			f := newGlobalFixture(t)
			f.items(0, 30, "v1-")
			a, done, _ := f.start(time.Hour)
			f.ask(map[string]string{"k0": "v1-0"})
			f.stop(a, done)

			want, fetched := change(f)
			a, done, fc := f.start(time.Hour)
			f.ask(want)
			offs, n := fc.fetched()
			if n != fetched {
				t.Errorf("restart fetched %d records, want %d: %v", n, fetched, offs)
			}
			f.stop(a, done)
		})
	}
}

// An application that dies before its first checkpoint (a commit interval longer than its life,
// and a crash: no checkpoint on the way out) leaves the store's data without a checkpoint; the
// restart drops it and rebuilds from the beginning.
func TestGlobalStoreRebuildsAfterCrashWithoutCheckpoint(t *testing.T) {
	f := newGlobalFixture(t)
	f.items(0, 30, "v1-")
	a, done, _ := f.start(time.Hour)
	f.ask(map[string]string{"k0": "v1-0"})
	f.items(0, 3, "v2-") // applied while running, committed to the store, never checkpointed
	f.askEventually(map[string]string{"k2": "v2-2"})
	a.crash()
	<-done // a crash may fail a commit in flight: Run's error says nothing here
	if next, v, _ := f.stored("k2"); len(next) != 0 || v != "v2-2" {
		t.Fatalf("after the crash the store holds k2=%q with checkpoint %v, want v2-2 and none", v, next)
	}

	a, done, fc := f.start(time.Hour)
	f.ask(map[string]string{"k0": "v2-0", "k5": "v1-5"})
	offs, n := fc.fetched()
	if n != 33 {
		t.Errorf("restart fetched %d records, want all 33: %v", n, offs)
	}
	for p, set := range offs {
		if !set[0] {
			t.Errorf("restart did not read partition %d from offset 0", p)
		}
	}
	f.stop(a, done)
}

// A checkpoint written while running (every commit interval, here at every poll) survives a
// crash: the restart resumes from it rather than from the beginning.
func TestGlobalStoreResumesAfterCrashFromPeriodicCheckpoint(t *testing.T) {
	f := newGlobalFixture(t)
	f.items(0, 30, "v1-")
	a, done, _ := f.start(time.Microsecond)
	f.ask(map[string]string{"k0": "v1-0"})
	f.items(0, 3, "v2-")
	f.askEventually(map[string]string{"k2": "v2-2"})
	// The global consumer checkpointed after applying the first update before it applied the
	// next record: once k5's update is visible, k0..k2's are checkpointed.
	covered := f.ends()
	f.items(5, 6, "v3-")
	f.askEventually(map[string]string{"k5": "v3-5"})
	a.crash()
	<-done // a crash may fail a commit in flight: Run's error says nothing here
	next, _, _ := f.stored("k0")
	for p, end := range covered {
		if next[p] < end {
			t.Fatalf("checkpoint after the crash = %v, want at least %v", next, covered)
		}
	}

	a, done, fc := f.start(time.Hour)
	f.ask(map[string]string{"k0": "v2-0", "k5": "v3-5", "k7": "v1-7"})
	offs, n := fc.fetched()
	if n > 1 {
		t.Errorf("restart fetched %d records, want at most the one written after the checkpoint: %v", n, offs)
	}
	f.stop(a, done)
}

// Describe lists a global store after the sub-topologies, as Kafka Streams'
// TopologyDescription.GlobalStore prints it.
func TestDescribeGlobalStore(t *testing.T) {
	topo := lookupTopology()
	AddGlobalStore(topo, "prices", GlobalStoreSpec[string, string]{Topic: "gl-prices", Keys: serde.String(), Values: serde.String(),
		SourceName: "prices-src", ProcessorName: "prices-update"})
	want := `Topologies:
   Sub-topology: 0
    Source: lookups (topics: [gl-lookups])
      --> lookup
    Processor: lookup (stores: [])
      --> answers
      <-- lookups
    Sink: answers (topic: gl-answers)
      <-- lookup

  Sub-topology: 1 for global store (will not generate tasks)
    Source: items-source (topics: [gl-items])
      --> items-processor
    Processor: items-processor (stores: [items])
      --> none
      <-- items-source
  Sub-topology: 2 for global store (will not generate tasks)
    Source: prices-src (topics: [gl-prices])
      --> prices-update
    Processor: prices-update (stores: [prices])
      --> none
      <-- prices-src
`
	if got := topo.Describe().String(); got != want {
		t.Errorf("Describe:\n%s\nwant:\n%s", got, want)
	}
	AddGlobalStore(topo, "clash", GlobalStoreSpec[string, string]{Topic: "gl-clash", Keys: serde.String(), Values: serde.String(), SourceName: "lookup"})
	if topo.Err() == nil {
		t.Errorf("a global store's source node named like a processor was accepted")
	}
}

// A global topic written in transactions: the restore finishes though the topic ends with a
// transaction marker (no record at the end offset - 1), and under exactly-once the store reads
// committed records only, as Kafka Streams' global consumer does; at least once it reads all.
func TestGlobalStoreOfATransactionalTopic(t *testing.T) {
	f := newGlobalFixture(t)
	txn, err := kgo.NewClient(kgo.SeedBrokers(f.addr), kgo.TransactionalID("gl-writer"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer txn.Close()
	write := func(commit kgo.TransactionEndTry, from, to int, prefix string) {
		t.Helper()
		if err := txn.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := from; i < to; i++ {
			r := &kgo.Record{Topic: "gl-items", Partition: int32(i % 3), Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, "%s%d", prefix, i)}
			if err := txn.ProduceSync(context.Background(), r).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := txn.EndTransaction(context.Background(), commit); err != nil {
			t.Fatal(err)
		}
	}
	write(kgo.TryCommit, 0, 6, "c-")
	write(kgo.TryAbort, 6, 9, "a-")
	write(kgo.TryCommit, 9, 12, "c-") // every partition ends with a commit marker

	a, done, _ := f.start(time.Hour, ProcessingGuarantee(ExactlyOnceV2))
	f.ask(map[string]string{"k0": "c-0", "k5": "c-5", "k6": "<none>", "k8": "<none>", "k11": "c-11"})
	f.stop(a, done)

	f.dir = t.TempDir() // a fresh store, at least once
	a, done, _ = f.start(time.Hour)
	f.ask(map[string]string{"k0": "c-0", "k6": "a-6", "k11": "c-11"})
	f.stop(a, done)
}
