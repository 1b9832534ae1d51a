package txn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kerr"
)

// State is a transactional ID's state, named as Kafka names it in DescribeTransactions.
type State int8

const (
	Empty State = iota
	Ongoing
	PrepareCommit
	PrepareAbort
	CompleteCommit
	CompleteAbort
	PrepareEpochFence
)

var stateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort", "PrepareEpochFence"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "Dead"
}

// ParseState returns the state named name (as String spells it).
func ParseState(name string) (State, bool) {
	i := slices.Index(stateNames[:], name)
	return State(i), i >= 0
}

// TopicPartition names one partition of a transaction.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Defaults, as in Kafka.
const (
	DefaultMaxTimeout    = 15 * time.Minute // transaction.max.timeout.ms
	DefaultAbortInterval = 10 * time.Second // transaction.abort.timed.out.transaction.cleanup.interval.ms
)

// Options configures a Coordinator. NextProducerID, WriteMarkers and CompleteOffsets are required.
type Options struct {
	Logger *slog.Logger
	// NextProducerID hands out a producer ID never used before.
	NextProducerID func() (int64, error)
	// PartitionExists reports whether a partition exists; AddPartitionsToTxn refuses others. Nil
	// accepts every partition.
	PartitionExists func(topic string, partition int32) bool
	// WriteMarkers appends a commit or abort marker for the producer to every partition and returns
	// once they are durable. A partition that no longer exists is skipped.
	WriteMarkers func(ctx context.Context, pid int64, epoch int16, commit bool, partitions []TopicPartition) error
	// CompleteOffsets makes the producer's pending transactional offsets of each group committed
	// (commit) or discards them (abort), durably.
	CompleteOffsets func(pid int64, groups []string, commit bool) error
	// MaxTimeout is transaction.max.timeout.ms: InitProducerId asking for more is refused. Zero means
	// DefaultMaxTimeout.
	MaxTimeout time.Duration
	// AbortInterval is how often expired transactions are looked for. Zero means DefaultAbortInterval.
	AbortInterval time.Duration
	// Now is the clock for transaction start times and expiry; nil is time.Now.
	Now func() time.Time
}

// Coordinator is the transaction coordinator. Its methods are safe for concurrent use; they report
// failures as Kafka errors.
type Coordinator struct {
	db   *pebble.DB
	o    Options
	stop chan struct{}
	bg   sync.WaitGroup

	closeOnce sync.Once
	ops       sync.WaitGroup // calls in progress

	mu struct {
		sync.Mutex
		closed bool
		byID   map[string]*txn
	}
}

// txn is one transactional ID. Fields under mu are guarded by it; see the package doc.
type txn struct {
	id string
	mu struct {
		sync.RWMutex
		pid, lastPID     int64
		epoch, lastEpoch int16
		timeout          time.Duration
		state            State
		partitions       map[TopicPartition]struct{}
		groups           map[string]struct{}
		started          time.Time // when the open transaction began; zero when none is open
		updated          time.Time
		removed          bool // no longer in the coordinator's map (never stored); lookups retry
	}
}

// New loads every transactional ID from db, completes the transactions a crash left decided but
// unfinished, and starts expiring timed-out transactions. The coordinator uses only keys starting with
// "x/" and never closes db.
func New(db *pebble.DB, o Options) (*Coordinator, error) {
	if db == nil || o.NextProducerID == nil || o.WriteMarkers == nil || o.CompleteOffsets == nil {
		return nil, errors.New("txn: database, NextProducerID, WriteMarkers and CompleteOffsets are required")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.PartitionExists == nil {
		o.PartitionExists = func(string, int32) bool { return true }
	}
	if o.MaxTimeout <= 0 {
		o.MaxTimeout = DefaultMaxTimeout
	}
	if o.AbortInterval <= 0 {
		o.AbortInterval = DefaultAbortInterval
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Coordinator{db: db, o: o, stop: make(chan struct{})}
	c.mu.byID = make(map[string]*txn)
	if err := c.load(); err != nil {
		return nil, err
	}
	for _, t := range c.all() {
		t.mu.Lock()
		if t.mu.state == PrepareCommit || t.mu.state == PrepareAbort {
			c.o.Logger.Info("completing transaction decided before restart", "transactional_id", t.id, "state", t.mu.state)
			if err := c.completeLocked(context.Background(), t); err != nil {
				c.o.Logger.Error("completing transaction", "transactional_id", t.id, "err", err)
			}
		}
		t.mu.Unlock()
	}
	c.bg.Add(1)
	go c.expireLoop()
	return c, nil
}

// Close stops the expiry loop and waits for calls in progress. Later calls answer
// COORDINATOR_NOT_AVAILABLE. It is idempotent.
func (c *Coordinator) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.mu.closed = true
		c.mu.Unlock()
		close(c.stop)
		c.bg.Wait()
		c.ops.Wait()
	})
	return nil
}

