package broker_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The copier test follows Kafka's transactions_test.py: a transactional copier (consume from an input
// topic, produce to an output topic and commit the consumed offsets, all in one transaction, with
// franz-go's GroupTransactSession) is killed with SIGKILL and restarted at random points, then the broker
// is; a read_committed consumer of the output must see exactly the input, no record twice, none missing.
// Both the copier and the broker are this test binary re-executed.

const copierAddrEnv = "SEICHE_TEST_COPIER_ADDR"

const (
	copierInput  = "copier-in"
	copierOutput = "copier-out"
	copierGroup  = "copier-group"
	copierTxnID  = "copier-txn"
)

// runCopier copies until it is killed. A failed transaction is aborted and its records consumed again;
// an error the session cannot recover from exits the process, and the test starts another.
func runCopier(addr string) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.TransactionalID(copierTxnID),
		kgo.TransactionTimeout(10 * time.Second),
		kgo.ConsumerGroup(copierGroup),
		kgo.ConsumeTopics(copierInput),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// A restarted copier takes the killed one's place at once instead of waiting for its session
		// to expire.
		kgo.InstanceID("copier"),
		kgo.SessionTimeout(3 * time.Second),
		kgo.HeartbeatInterval(300 * time.Millisecond),
		kgo.RetryTimeout(time.Minute),
	}
	if os.Getenv("SEICHE_TEST_LOG") == "debug" {
		opts = append(opts, kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelInfo, nil)))
	}
	sess, err := kgo.NewGroupTransactSession(opts...)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	ctx := context.Background()
	// Initializing the producer ID now (franz-go does it lazily) fences the killed copier and aborts
	// its open transaction, whose pending offsets would otherwise hold this copier's OffsetFetch
	// (require_stable) back until the transaction timed out.
	if _, _, err := sess.Client().ProducerID(ctx); err != nil {
		fmt.Println("error: init producer id:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	for {
		fetches := sess.PollRecords(ctx, 50)
		// Errors here are the broker being away (restarting); the client retries on the next poll.
		fetches.EachError(func(topic string, p int32, err error) { fmt.Printf("poll %s[%d]: %v\n", topic, p, err) })
		if err := sess.Begin(); err != nil {
			fmt.Println("error: begin:", err)
			os.Exit(1)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Topic: copierOutput, Key: r.Key, Value: r.Value}, nil)
		})
		if _, err := sess.End(ctx, kgo.TryCommit); err != nil {
			fmt.Println("error: end:", err)
			os.Exit(1)
		}
	}
}

// copierProc is a running copier process; done is closed when it has exited.
type copierProc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

func (c *copierProc) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *copierProc) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// startCopier starts a copier process against addr.
func startCopier(t *testing.T, addr string) *copierProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), copierAddrEnv+"="+addr)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rd := bufio.NewReader(out)
	if line, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(line, "ready") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("copier did not start: %q %v", line, err)
	}
	c := &copierProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		// Say why a copier gave up (it is restarted either way), then reap it.
		for {
			line, err := rd.ReadString('\n')
			if line != "" {
				t.Logf("copier: %s", strings.TrimSpace(line))
			}
			if err != nil {
				break
			}
		}
		cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(c.kill)
	return c
}

// randomPause returns a pause of 100ms to 1s: the random point at which a process is killed.
func randomPause(rng *rand.Rand) time.Duration {
	return 100*time.Millisecond + time.Duration(rng.IntN(900))*time.Millisecond
}

func TestTransactionalCopierSurvivesCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test starts broker and copier processes; skipped with -short")
	}
	const records = 20000
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(uint64(seed), 0))

	dir, addr := t.TempDir(), freeAddr(t)
	brokerProc := startChild(t, dir, addr)
	adm := kadm.NewClient(newClient(t, addr))
	createTopic(t, adm, copierInput, 3, nil)
	createTopic(t, adm, copierOutput, 3, nil)
	prod := newClient(t, addr, kgo.DefaultProduceTopic(copierInput))
	input := make([]*kgo.Record, records)
	for i := range input {
		input[i] = &kgo.Record{Key: fmt.Appendf(nil, "k%d", i%997), Value: fmt.Appendf(nil, "v%05d", i)}
	}
	// The input arrives in parts: a twentieth before each copier kill and the second half before the
	// broker kills, so that every kill lands while there is copying to do.
	produceInput := func(recs []*kgo.Record) {
		if err := prod.ProduceSync(testContext(t), recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	// progress is how many input records the group has committed as copied.
	progress := func() int64 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		offs, err := adm.FetchOffsets(ctx, copierGroup)
		if err != nil {
			return -1
		}
		var n int64
		offs.Each(func(o kadm.OffsetResponse) { n += o.At })
		return n
	}
	copier := startCopier(t, addr)
	// Phase 1: the copier is killed and restarted ten times.
	for i := 0; i < 10; i++ {
		produceInput(input[i*records/20 : (i+1)*records/20])
		time.Sleep(randomPause(rng))
		copier.kill()
		t.Logf("copier killed at %d of %d records copied", progress(), records)
		copier = startCopier(t, addr)
	}
	// Phase 2: the broker is killed and restarted three times under a running copier; a copier that
	// gave up meanwhile is replaced.
	produceInput(input[records/2:])
	for i := 0; i < 3; i++ {
		time.Sleep(randomPause(rng))
		if err := brokerProc.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		brokerProc.Wait()
		brokerProc = startChild(t, dir, addr)
		t.Logf("broker killed at %d of %d records copied", progress(), records)
		if copier.exited() {
			copier = startCopier(t, addr)
		}
	}

	// Let the last copier finish, then read the output as a read_committed consumer.
	cons := newClient(t, addr, kgo.ConsumeTopics(copierOutput), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	seen := make(map[string]int, records)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for len(seen) < records {
		if copier.exited() {
			copier = startCopier(t, addr)
		}
		fs := cons.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d distinct records of %d from the output", len(seen), records)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s[%d]: %v", topic, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			seen[string(r.Value)]++
			if seen[string(r.Value)] > 1 {
				t.Fatalf("record %s copied twice (output partition %d offset %d)", r.Value, r.Partition, r.Offset)
			}
		})
	}
	for i := 0; i < records; i++ {
		if seen[fmt.Sprintf("v%05d", i)] != 1 {
			t.Fatalf("record v%05d copied %d times", i, seen[fmt.Sprintf("v%05d", i)])
		}
	}
	// Nothing beyond the input: the output's committed end holds only what was read.
	copier.kill()
	short, cancelShort := context.WithTimeout(context.Background(), time.Second)
	defer cancelShort()
	if extra := cons.PollFetches(short); extra.NumRecords() > 0 {
		t.Fatalf("%d records in the output beyond the input", extra.NumRecords())
	}
}
