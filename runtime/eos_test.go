package runtime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/internal/testutil"
	"github.com/seichedb/seiche/serde"
)

// gateProc counts records per key like countProc. A record with the value "fail" is a processing
// error; one with the value "block" blocks its processing until gate is closed, when gate is set.
type gateProc struct {
	countProc
	blocked chan<- struct{}
	gate    <-chan struct{}
}

func (p *gateProc) Process(r Record[string, string]) error {
	switch {
	case r.Value == "fail":
		return errors.New("refused")
	case r.Value == "block" && p.gate != nil:
		select {
		case p.blocked <- struct{}{}:
		default:
		}
		<-p.gate
	}
	return p.countProc.Process(r)
}

// gateTopology is countTopology over gateProc, from "words" to "word-counts".
func gateTopology(blocked chan<- struct{}, gate <-chan struct{}) *Topology {
	topo := NewTopology()
	AddSource(topo, "src", SourceSpec[string, string]{Topics: []string{"words"}, Keys: serde.String(), Values: serde.String()})
	AddProcessor(topo, "count", func() Processor[string, string, string, int64] {
		return &gateProc{blocked: blocked, gate: gate}
	}, "src")
	topo.AddStateStore(KeyValueStore("counts"), "count")
	AddSink(topo, "sink", SinkSpec[string, int64]{Topic: "word-counts", Keys: serde.String(), Values: serde.Int64()}, "count")
	return topo
}

// eosApp is an exactly-once application "eos" with its state in dir.
func eosApp(t *testing.T, topo *Topology, addr, dir string, opts ...Opt) *App {
	t.Helper()
	a, err := New(topo, append([]Opt{ApplicationID("eos"), Bootstrap(addr), StateDir(dir),
		ProcessingGuarantee(ExactlyOnceV2), SessionTimeout(6 * time.Second), HeartbeatInterval(500 * time.Millisecond),
		Logger(testLogger(t))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// produceWords produces n records with value v and keys w0..w(keys-1) in turn to "words", and adds
// them to truth.
func produceWords(t *testing.T, cl *kgo.Client, truth map[string]int64, n, keys int, v string) {
	t.Helper()
	if err := cl.ProduceSync(context.Background(), words(truth, n, keys, v)...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func words(truth map[string]int64, n, keys int, v string) []*kgo.Record {
	var recs []*kgo.Record
	for i := range n {
		k := fmt.Sprintf("w%d", i%keys)
		truth[k]++
		recs = append(recs, &kgo.Record{Topic: "words", Key: []byte(k), Value: []byte(v)})
	}
	return recs
}

// committedRecords reads every committed record of topic with isolation read_committed, up to its
// last stable offset, which must equal its high watermark (no transaction open).
func committedRecords(t *testing.T, cl *kgo.Client, addr, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	adm := kadm.NewClient(cl)
	ends := map[int32]int64{}
	// The transaction markers may still be on their way.
	checkFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		hw, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			err = hw.Error()
		}
		if err != nil {
			return err
		}
		lso, err := adm.ListCommittedOffsets(ctx, topic)
		if err == nil {
			err = lso.Error()
		}
		if err != nil {
			return err
		}
		clear(ends)
		for _, o := range hw[topic] {
			if l, _ := lso.Lookup(topic, o.Partition); l.Offset != o.Offset {
				return fmt.Errorf("%s[%d]: last stable offset %d below the high watermark %d: a transaction is open", topic, o.Partition, l.Offset, o.Offset)
			}
			if o.Offset > 0 {
				ends[o.Partition] = o.Offset
			}
		}
		return nil
	})
	rd, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var out []*kgo.Record
	for len(ends) > 0 {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: partitions %v not read to their end", topic, ends)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset+1 >= ends[r.Partition] {
				delete(ends, r.Partition)
			}
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
		})
	}
	return out
}

// checkCounts reads the committed counts (read_committed) until every key of truth reached its
// true count, and fails if a key's counts do not go 1, 2, 3, ... in order: a count repeated was
// counted twice, one skipped was lost.
func checkCounts(t *testing.T, addr string, truth map[string]int64) {
	t.Helper()
	rd, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics("word-counts"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	last := map[string]int64{}
	reached := func() bool {
		for k, n := range truth {
			if last[k] < n {
				return false
			}
		}
		return true
	}
	for !reached() {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("committed counts %v did not reach %v", last, truth)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n, err := serde.Int64().Deserialize(r.Value)
			if err != nil {
				t.Fatal(err)
			}
			k := string(r.Key)
			if n != last[k]+1 {
				t.Errorf("key %s: committed count %d after %d", k, n, last[k])
			}
			last[k] = n
		})
	}
	for k, n := range truth {
		if last[k] != n {
			t.Errorf("key %s: count %d, true count %d", k, last[k], n)
		}
	}
}

