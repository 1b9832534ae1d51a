package txn

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kerr"
)

// partitions stands in for the broker's partition logs and group offsets: it records the markers and
// offset completions the coordinator asks for, and can be made to fail like a full disk.
type partitions struct {
	mu        sync.Mutex
	fail      bool
	markers   []string // "topic/partition commit|abort pid epoch"
	completed []string // "group commit|abort pid"
	next      int64
}

func (p *partitions) options() Options {
	return Options{
		NextProducerID: func() (int64, error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.next++
			return p.next, nil
		},
		WriteMarkers: func(_ context.Context, pid int64, epoch int16, commit bool, parts []TopicPartition) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.fail {
				return errors.New("disk full")
			}
			for _, tp := range parts {
				p.markers = append(p.markers, tp.Topic+"/"+itoa(int64(tp.Partition))+" "+outcome(commit)+" "+itoa(pid)+" "+itoa(int64(epoch)))
			}
			return nil
		},
		CompleteOffsets: func(pid int64, groups []string, commit bool) error {
			p.mu.Lock()
			defer p.mu.Unlock()
			for _, g := range groups {
				p.completed = append(p.completed, g+" "+outcome(commit)+" "+itoa(pid))
			}
			return nil
		},
	}
}

func outcome(commit bool) string {
	if commit {
		return "commit"
	}
	return "abort"
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// quietLogger keeps Pebble's informational messages out of test output.
type quietLogger struct{ t *testing.T }

func (quietLogger) Infof(string, ...any)             {}
func (l quietLogger) Errorf(format string, a ...any) { l.t.Logf(format, a...) }
func (l quietLogger) Fatalf(format string, a ...any) { l.t.Fatalf(format, a...) }

func openDB(t *testing.T, dir string) *pebble.DB {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{t}})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// A crash (here: markers that cannot be written, then a restart) between deciding a transaction and
// completing it loses nothing: the restarted coordinator finds it in PrepareCommit and completes it.
func TestDecidedTransactionCompletedAfterRestart(t *testing.T) {
	dir := t.TempDir()
	db := openDB(t, dir)
	parts := &partitions{}
	c, err := New(db, parts.options())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	pid, epoch, kerrInit := c.InitProducerID(ctx, "app", 60_000, -1, -1)
	if kerrInit != nil {
		t.Fatal(kerrInit)
	}
	if _, err := c.AddPartitions("app", pid, epoch, []TopicPartition{{"out", 0}, {"out", 1}}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddOffsets("app", pid, epoch, "g"); err != nil {
		t.Fatal(err)
	}
	parts.fail = true
	if err := c.EndTxn(ctx, "app", pid, epoch, true); err != kerr.KafkaStorageError {
		t.Fatalf("EndTxn with failing markers: %v, want KAFKA_STORAGE_ERROR", err)
	}
	if d, _ := c.Describe("app"); d.State != PrepareCommit {
		t.Fatalf("state %v, want PrepareCommit", d.State)
	}
	// The producer retries while the markers cannot be written.
	if err := c.EndTxn(ctx, "app", pid, epoch, true); err != kerr.ConcurrentTransactions {
		t.Fatalf("EndTxn retried during PrepareCommit: %v, want CONCURRENT_TRANSACTIONS", err)
	}
	c.Close()
	db.Close()

	parts.fail = false
	db = openDB(t, dir)
	defer db.Close()
	c, err = New(db, parts.options())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if d, _ := c.Describe("app"); d.State != CompleteCommit || len(d.Partitions) != 0 {
		t.Fatalf("after restart: %+v, want CompleteCommit", d)
	}
	want := []string{"out/0 commit 1 0", "out/1 commit 1 0"}
	if len(parts.markers) != 2 || parts.markers[0] != want[0] || parts.markers[1] != want[1] {
		t.Fatalf("markers %q, want %q", parts.markers, want)
	}
	if len(parts.completed) != 1 || parts.completed[0] != "g commit 1" {
		t.Fatalf("offsets completed %q", parts.completed)
	}
	if err := c.EndTxn(ctx, "app", pid, epoch, true); err != nil {
		t.Fatalf("retried commit after restart: %v", err)
	}
}

// The epoch is bumped on every InitProducerId; when it would run out, the producer gets a new ID.
func TestEpochExhaustionRotatesProducerID(t *testing.T) {
	db := openDB(t, t.TempDir())
	defer db.Close()
	parts := &partitions{}
	c, err := New(db, parts.options())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	pid, _, _ := c.InitProducerID(ctx, "rot", 1000, -1, -1)
	c.lookup("rot").mu.epoch = 32766 // as after 32766 bumps
	newPID, newEpoch, kerrRot := c.InitProducerID(ctx, "rot", 1000, pid, 32766)
	if kerrRot != nil || newPID == pid || newEpoch != 0 {
		t.Fatalf("exhausted epoch: got %d/%d %v, want a new producer id at epoch 0", newPID, newEpoch, kerrRot)
	}
	// The old producer retrying the same call is answered with the new producer (KIP-360).
	again, againEpoch, kerrRetry := c.InitProducerID(ctx, "rot", 1000, pid, 32766)
	if kerrRetry != nil || again != newPID || againEpoch != 0 {
		t.Fatalf("retry after rotation: %d/%d %v", again, againEpoch, kerrRetry)
	}
}