func (c *Coordinator) enter() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed {
		return false
	}
	c.ops.Add(1)
	return true
}

func (c *Coordinator) exit() { c.ops.Done() }

func (c *Coordinator) all() []*txn {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts := slices.Collect(maps.Values(c.mu.byID))
	slices.SortFunc(ts, func(a, b *txn) int { return strings.Compare(a.id, b.id) })
	return ts
}

// lookup returns the transactional ID's entry, or nil.
func (c *Coordinator) lookup(id string) *txn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mu.byID[id]
}

// lockExisting returns the named entry locked exclusively, or nil if it does not exist.
func (c *Coordinator) lockExisting(id string) *txn {
	for {
		t := c.lookup(id)
		if t == nil {
			return nil
		}
		t.mu.Lock()
		if !t.mu.removed {
			return t
		}
		t.mu.Unlock()
	}
}

// lockOrCreate returns the named entry locked exclusively, creating it (without a producer ID yet,
// epoch -1) if needed.
func (c *Coordinator) lockOrCreate(id string) *txn {
	for {
		c.mu.Lock()
		t := c.mu.byID[id]
		if t == nil {
			t = newTxn(id)
			c.mu.byID[id] = t
		}
		c.mu.Unlock()
		t.mu.Lock()
		if !t.mu.removed {
			return t
		}
		t.mu.Unlock()
	}
}

func newTxn(id string) *txn {
	t := &txn{id: id}
	t.mu.pid, t.mu.lastPID, t.mu.epoch, t.mu.lastEpoch = -1, -1, -1, -1
	t.mu.partitions = make(map[TopicPartition]struct{})
	t.mu.groups = make(map[string]struct{})
	return t
}

// forgetLocked removes an entry that was created but never stored. REQUIRES: t.mu is held.
func (c *Coordinator) forgetLocked(t *txn) {
	t.mu.removed = true
	c.mu.Lock()
	if c.mu.byID[t.id] == t {
		delete(c.mu.byID, t.id)
	}
	c.mu.Unlock()
}

// epochExhausted is Kafka's TransactionMetadata.isEpochExhausted: the coordinator needs one epoch in
// reserve to fence with.
func epochExhausted(e int16) bool { return e >= math.MaxInt16-1 }

