package share

import (
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

func openManager(t *testing.T, dir string) (*Manager, *pebble.DB) {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(db, nil)
	if err != nil {
		db.Close()
		t.Fatal(err)
	}
	return m, db
}

var (
	key = Key{Group: "g", TopicID: [16]byte{1}, Partition: 0}
	lim = Limits{Lock: time.Minute, DeliveryLimit: 3}
	// ten records in two batches: offsets 0-4 and 5-9
	batches = []Batch{{First: 0, Last: 4}, {First: 5, Last: 9}}
)

// newPartition returns a fresh partition and a function that closes its database (also run at cleanup).
func newPartition(t *testing.T) (*Partition, string, func()) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "db")
	m, db := openManager(t, dir)
	closeDB := sync.OnceFunc(func() { db.Close() })
	t.Cleanup(closeDB)
	p, err := m.GetOrInit(key, func() int64 { return 0 })
	if err != nil {
		t.Fatal(err)
	}
	return p, dir, closeDB
}

func TestAcquireWholeBatchesUpToMaxRecords(t *testing.T) {
	p, _, _ := newPartition(t)
	now := time.Now()
	got, used := p.Acquire("a", batches, 3, false, now, lim)
	if used != 1 || len(got) != 1 || got[0] != (Acquired{0, 4, 1}) {
		t.Fatalf("batch-optimized acquire of 3: %v from %d batches, want offsets 0-4 of the first batch", got, used)
	}
	got, used = p.Acquire("b", batches, 2, true, now, lim)
	if used != 2 || len(got) != 1 || got[0] != (Acquired{5, 6, 1}) {
		t.Fatalf("strict acquire of 2 by b: %v from %d batches, want 5-6", got, used)
	}
	// Nothing of what a holds is available to b.
	if got, _ := p.Acquire("b", batches[:1], 10, false, now, lim); len(got) != 0 {
		t.Fatalf("b acquired records a holds: %v", got)
	}
	if c := p.NextCandidate(now, 0, lim); c != 7 {
		t.Fatalf("next candidate %d, want 7", c)
	}
}

func TestAcknowledgeMovesStartAndChecksOwnership(t *testing.T) {
	p, _, _ := newPartition(t)
	now := time.Now()
	p.Acquire("a", batches, 10, false, now, lim)
	if err := p.Acknowledge("b", 0, 1, []int8{AckAccept}, now, lim); !errors.Is(err, ErrInvalidRecordState) {
		t.Fatalf("ack by a member that does not hold the records: %v", err)
	}
	if err := p.Acknowledge("a", 0, 3, []int8{AckAccept, AckReject, AckRelease, AckAccept}, now, lim); err != nil {
		t.Fatal(err)
	}
	if s := p.Start(); s != 2 {
		t.Fatalf("SPSO %d after accepting 0 and rejecting 1, want 2 (2 was released)", s)
	}
	if err := p.Acknowledge("a", 2, 2, []int8{AckAccept}, now, lim); !errors.Is(err, ErrInvalidRecordState) {
		t.Fatalf("ack of a released record: %v", err)
	}
	if err := p.Acknowledge("a", 4, 5, []int8{AckAccept, AckAccept, AckAccept}, now, lim); !errors.Is(err, ErrInvalidAck) {
		t.Fatalf("ack with a type count that fits neither form: %v", err)
	}
	// The released record is redelivered, counting a second delivery.
	got, _ := p.Acquire("b", batches, 10, false, now, lim)
	if len(got) != 1 || got[0] != (Acquired{2, 2, 2}) {
		t.Fatalf("redelivery: %v", got)
	}
	if lag := p.Lag(10); lag != 7 {
		t.Fatalf("lag %d, want 7 (2 and 4-9 unacknowledged; 3 accepted)", lag)
	}
}

func TestLocksExpireAndDeliveryLimitArchives(t *testing.T) {
	p, _, _ := newPartition(t)
	now := time.Now()
	one := []Batch{{First: 0, Last: 0}}
	for delivery := int16(1); delivery <= lim.DeliveryLimit; delivery++ {
		got, _ := p.Acquire("a", one, 10, false, now, lim)
		if len(got) != 1 || got[0].Deliveries != delivery {
			t.Fatalf("delivery %d: %v", delivery, got)
		}
		now = now.Add(lim.Lock) // the lock expires unacknowledged
		p.NextCandidate(now, 0, lim)
	}
	if s := p.Start(); s != 1 {
		t.Fatalf("SPSO %d: the record should be archived after %d deliveries", s, lim.DeliveryLimit)
	}
	// RENEW keeps a lock alive past its first deadline.
	got, _ := p.Acquire("a", []Batch{{First: 1, Last: 1}}, 10, false, now, lim)
	if len(got) != 1 {
		t.Fatalf("acquire: %v", got)
	}
	if err := p.Acknowledge("a", 1, 1, []int8{AckRenew}, now.Add(lim.Lock/2), lim); err != nil {
		t.Fatal(err)
	}
	if c := p.NextCandidate(now.Add(lim.Lock), 0, lim); c != 2 {
		t.Fatalf("renewed record became available: next candidate %d", c)
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	p, dir, closeDB := newPartition(t)
	now := time.Now()
	p.Acquire("a", batches, 10, false, now, lim)
	if err := p.Acknowledge("a", 0, 2, []int8{AckAccept}, now, lim); err != nil {
		t.Fatal(err)
	}
	if err := p.Acknowledge("a", 4, 4, []int8{AckReject}, now, lim); err != nil {
		t.Fatal(err)
	}
	if err := p.m.Persist([]*Partition{p}); err != nil {
		t.Fatal(err)
	}
	closeDB()

	m2, db := openManager(t, dir)
	defer db.Close()
	p2 := m2.Get(key)
	if p2 == nil || p2.Start() != 3 {
		t.Fatalf("after restart: %v", p2)
	}
	// 3 and 5-9 were acquired, not acknowledged: they come back available with their delivery count;
	// 4 stays archived.
	got, _ := p2.Acquire("b", batches, 10, false, now, lim)
	want := []Acquired{{3, 3, 2}, {5, 9, 2}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("after restart acquired %v, want %v", got, want)
	}
}

// Records a member holds when it leaves go back as never delivered: their delivery count goes down and
// the delivery limit does not archive them.
func TestReleaseMemberUndoesTheDelivery(t *testing.T) {
	p, _, _ := newPartition(t)
	now := time.Now()
	one := []Batch{{First: 0, Last: 0}}
	for delivery := int16(1); delivery <= lim.DeliveryLimit; delivery++ {
		if got, _ := p.Acquire("a", one, 10, false, now, lim); len(got) != 1 || got[0].Deliveries != delivery {
			t.Fatalf("delivery %d: %v", delivery, got)
		}
		if delivery < lim.DeliveryLimit {
			now = now.Add(lim.Lock) // the lock expires unacknowledged
			p.NextCandidate(now, 0, lim)
		}
	}
	if err := p.ReleaseMember("a"); err != nil {
		t.Fatal(err)
	}
	got, _ := p.Acquire("b", one, 10, false, now, lim)
	if len(got) != 1 || got[0].Deliveries != lim.DeliveryLimit {
		t.Fatalf("after a left holding its last delivery, b acquired %v, want offset 0 delivered %d times", got, lim.DeliveryLimit)
	}
}
