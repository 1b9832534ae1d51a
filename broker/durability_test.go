package broker_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/broker/brokertest"
)

// The crash test runs the broker as a separate process (this test binary re-executed) so that it can be
// killed with SIGKILL, losing everything but what the kernel has.
const (
	childDirEnv  = "SEICHE_TEST_CHILD_BROKER_DIR"
	childAddrEnv = "SEICHE_TEST_CHILD_BROKER_ADDR"
)

func TestMain(m *testing.M) {
	if dir := os.Getenv(childDirEnv); dir != "" {
		runChildBroker(dir, os.Getenv(childAddrEnv))
		return
	}
	if addr := os.Getenv(copierAddrEnv); addr != "" {
		runCopier(addr)
		return
	}
	os.Exit(m.Run())
}

func runChildBroker(dir, addr string) {
	b, err := broker.New(broker.ListenAddr(addr), broker.DataDir(dir), broker.Logger(brokertest.Logger()), broker.GroupInitialRebalanceDelay(0))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println("ready", b.Addr())
	if err := b.Run(context.Background()); err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// startChild starts a broker process on addr with its data in dir and waits until it listens.
func startChild(t *testing.T, dir, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childAddrEnv+"="+addr)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "ready") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("broker process did not start: %q %v", line, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestCrashDuringIdempotentProduce kills the broker process with SIGKILL five times while an
// idempotent acks=all producer is writing. After each restart, every record the producer saw
// acknowledged is present exactly once and every partition's offsets are contiguous.
func TestCrashDuringIdempotentProduce(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts broker processes; skipped with -short")
	}
	dir, addr := t.TempDir(), freeAddr(t)
	child := startChild(t, dir, addr)
	adm := kadm.NewClient(newClient(t, addr))
	createTopic(t, adm, "crash", 3, nil)

	prod := newClient(t, addr, kgo.DefaultProduceTopic("crash"), kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(time.Millisecond), kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }))
	var mu sync.Mutex
	acked := map[string]bool{}
	var failed []error
	stop := make(chan struct{})
	produced := make(chan struct{})
	go func() {
		defer close(produced)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			v := "r" + strconv.Itoa(i)
			prod.Produce(context.Background(), &kgo.Record{Key: []byte(strconv.Itoa(i % 100)), Value: []byte(v)}, func(_ *kgo.Record, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed = append(failed, err)
					return
				}
				acked[v] = true
			})
			if i%200 == 199 {
				time.Sleep(time.Millisecond) // keep some requests in flight at all times, without an unbounded buffer
			}
		}
	}()

	ackedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}
	for kill := 1; kill <= 5; kill++ {
		before := ackedCount()
		checkFor(t, 30*time.Second, func() error {
			if n := ackedCount(); n < before+2000 {
				return fmt.Errorf("%d records acknowledged since the last restart", n-before)
			}
			return nil
		})
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		child.Wait()
		// Everything acknowledged before the kill must be there after the restart.
		mu.Lock()
		snapshot := make(map[string]bool, len(acked))
		for v := range acked {
			snapshot[v] = true
		}
		mu.Unlock()
		child = startChild(t, dir, addr)
		verifyCrashTopic(t, addr, snapshot, fmt.Sprintf("after kill %d", kill))
	}
	close(stop)
	<-produced
	if err := prod.Flush(testContext(t)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if len(failed) > 0 {
		t.Errorf("%d records failed, first: %v", len(failed), failed[0])
	}
	final := acked
	mu.Unlock()
	verifyCrashTopic(t, addr, final, "at the end")
	t.Logf("%d records acknowledged across 5 SIGKILLs", len(final))
}