// InitProducerID gives the transactional ID's producer its producer ID and epoch, fencing every earlier
// producer with the same transactional ID. A transaction that producer left open is aborted first.
// pid and epoch, when not -1 (KIP-360), are the producer's current ones: a producer recovering from an
// error gets its epoch bumped, and one that was fenced meanwhile gets PRODUCER_FENCED.
func (c *Coordinator) InitProducerID(ctx context.Context, id string, timeoutMs int32, pid int64, epoch int16) (int64, int16, *kerr.Error) {
	if !c.enter() {
		return -1, -1, kerr.CoordinatorNotAvailable
	}
	defer c.exit()
	if id == "" {
		return -1, -1, kerr.InvalidRequest
	}
	timeout := time.Duration(timeoutMs) * time.Millisecond
	if timeoutMs <= 0 || timeout > c.o.MaxTimeout {
		return -1, -1, kerr.InvalidTransactionTimeout
	}
	t := c.lockOrCreate(id)
	defer t.mu.Unlock()
	fresh := t.mu.pid < 0
	if fresh {
		newPID, err := c.o.NextProducerID()
		if err != nil {
			c.forgetLocked(t)
			c.o.Logger.Error("allocate producer id", "err", err)
			return -1, -1, kerr.KafkaStorageError
		}
		t.mu.pid = newPID
	}
	expected := pid >= 0 && epoch >= 0
	// Kafka's isValidProducerId: the request's producer must be the current one, or the previous one
	// retrying an epoch bump that rotated the producer ID.
	if expected && !fresh && pid != t.mu.pid && !(pid == t.mu.lastPID && epochExhausted(epoch)) {
		return -1, -1, kerr.ProducerFenced
	}
	switch t.mu.state {
	case PrepareCommit, PrepareAbort, PrepareEpochFence:
		return -1, -1, kerr.ConcurrentTransactions
	case Ongoing:
		// The producer that opened it is being replaced (or is recovering): abort it with a bumped
		// epoch, which fences anything it still has in flight.
		if err := c.fenceAndAbortLocked(ctx, t, expected && epoch == t.mu.epoch); err != nil {
			return -1, -1, err
		}
	}
	prev := *snapshotOf(t)
	switch {
	case epochExhausted(t.mu.epoch) && (!expected || epoch == t.mu.epoch):
		newPID, err := c.o.NextProducerID()
		if err != nil {
			c.o.Logger.Error("allocate producer id", "err", err)
			return -1, -1, kerr.KafkaStorageError
		}
		t.mu.lastPID, t.mu.lastEpoch = t.mu.pid, t.mu.epoch
		t.mu.pid = newPID
		t.mu.epoch = 0
	case !expected:
		t.mu.lastPID, t.mu.lastEpoch = -1, -1
		t.mu.epoch++
	case t.mu.epoch < 0 || epoch == t.mu.epoch:
		t.mu.lastPID, t.mu.lastEpoch = t.mu.pid, t.mu.epoch
		t.mu.epoch++
	case epoch == t.mu.lastEpoch:
		// A retry of a bump that succeeded, or the producer whose transaction timed out (KIP-588):
		// it continues with the current epoch.
	default:
		return -1, -1, kerr.ProducerFenced
	}
	t.mu.timeout = timeout
	t.mu.state = Empty
	t.mu.started = time.Time{}
	clear(t.mu.partitions)
	clear(t.mu.groups)
	if err := c.storeLocked(t, pebble.Sync); err != nil {
		restoreLocked(t, prev)
		if fresh {
			c.forgetLocked(t)
		}
		return -1, -1, kerr.KafkaStorageError
	}
	return t.mu.pid, t.mu.epoch, nil
}

// validateLocked is the check every call of a producer in a transaction makes: the transactional ID
// must belong to pid, at epoch. REQUIRES: t.mu is held.
func validateLocked(t *txn, pid int64, epoch int16) *kerr.Error {
	switch {
	case t.mu.pid != pid:
		return kerr.InvalidProducerIDMapping
	case t.mu.epoch != epoch:
		return kerr.ProducerFenced
	case t.mu.state == PrepareCommit || t.mu.state == PrepareAbort || t.mu.state == PrepareEpochFence:
		return kerr.ConcurrentTransactions
	}
	return nil
}

// AddPartitions adds partitions to the producer's transaction, opening it if none is open. errs has an
// entry for each partition when the request fails per partition (UNKNOWN_TOPIC_OR_PARTITION for those
// that do not exist, OPERATION_NOT_ATTEMPTED for the rest); err applies to every partition.
func (c *Coordinator) AddPartitions(id string, pid int64, epoch int16, parts []TopicPartition) (errs map[TopicPartition]*kerr.Error, err *kerr.Error) {
	if !c.enter() {
		return nil, kerr.CoordinatorNotAvailable
	}
	defer c.exit()
	t := c.lockExisting(id)
	if t == nil {
		return nil, kerr.InvalidProducerIDMapping
	}
	defer t.mu.Unlock()
	if err := validateLocked(t, pid, epoch); err != nil {
		return nil, err
	}
	for _, tp := range parts {
		if !c.o.PartitionExists(tp.Topic, tp.Partition) {
			if errs == nil {
				errs = make(map[TopicPartition]*kerr.Error, len(parts))
			}
			errs[tp] = kerr.UnknownTopicOrPartition
		}
	}
	if errs != nil {
		for _, tp := range parts {
			if errs[tp] == nil {
				errs[tp] = kerr.OperationNotAttempted
			}
		}
		return errs, nil
	}
	added := false
	for _, tp := range parts {
		if _, ok := t.mu.partitions[tp]; !ok {
			added = true
		}
	}
	if !added && t.mu.state == Ongoing {
		return nil, nil
	}
	return nil, c.joinLocked(t, func() {
		for _, tp := range parts {
			t.mu.partitions[tp] = struct{}{}
		}
	})
}