func groupCommitted(t *testing.T, cl *kgo.Client, group string) int64 {
	return testutil.CommittedOffsets(context.Background(), kadm.NewClient(cl), group)
}

// Output and changelog records stay in the thread's open transaction until it commits: a
// read_committed reader sees none of them before, all of them once, and the consumed offsets
// commit with them.
func TestExactlyOnceCommitsInTransactions(t *testing.T) {
	addr, cl := testBroker(t)
	createTopics(t, cl, 2, "words", "word-counts")
	truth := map[string]int64{}
	produceWords(t, cl, truth, 100, 5, "x")

	// No commit until Close: the output must wait in an open transaction.
	a := eosApp(t, gateTopology(nil, nil), addr, t.TempDir(), CommitInterval(time.Hour))
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background()) }()
	adm := kadm.NewClient(cl)
	checkFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		hw, err := adm.ListEndOffsets(context.Background(), "word-counts")
		if err != nil {
			return err
		}
		var n int64
		hw.Each(func(o kadm.ListedOffset) { n += o.Offset })
		if n < 100 {
			return fmt.Errorf("%d of 100 counts produced", n)
		}
		return nil
	})
	lso, err := adm.ListCommittedOffsets(context.Background(), "word-counts", "eos-counts-changelog")
	if err != nil {
		t.Fatal(err)
	}
	lso.Each(func(o kadm.ListedOffset) {
		if o.Err != nil || o.Offset != 0 {
			t.Errorf("%s[%d]: last stable offset %d (%v) before the commit, want 0", o.Topic, o.Partition, o.Offset, o.Err)
		}
	})
	if n := groupCommitted(t, cl, "eos"); n != 0 {
		t.Errorf("%d input offsets committed before the transaction", n)
	}
	a.Close()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if n := len(committedRecords(t, cl, addr, "word-counts")); n != 100 {
		t.Errorf("%d committed counts, want 100", n)
	}
	if n := len(committedRecords(t, cl, addr, "eos-counts-changelog")); n != 100 {
		t.Errorf("%d committed changelog records, want 100", n)
	}
	if n := groupCommitted(t, cl, "eos"); n != 100 {
		t.Errorf("%d input offsets committed, want 100", n)
	}

	// With the default commit interval (100ms under exactly-once) the output commits as it goes.
	a = eosApp(t, gateTopology(nil, nil), addr, t.TempDir())
	if a.cfg.commitInterval != eosCommitInterval {
		t.Errorf("commit interval %v, want %v", a.cfg.commitInterval, eosCommitInterval)
	}
	startApp(t, a)
	produceWords(t, cl, truth, 50, 5, "x")
	checkCounts(t, addr, truth)
}

// A task that fails aborts the transaction: none of the output, changelog records or offsets of
// the records it processed since the last commit survive, and a new run counts them once.
func TestExactlyOnceAbortsOnFailure(t *testing.T) {
	addr, cl := testBroker(t)
	createTopics(t, cl, 1, "words", "word-counts")
	truth := map[string]int64{}
	produceWords(t, cl, truth, 20, 4, "x")
	produceWords(t, cl, map[string]int64{}, 1, 1, "fail")

	dir := t.TempDir()
	a := eosApp(t, gateTopology(nil, nil), addr, dir, CommitInterval(time.Hour), OnProcessingError(LogAndFail))
	err := a.Run(context.Background())
	var te *TaskError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("Run = %v, want the task's failure", err)
	}
	if n := len(committedRecords(t, cl, addr, "word-counts")); n != 0 {
		t.Errorf("%d counts of the failed transaction committed", n)
	}
	if n := len(committedRecords(t, cl, addr, "eos-counts-changelog")); n != 0 {
		t.Errorf("%d changelog records of the failed transaction committed", n)
	}
	if n := groupCommitted(t, cl, "eos"); n != 0 {
		t.Errorf("%d input offsets of the failed transaction committed", n)
	}

	// The same state directory: the store must not hold the aborted counts.
	startApp(t, eosApp(t, gateTopology(nil, nil), addr, dir))
	produceWords(t, cl, truth, 20, 4, "x")
	checkCounts(t, addr, truth)
}

