package group

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Limits and defaults. Kafka's group.min.session.timeout.ms (6s) is not enforced: Seiche is also used
// embedded and in tests, where sub-second session timeouts are legitimate.
const (
	minSessionTimeout        = time.Millisecond
	maxSessionTimeout        = 30 * time.Minute // group.max.session.timeout.ms
	newMemberJoinTimeout     = 5 * time.Minute  // Kafka's GroupCoordinator.NewMemberJoinTimeoutMs
	maxOffsetMetadata        = 4096             // offset.metadata.max.bytes
	defaultOffsetsRetention  = 7 * 24 * time.Hour
	defaultRetentionInterval = 10 * time.Minute // offsets.retention.check.interval.ms
)

// ErrClosed is returned by DeleteTopicOffsets after Close.
var ErrClosed = errors.New("group: coordinator closed")

// Options configures a Coordinator. The zero value is valid.
type Options struct {
	// Logger receives rebalance and error logs; nil discards them.
	Logger *slog.Logger
	// PartitionExists reports whether a topic partition exists; OffsetCommit rejects others with
	// UNKNOWN_TOPIC_OR_PARTITION. Nil accepts every partition.
	PartitionExists func(topic string, partition int32) bool
	// InitialRebalanceDelay is group.initial.rebalance.delay.ms: when an Empty group gets its first
	// member, the rebalance waits this long (extended while more members arrive, up to the rebalance
	// timeout) so that a starting fleet of consumers lands in one generation.
	InitialRebalanceDelay time.Duration
	// Topics lists the broker's topics; KIP-848 consumer groups assign their partitions. Nil means no
	// topics.
	Topics func() []TopicInfo
	// ConsumerSessionTimeout is group.consumer.session.timeout.ms (default 45s) and
	// ConsumerHeartbeatInterval group.consumer.heartbeat.interval.ms (default 5s) of KIP-848 groups.
	ConsumerSessionTimeout    time.Duration
	ConsumerHeartbeatInterval time.Duration
	// ConsumerAssignors is group.consumer.assignors: the server assignors members may ask for, the
	// first being the default. Empty means uniform and range; other names are rejected by New.
	ConsumerAssignors []string
	// ShareMemberGone is called, with the group locked, when a share group member leaves or its
	// session expires, so the records it holds can be released. Nil does nothing.
	ShareMemberGone func(group, member string)
	// DeleteShareGroup is called, with the group locked, when DeleteGroups deletes a share group; an
	// error fails the deletion. Nil does nothing.
	DeleteShareGroup func(group string) error
}

// Coordinator is the group coordinator. Its methods are safe for concurrent use; each answers one Kafka
// request and never returns an error, reporting failures as Kafka error codes in the response.
type Coordinator struct {
	db              *pebble.DB
	logger          *slog.Logger
	partitionExists func(topic string, partition int32) bool
	initialDelay    time.Duration
	retention       time.Duration

	topics            func() []TopicInfo
	consumerSession   time.Duration
	consumerHeartbeat time.Duration
	assignors         []string
	shareMemberGone   func(group, member string)
	deleteShareGroup  func(group string) error

	closing   chan struct{} // closed by Close: wakes waiting JoinGroup and SyncGroup calls
	closeOnce sync.Once
	ops       sync.WaitGroup // requests and timer callbacks in progress
	bg        sync.WaitGroup // the retention goroutine

	txnPending txnPending // offsets of open transactions (txn_offsets.go)

	mu struct {
		sync.Mutex
		closed  bool
		groups  map[string]*group
		configs map[string]map[string]string // group configs by group name
	}
}

// New loads every stored group and committed offset from db and starts the coordinator. The
// coordinator uses only keys starting with "g/" and never closes db; the caller closes db after Close.
func New(db *pebble.DB, o Options) (*Coordinator, error) {
	if db == nil {
		return nil, errors.New("group: nil database")
	}
	c := &Coordinator{
		db:              db,
		logger:          o.Logger,
		partitionExists: o.PartitionExists,
		initialDelay:    max(o.InitialRebalanceDelay, 0),
		retention:       defaultOffsetsRetention,
		closing:         make(chan struct{}),

		topics:            o.Topics,
		consumerSession:   cmp.Or(o.ConsumerSessionTimeout, defaultConsumerSessionTimeout),
		consumerHeartbeat: cmp.Or(o.ConsumerHeartbeatInterval, defaultConsumerHeartbeatInterval),
		assignors:         o.ConsumerAssignors,
		shareMemberGone:   o.ShareMemberGone,
		deleteShareGroup:  o.DeleteShareGroup,
	}
	if len(c.assignors) == 0 {
		c.assignors = consumerAssignors
	}
	for _, a := range c.assignors {
		if !slices.Contains(consumerAssignors, a) {
			return nil, fmt.Errorf("group: unknown consumer group assignor %q (Seiche has %s)", a, strings.Join(consumerAssignors, ", "))
		}
	}
	if c.consumerSession < 0 || c.consumerHeartbeat < 0 || c.consumerHeartbeat >= c.consumerSession {
		return nil, fmt.Errorf("group: consumer group heartbeat interval %v must be positive and below the session timeout %v",
			c.consumerHeartbeat, c.consumerSession)
	}
	if c.logger == nil {
		c.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.partitionExists == nil {
		c.partitionExists = func(string, int32) bool { return true }
	}
	c.mu.groups = make(map[string]*group)
	c.mu.configs = make(map[string]map[string]string)
	if err := c.load(); err != nil {
		return nil, err
	}
	c.bg.Add(1)
	go c.retainLoop(defaultRetentionInterval)
	return c, nil
}

// Close stops every timer and background goroutine, answers waiting JoinGroup calls with
// COORDINATOR_NOT_AVAILABLE and waiting SyncGroup calls with REBALANCE_IN_PROGRESS, and waits for every
// call in progress to return. Later calls answer COORDINATOR_NOT_AVAILABLE. After Close returns the
// coordinator no longer touches the database. Close is idempotent and safe to call concurrently; it
// always returns nil.
func (c *Coordinator) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.mu.closed = true
		c.mu.Unlock()
		close(c.closing)
		c.ops.Wait()
		c.bg.Wait()
		// Nothing runs any more (timer callbacks that fire now return at enter), so no group can be
		// created or re-arm a timer after this snapshot.
		for _, g := range c.groups() {
			g.mu.Lock()
			g.stopTimersLocked()
			g.mu.Unlock()
		}
	})
	return nil
}