// VerifyPartitions answers AddPartitionsToTxn's verify-only form (KIP-890): for each partition, nil if
// it is in the producer's open transaction, notIn if it is not.
func (c *Coordinator) VerifyPartitions(id string, pid int64, epoch int16, parts []TopicPartition, notIn *kerr.Error) (map[TopicPartition]*kerr.Error, *kerr.Error) {
	if !c.enter() {
		return nil, kerr.CoordinatorNotAvailable
	}
	defer c.exit()
	t := c.lookup(id)
	if t == nil {
		return nil, kerr.InvalidProducerIDMapping
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := validateLocked(t, pid, epoch); err != nil {
		return nil, err
	}
	out := make(map[TopicPartition]*kerr.Error, len(parts))
	for _, tp := range parts {
		if _, ok := t.mu.partitions[tp]; !ok || t.mu.state != Ongoing {
			out[tp] = notIn
		} else {
			out[tp] = nil
		}
	}
	return out, nil
}

// AddOffsets adds a consumer group to the producer's transaction, opening it if none is open: the
// group's offsets committed with TxnOffsetCommit become visible when the transaction commits.
func (c *Coordinator) AddOffsets(id string, pid int64, epoch int16, group string) *kerr.Error {
	if !c.enter() {
		return kerr.CoordinatorNotAvailable
	}
	defer c.exit()
	if group == "" {
		return kerr.InvalidGroupID
	}
	t := c.lockExisting(id)
	if t == nil {
		return kerr.InvalidProducerIDMapping
	}
	defer t.mu.Unlock()
	if err := validateLocked(t, pid, epoch); err != nil {
		return err
	}
	if _, ok := t.mu.groups[group]; ok && t.mu.state == Ongoing {
		return nil
	}
	return c.joinLocked(t, func() { t.mu.groups[group] = struct{}{} })
}

// joinLocked applies add to the transaction, opening it if needed, and stores it; on failure the
// transaction is left as it was. REQUIRES: t.mu is held.
func (c *Coordinator) joinLocked(t *txn, add func()) *kerr.Error {
	prev := *snapshotOf(t)
	add()
	if t.mu.state != Ongoing {
		t.mu.state = Ongoing
		t.mu.started = c.o.Now()
	}
	if err := c.storeLocked(t, pebble.Sync); err != nil {
		restoreLocked(t, prev)
		return kerr.KafkaStorageError
	}
	return nil
}

// Write is a transactional write in progress, holding the transaction open until Done.
type Write struct{ t *txn }

// Done ends the write: the transaction may now end.
func (w Write) Done() { w.t.mu.RUnlock() }

// BeginWrite verifies a transactional write by the producer (a produce to partition, or with group
// set, a TxnOffsetCommit for that group) against its transaction: the producer must be the
// transactional ID's current one and the partition or group must be in its open transaction. On
// success the caller writes and then calls Done; the transaction cannot end in between.
func (c *Coordinator) BeginWrite(id string, pid int64, epoch int16, tp *TopicPartition, group string) (Write, *kerr.Error) {
	t := c.lookup(id)
	if t == nil {
		return Write{}, kerr.InvalidProducerIDMapping
	}
	t.mu.RLock()
	err := func() *kerr.Error {
		if t.mu.removed || t.mu.pid != pid {
			return kerr.InvalidProducerIDMapping
		}
		if epoch != t.mu.epoch {
			return kerr.InvalidProducerEpoch
		}
		if t.mu.state != Ongoing {
			return kerr.InvalidTxnState
		}
		if tp != nil {
			if _, ok := t.mu.partitions[*tp]; !ok {
				return kerr.InvalidTxnState
			}
		} else if _, ok := t.mu.groups[group]; !ok {
			return kerr.InvalidTxnState
		}
		return nil
	}()
	if err != nil {
		t.mu.RUnlock()
		return Write{}, err
	}
	return Write{t}, nil
}

// EndTxn commits or aborts the producer's open transaction: the decision is stored, the markers are
// written to every partition and the group offsets completed, and the completion is stored, before it
// returns. Retrying an EndTxn that completed succeeds.
func (c *Coordinator) EndTxn(ctx context.Context, id string, pid int64, epoch int16, commit bool) *kerr.Error {
	if !c.enter() {
		return kerr.CoordinatorNotAvailable
	}
	defer c.exit()
	t := c.lockExisting(id)
	if t == nil {
		return kerr.InvalidProducerIDMapping
	}
	defer t.mu.Unlock()
	if err := validateLocked(t, pid, epoch); err != nil {
		return err
	}
	switch t.mu.state {
	case Ongoing:
		return c.endLocked(ctx, t, commit)
	case CompleteCommit:
		if commit {
			return nil
		}
	case CompleteAbort:
		if !commit {
			return nil
		}
	}
	return kerr.InvalidTxnState
}

// endLocked decides the open transaction and completes it. REQUIRES: t.mu is held exclusively.
func (c *Coordinator) endLocked(ctx context.Context, t *txn, commit bool) *kerr.Error {
	prev := *snapshotOf(t)
	t.mu.state = PrepareAbort
	if commit {
		t.mu.state = PrepareCommit
	}
	if err := c.storeLocked(t, pebble.Sync); err != nil {
		restoreLocked(t, prev)
		return kerr.KafkaStorageError
	}
	if err := c.completeLocked(ctx, t); err != nil {
		// Decided but not complete: the expiry loop retries until it is.
		c.o.Logger.Error("completing transaction", "transactional_id", t.id, "err", err)
		return kerr.KafkaStorageError
	}
	return nil
}

// completeLocked writes the markers of a transaction in PrepareCommit or PrepareAbort, completes its
// group offsets, and stores it complete. REQUIRES: t.mu is held exclusively.
func (c *Coordinator) completeLocked(ctx context.Context, t *txn) error {
	commit := t.mu.state == PrepareCommit
	parts := slices.SortedFunc(maps.Keys(t.mu.partitions), func(a, b TopicPartition) int {
		if n := strings.Compare(a.Topic, b.Topic); n != 0 {
			return n
		}
		return int(a.Partition - b.Partition)
	})
	if len(parts) > 0 {
		if err := c.o.WriteMarkers(ctx, t.mu.pid, t.mu.epoch, commit, parts); err != nil {
			return fmt.Errorf("txn: write markers: %w", err)
		}
	}
	if len(t.mu.groups) > 0 {
		if err := c.o.CompleteOffsets(t.mu.pid, slices.Sorted(maps.Keys(t.mu.groups)), commit); err != nil {
			return fmt.Errorf("txn: complete offsets: %w", err)
		}
	}
	t.mu.state = CompleteAbort
	if commit {
		t.mu.state = CompleteCommit
	}
	clear(t.mu.partitions)
	clear(t.mu.groups)
	t.mu.started = time.Time{}
	// The completion need not be synced: the markers and offsets it records are durable already, the
	// next synced write of the database (any transaction's next step) makes it durable too, and a crash
	// before that only has recovery write the markers once more, which is harmless.
	if err := c.storeLocked(t, pebble.NoSync); err != nil {
		return err
	}
	return nil
}

// fenceAndAbortLocked aborts the open transaction with the epoch bumped (PrepareEpochFence, then
// PrepareAbort), so that its producer's in-flight writes are refused. keepLast lets the producer
// recover with InitProducerId naming the old epoch (KIP-588), as after a timeout; otherwise it is
// fenced for good. REQUIRES: t.mu is held exclusively and the transaction is Ongoing.
func (c *Coordinator) fenceAndAbortLocked(ctx context.Context, t *txn, keepLast bool) *kerr.Error {
	prev := *snapshotOf(t)
	old := t.mu.epoch
	t.mu.state = PrepareEpochFence
	if t.mu.epoch < math.MaxInt16 {
		t.mu.epoch++
	}
	t.mu.lastPID, t.mu.lastEpoch = -1, -1
	if keepLast {
		t.mu.lastPID, t.mu.lastEpoch = t.mu.pid, old
	}
	t.mu.state = PrepareAbort
	if err := c.storeLocked(t, pebble.Sync); err != nil {
		restoreLocked(t, prev)
		return kerr.KafkaStorageError
	}
	if err := c.completeLocked(ctx, t); err != nil {
		c.o.Logger.Error("aborting fenced transaction", "transactional_id", t.id, "err", err)
		return kerr.ConcurrentTransactions
	}
	return nil
}

func (c *Coordinator) expireLoop() {
	defer c.bg.Done()
	tick := time.NewTicker(c.o.AbortInterval)
	defer tick.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-tick.C:
			if !c.enter() {
				return
			}
			c.Expire()
			c.exit()
		}
	}
}