// verifyCrashTopic reads the whole topic: offsets must be contiguous from 0 in every partition, no value
// may appear twice, and every value in mustHave must be present.
func verifyCrashTopic(t *testing.T, addr string, mustHave map[string]bool, stage string) {
	t.Helper()
	adm := kadm.NewClient(newClient(t, addr))
	var ends kadm.ListedOffsets
	checkFor(t, 30*time.Second, func() (err error) {
		ends, err = adm.ListEndOffsets(testContext(t), "crash")
		if err == nil {
			err = ends.Error()
		}
		return err
	})
	total := int64(0)
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	cons := newClient(t, addr, kgo.ConsumeTopics("crash"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cons.Close()
	seen := make(map[string]bool, total)
	next := map[int32]int64{}
	recs := consumeN(t, cons, int(total))
	for _, r := range recs {
		if r.Offset != next[r.Partition] {
			t.Fatalf("%s: partition %d offset %d, want %d (offsets not contiguous)", stage, r.Partition, r.Offset, next[r.Partition])
		}
		next[r.Partition]++
		v := string(r.Value)
		if seen[v] {
			t.Fatalf("%s: record %s stored twice", stage, v)
		}
		seen[v] = true
	}
	for v := range mustHave {
		if !seen[v] {
			t.Fatalf("%s: acknowledged record %s lost (%d records in the topic, %d acknowledged)", stage, v, len(seen), len(mustHave))
		}
	}
}

// TestCompactionKeepsLatestPerKey is in the spirit of Kafka's LogCompactionTester: many keys, many
// updates and deletes; once the cleaner has run, a consumer reading from the beginning sees exactly the
// last value of every live key and no deleted key.
func TestCompactionKeepsLatestPerKey(t *testing.T) {
	b := brokertest.Start(t, broker.MaintenanceInterval(50*time.Millisecond))
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "compacted", 1, map[string]*string{
		"cleanup.policy":            kadm.StringPtr("compact"),
		"segment.bytes":             kadm.StringPtr("8192"),
		"min.cleanable.dirty.ratio": kadm.StringPtr("0.01"),
		"delete.retention.ms":       kadm.StringPtr("0"),
		"segment.ms":                kadm.StringPtr("300"),
	})
	prod := newClient(t, b.Addr(), kgo.DefaultProduceTopic("compacted"), kgo.ProducerLinger(0))
	const keys, updates = 300, 6000
	latest := map[string]*string{}
	var recs []*kgo.Record
	for i := 0; i < updates; i++ {
		k := fmt.Sprintf("key-%03d", (i*7919)%keys)
		r := &kgo.Record{Key: []byte(k)}
		if i%9 == 4 {
			latest[k] = nil // tombstone
		} else {
			v := fmt.Sprintf("value-%d", i)
			r.Value = []byte(v)
			latest[k] = &v
		}
		recs = append(recs, r)
		if len(recs) == 50 {
			if err := prod.ProduceSync(testContext(t), recs...).FirstErr(); err != nil {
				t.Fatal(err)
			}
			recs = recs[:0]
		}
	}
	// Keyless records are refused on a compacted topic.
	if err := prod.ProduceSync(testContext(t), &kgo.Record{Value: []byte("no key")}).FirstErr(); err == nil {
		t.Fatal("keyless record accepted on a compacted topic")
	}
	// The cleaner never touches the active segment. A record produced once the active segment is older
	// than segment.ms rolls it, so the updates end up in sealed, cleanable segments and the active
	// segment holds only that record.
	lastRoll := time.Now()
	checkFor(t, 60*time.Second, func() error {
		// Roll on a clock of its own, not only after a failed comparison: on a loaded machine a read
		// that times out must not stop the log from moving on.
		if time.Since(lastRoll) > 400*time.Millisecond {
			if err := prod.ProduceSync(context.Background(), &kgo.Record{Key: []byte("roll"), Value: []byte("x")}).FirstErr(); err != nil {
				return err
			}
			latest["roll"] = kadm.StringPtr("x")
			lastRoll = time.Now()
		}
		cons := newClient(t, b.Addr(), kgo.ConsumeTopics("compacted"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		defer cons.Close()
		ends, err := adm.ListEndOffsets(testContext(t), "compacted")
		if err != nil {
			return err
		}
		got := map[string]*string{}
		n := 0
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		pos := map[int32]int64{}
		for done := false; !done; {
			fs := cons.PollFetches(ctx)
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fs.EachRecord(func(r *kgo.Record) {
				n++
				pos[r.Partition] = r.Offset + 1
				if r.Value == nil {
					got[string(r.Key)] = nil
				} else {
					v := string(r.Value)
					got[string(r.Key)] = &v
				}
			})
			done = true
			ends.Each(func(o kadm.ListedOffset) {
				if pos[o.Partition] < o.Offset {
					done = false
				}
			})
		}
		return compactedMatches(latest, got, n)
	})
}

// compactedMatches checks what a consumer read from the beginning (got, n records) against the last
// value of every key (nil for deleted).
func compactedMatches(latest, got map[string]*string, n int) error {
	live := 0
	for k, v := range latest {
		g, ok := got[k]
		if v == nil {
			if ok {
				return fmt.Errorf("deleted key %s still present", k)
			}
			continue
		}
		live++
		if !ok || g == nil || *g != *v {
			return fmt.Errorf("key %s: got %v, want %s", k, g, *v)
		}
	}
	if n != live {
		return fmt.Errorf("a consumer from the beginning read %d records, want exactly the %d live keys", n, live)
	}
	return nil
}

// TestRetentionDeletesOldSegments checks retention.ms and retention.bytes through the broker: segments
// past them are deleted and the log start offset moves forward.
//
// Retention runs in the background while records arrive, so the log start offset moves in steps;
// the test waits for states that retention cannot move past. by-time first gets only expired
// records, until its whole log is gone (the expired active segment is rolled and deleted: log
// start = end = 300), then new ones, which must all survive.
func TestRetentionDeletesOldSegments(t *testing.T) {
	b := brokertest.Start(t, broker.MaintenanceInterval(50*time.Millisecond))
	adm := kadm.NewClient(newClient(t, b.Addr()))
	createTopic(t, adm, "by-time", 1, map[string]*string{"retention.ms": kadm.StringPtr("60000"), "segment.bytes": kadm.StringPtr("4096")})
	createTopic(t, adm, "by-size", 1, map[string]*string{"retention.bytes": kadm.StringPtr("16384"), "segment.bytes": kadm.StringPtr("4096")})
	prod := newClient(t, b.Addr(), kgo.ProducerLinger(0), kgo.ProducerBatchCompression(kgo.NoCompression()))
	produce := func(from, to int, ts time.Time) {
		var recs []*kgo.Record
		for i := from; i < to; i++ {
			recs = append(recs, &kgo.Record{Topic: "by-time", Value: []byte(fmt.Sprintf("%0100d", i)), Timestamp: ts},
				&kgo.Record{Topic: "by-size", Value: []byte(fmt.Sprintf("%0100d", i))})
			if len(recs) == 20 || i == to-1 {
				if err := prod.ProduceSync(testContext(t), recs...).FirstErr(); err != nil {
					t.Fatal(err)
				}
				recs = recs[:0]
			}
		}
	}
	start := func(topic string) int64 {
		starts, err := adm.ListStartOffsets(testContext(t), topic)
		if err == nil {
			err = starts.Error()
		}
		if err != nil {
			t.Fatal(err)
		}
		st, _ := starts.Lookup(topic, 0)
		return st.Offset
	}
	produce(0, 300, time.Now().Add(-2*time.Hour))
	checkFor(t, 30*time.Second, func() error {
		if st := start("by-time"); st != 300 {
			return fmt.Errorf("by-time: log start offset %d, want 300: every record has expired", st)
		}
		return nil
	})
	produce(300, 400, time.Now())
	checkFor(t, 30*time.Second, func() error {
		if st := start("by-size"); st < 400-(16384+4096)/100 {
			return fmt.Errorf("by-size: log start offset %d: more than retention.bytes kept", st)
		}
		return nil
	})
	// The new records survive; a consumer from the beginning starts at the log start offset.
	cons := newClient(t, b.Addr(), kgo.ConsumeTopics("by-time"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	got := consumeN(t, cons, 100)
	if got[0].Offset != 300 || got[len(got)-1].Offset != 399 {
		t.Fatalf("consumed offsets %d..%d, want 300..399", got[0].Offset, got[len(got)-1].Offset)
	}
	if st := start("by-time"); st != 300 {
		t.Fatalf("by-time: log start offset %d after new records, want 300", st)
	}
}

// A second broker on a data directory in use is refused, naming the process that holds it; once
// that process is gone (even killed), the directory can be used again.
func TestDataDirectoryInUse(t *testing.T) {
	dir := t.TempDir()
	child := startChild(t, dir, freeAddr(t))
	_, err := broker.New(broker.ListenAddr("127.0.0.1:0"), broker.DataDir(dir), broker.Logger(brokertest.Logger()))
	want := fmt.Sprintf("directory %s is in use by process %d", dir, child.Process.Pid)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("broker.New on a directory in use: %v, want an error containing %q", err, want)
	}
	child.Process.Kill()
	child.Wait()
	b, err := broker.New(broker.ListenAddr("127.0.0.1:0"), broker.DataDir(dir), broker.Logger(brokertest.Logger()))
	if err != nil {
		t.Fatalf("broker.New after the holder was killed: %v", err)
	}
	_, err = broker.New(broker.ListenAddr("127.0.0.1:0"), broker.DataDir(dir), broker.Logger(brokertest.Logger()))
	if want := fmt.Sprintf("in use by this process (pid %d)", os.Getpid()); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("a second broker.New in this process: %v, want an error containing %q", err, want)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
}