// enter registers a request or timer callback with Close. It returns false once the coordinator is
// closing; otherwise the caller must call exit when done.
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

// lockGroup returns the named group locked, creating it Empty if create is set, or nil if it does not
// exist. It never returns a Dead group: a group is marked Dead and removed from the map under its lock.
func (c *Coordinator) lockGroup(name string, create bool) *group {
	for {
		c.mu.Lock()
		g := c.mu.groups[name]
		if g == nil && create {
			g = c.newGroup(name)
			c.mu.groups[name] = g
		}
		c.mu.Unlock()
		if g == nil {
			return nil
		}
		g.mu.Lock()
		if !g.mu.dead {
			return g
		}
		g.mu.Unlock()
	}
}

// groups returns every group, sorted by name.
func (c *Coordinator) groups() []*group {
	c.mu.Lock()
	gs := slices.Collect(maps.Values(c.mu.groups))
	c.mu.Unlock()
	slices.SortFunc(gs, func(a, b *group) int { return strings.Compare(a.name, b.name) })
	return gs
}

// DeleteTopicOffsets durably removes every group's committed offsets for topic; the broker calls it
// when the topic is deleted. An Empty group left without offsets is removed, as in Kafka.
func (c *Coordinator) DeleteTopicOffsets(topic string) error {
	if !c.enter() {
		return ErrClosed
	}
	defer c.exit()
	var errs []error
	for _, g := range c.groups() {
		g.mu.Lock()
		if !g.mu.dead {
			var tps []topicPartition
			for p := range g.mu.offsets[topic] {
				tps = append(tps, topicPartition{topic, p})
			}
			if len(tps) > 0 {
				errs = append(errs, g.removeOffsetsLocked(tps))
			}
		}
		g.mu.Unlock()
	}
	return errors.Join(errs...)
}

func (c *Coordinator) retainLoop(every time.Duration) {
	defer c.bg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.closing:
			return
		case now := <-t.C:
			if !c.enter() {
				return
			}
			c.expire(now)
			c.exit()
		}
	}
}

// expire applies offsets.retention.minutes as Kafka does: an Empty group's offsets expire together once
// it has been empty for the retention period, and a group that never had members (it only receives
// simple commits) loses each offset the retention period after that offset's commit. Empty groups left
// with no offsets are removed.
func (c *Coordinator) expire(now time.Time) {
	for _, g := range c.groups() {
		g.mu.Lock()
		if !g.mu.dead && g.emptyLocked() && g.mu.share == nil && len(g.mu.pending) == 0 {
			var tps []topicPartition
			for topic, ps := range g.mu.offsets {
				for p, o := range ps {
					since := g.mu.emptySince
					if g.mu.protocolType == "" {
						since = o.at
					}
					if now.Sub(since) >= c.retention {
						tps = append(tps, topicPartition{topic, p})
					}
				}
			}
			if len(tps) > 0 || g.offsetCountLocked() == 0 {
				if err := g.removeOffsetsLocked(tps); err != nil {
					c.logger.Error("expiring committed offsets", "group", g.name, "err", err)
				} else if len(tps) > 0 {
					c.logger.Info("expired committed offsets", "group", g.name, "offsets", len(tps))
				}
			}
		}
		g.mu.Unlock()
	}
}

type clientKey struct{}

type clientInfo struct{ id, host string }

// WithClient returns a context carrying the client ID from a request's header and the host the
// connection comes from. JoinGroup builds member IDs from the client ID as Kafka does
// ("<client.id>-<uuid>") and DescribeGroups reports both; without them member IDs start with "member"
// and the client ID and host are empty.
func WithClient(ctx context.Context, clientID, host string) context.Context {
	return context.WithValue(ctx, clientKey{}, clientInfo{clientID, host})
}

func clientFrom(ctx context.Context) clientInfo {
	ci, _ := ctx.Value(clientKey{}).(clientInfo)
	return ci
}

// newMemberID returns "<prefix>-<uuid>" like Kafka: the instance ID for a static member, otherwise the
// client ID.
func newMemberID(clientID string, instanceID *string) string {
	prefix := clientID
	if instanceID != nil {
		prefix = *instanceID
	}
	if prefix == "" {
		prefix = "member"
	}
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%s-%x-%x-%x-%x-%x", prefix, u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