// Expire aborts every Ongoing transaction that has been open longer than its timeout, bumping its
// epoch (the producer may recover with KIP-588's InitProducerId), and retries completing transactions
// whose markers could not be written. The expiry loop calls it every AbortInterval.
func (c *Coordinator) Expire() {
	now := c.o.Now()
	for _, t := range c.all() {
		t.mu.Lock()
		switch {
		case t.mu.removed:
		case t.mu.state == Ongoing && now.Sub(t.mu.started) > t.mu.timeout:
			c.o.Logger.Info("aborting timed out transaction", "transactional_id", t.id, "producer_id", t.mu.pid,
				"epoch", t.mu.epoch, "started", t.mu.started, "timeout", t.mu.timeout)
			c.fenceAndAbortLocked(context.Background(), t, true)
		case t.mu.state == PrepareCommit || t.mu.state == PrepareAbort:
			if err := c.completeLocked(context.Background(), t); err != nil {
				c.o.Logger.Error("completing transaction", "transactional_id", t.id, "err", err)
			}
		}
		t.mu.Unlock()
	}
}

// Description is one transactional ID's state, for DescribeTransactions and ListTransactions.
type Description struct {
	ID         string
	State      State
	ProducerID int64
	Epoch      int16
	Timeout    time.Duration
	Started    time.Time // zero when no transaction is open
	Partitions []TopicPartition
}