// KIP-447's fencing: a thread that stalls past the rebalance timeout loses its tasks to another
// instance, which processes the same input; when the stalled thread (a zombie) tries to commit,
// the broker refuses its offsets (its generation is over) and its transaction aborts, so nothing
// is counted twice.
func TestExactlyOnceFencesZombie(t *testing.T) {
	addr, cl := testBroker(t)
	createTopics(t, cl, 1, "words", "word-counts")
	truth := map[string]int64{}
	produceWords(t, cl, truth, 10, 2, "x")
	produceWords(t, cl, truth, 1, 1, "block")
	produceWords(t, cl, truth, 10, 2, "x")

	blocked, gate := make(chan struct{}, 1), make(chan struct{})
	zombie := eosApp(t, gateTopology(blocked, gate), addr, t.TempDir(), RebalanceTimeout(2*time.Second))
	zombieDone := startApp(t, zombie)
	select {
	case <-blocked:
	case err := <-zombieDone:
		t.Fatalf("Run: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("the first instance never reached the blocking record")
	}
	// The second instance's join starts a rebalance the blocked thread cannot take part in: after
	// the rebalance timeout the group moves on without it.
	other := eosApp(t, gateTopology(nil, nil), addr, t.TempDir(), RebalanceTimeout(2*time.Second))
	startApp(t, other)
	checkFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		if n := groupCommitted(t, cl, "eos"); n != 21 {
			return fmt.Errorf("%d of 21 input offsets committed by the second instance", n)
		}
		return nil
	})
	close(gate) // the zombie wakes up and tries to commit what it processed
	produceWords(t, cl, truth, 10, 2, "x")
	checkCounts(t, addr, truth)
}

// A thread whose producer is fenced (another producer started with its transactional.id) closes
// its tasks, rejoins with a new producer and goes on, counting nothing twice.
func TestExactlyOnceFencedProducerRejoins(t *testing.T) {
	addr, cl := testBroker(t)
	createTopics(t, cl, 2, "words", "word-counts")
	truth := map[string]int64{}
	produceWords(t, cl, truth, 50, 5, "x")
	a := eosApp(t, gateTopology(nil, nil), addr, t.TempDir())
	done := startApp(t, a)
	checkCounts(t, addr, truth)

	fencer, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.TransactionalID("eos-"+a.processID+"-1"))
	if err != nil {
		t.Fatal(err)
	}
	defer fencer.Close()
	if _, _, err := fencer.ProducerID(context.Background()); err != nil { // InitProducerId: a new epoch
		t.Fatal(err)
	}
	produceWords(t, cl, truth, 50, 5, "x")
	checkCounts(t, addr, truth)
	select {
	case err := <-done:
		t.Fatalf("Run returned %v after the producer was fenced", err)
	default:
	}
}

// After an unclean shutdown (a crash with a transaction open), the restarted instance gets its
// transactional ids back, so the open transaction aborts at once; the stores resume from their
// last commit, reading only the changelog's tail, and nothing is counted twice or lost.
func TestExactlyOnceRestoreAfterCrash(t *testing.T) {
	addr, cl := testBroker(t)
	createTopics(t, cl, 2, "words", "word-counts")
	truth := map[string]int64{}
	produceWords(t, cl, truth, 200, 5, "x")
	dir := t.TempDir()
	first := eosApp(t, gateTopology(nil, nil), addr, dir)
	firstDone := make(chan error, 1)
	go func() { firstDone <- first.Run(context.Background()) }()
	checkCounts(t, addr, truth)

	// More input arrives while the instance crashes in the middle of it.
	var wg sync.WaitGroup
	wg.Add(1)
	more := map[string]int64{}
	recs := words(more, 300, 5, "x")
	go func() {
		defer wg.Done()
		for len(recs) > 0 {
			n := min(len(recs), 20)
			if err := cl.ProduceSync(context.Background(), recs[:n]...).FirstErr(); err != nil {
				t.Error(err)
				return
			}
			recs = recs[n:]
			time.Sleep(10 * time.Millisecond) // input keeps arriving while the instance crashes
		}
	}()
	checkFor(t, 20*time.Second, 5*time.Millisecond, func() error {
		if groupCommitted(t, cl, "eos") <= 200 {
			return errors.New("nothing of the new input committed yet")
		}
		return nil
	})
	first.crash()
	if err := <-firstDone; err != nil {
		t.Fatalf("Run: %v", err)
	}
	wg.Wait()
	for k, n := range more {
		truth[k] += n
	}

	second := eosApp(t, gateTopology(nil, nil), addr, dir)
	startApp(t, second)
	produceWords(t, cl, truth, 50, 5, "x")
	checkCounts(t, addr, truth)
	if second.processID != first.processID {
		t.Errorf("process id %s after the restart, was %s", second.processID, first.processID)
	}
	// The changelog held 500 records at the restart; the stores had most of them.
	if restored, _ := gatherSum(t, second, "seiche_stream_restore_records_total"); restored >= 250 {
		t.Errorf("the restart restored %.0f changelog records: the stores were rebuilt, not resumed", restored)
	}
}