func describeLocked(t *txn) Description {
	d := Description{ID: t.id, State: t.mu.state, ProducerID: t.mu.pid, Epoch: t.mu.epoch, Timeout: t.mu.timeout, Started: t.mu.started}
	for tp := range t.mu.partitions {
		d.Partitions = append(d.Partitions, tp)
	}
	slices.SortFunc(d.Partitions, func(a, b TopicPartition) int {
		if n := strings.Compare(a.Topic, b.Topic); n != 0 {
			return n
		}
		return int(a.Partition - b.Partition)
	})
	return d
}

// Describe returns the named transactional ID's state, and false if it does not exist.
func (c *Coordinator) Describe(id string) (Description, bool) {
	t := c.lookup(id)
	if t == nil {
		return Description{}, false
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.mu.removed || t.mu.epoch < 0 {
		return Description{}, false
	}
	return describeLocked(t), true
}

// List returns every transactional ID passing keep, sorted by ID.
func (c *Coordinator) List(keep func(Description) bool) []Description {
	var out []Description
	for _, t := range c.all() {
		t.mu.RLock()
		if !t.mu.removed && t.mu.epoch >= 0 {
			if d := describeLocked(t); keep(d) {
				out = append(out, d)
			}
		}
		t.mu.RUnlock()
	}
	return out
}
