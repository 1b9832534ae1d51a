package broker

import (
	"errors"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/seichedb/seiche/broker/internal/records"
	"github.com/seichedb/seiche/broker/internal/share"
	"github.com/seichedb/seiche/broker/internal/storage"
)

// defaultShareMaxRecords is how many records a ShareFetch acquires when it does not say (v0).
const defaultShareMaxRecords = 500

// shareTP is one partition of a share session, named by topic ID as ShareFetch names it.
type shareTP struct {
	id [16]byte
	p  int32
}

// shareSession is the set of partitions a share group member fetches from this broker (KIP-932's
// share session, like KIP-227's fetch sessions). epoch is the epoch its next request must carry.
type shareSession struct {
	epoch int32
	parts []shareTP
	fresh map[shareTP]bool // partitions added since the last response, which must appear in the next
}

type shareSessionKey struct{ group, member string }

// shareSessions are the broker's share sessions. Sessions are not durable: after a restart members
// start new ones, as after a Kafka broker restart.
type shareSessions struct {
	mu struct {
		sync.Mutex
		m map[shareSessionKey]*shareSession
	}
}

func newShareSessions() *shareSessions {
	s := &shareSessions{}
	s.mu.m = make(map[shareSessionKey]*shareSession)
	return s
}

// open applies a request's session epoch: 0 starts a new session with add, a positive epoch must be the
// session's next one and adds add and drops forget, -1 closes the session (returned, for its final
// acknowledgements). Incrementing the epoch is part of a successful open.
func (s *shareSessions) open(k shareSessionKey, epoch int32, add, forget []shareTP) (*shareSession, *kerr.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.mu.m[k]
	switch {
	case epoch == 0:
		cur = &shareSession{fresh: make(map[shareTP]bool)}
		s.mu.m[k] = cur
	case cur == nil:
		return nil, kerr.ShareSessionNotFound
	case epoch == -1:
		delete(s.mu.m, k)
		return cur, nil
	case epoch != cur.epoch:
		return nil, kerr.InvalidShareSessionEpoch
	}
	// Add, then forget, as Kafka's ShareSession.update does: a request that carries a partition's
	// last acknowledgements and forgets it in the same breath leaves it out of the session. Clients
	// mirror the session by this order; a partition kept here that the client thinks forgotten would
	// have records acquired for a member that drops them, to come back only when their locks expire.
	for _, tp := range add {
		if !slices.Contains(cur.parts, tp) {
			cur.parts = append(cur.parts, tp)
			cur.fresh[tp] = true
		}
	}
	for _, tp := range forget {
		if i := slices.Index(cur.parts, tp); i >= 0 {
			cur.parts = slices.Delete(cur.parts, i, i+1)
			delete(cur.fresh, tp)
		}
	}
	cur.epoch = max(1, cur.epoch+1) // MaxInt32 wraps to 1, as in Kafka
	return cur, nil
}

// snapshot returns the session's partitions and the ones new to the client, clearing the latter.
func (s *shareSessions) snapshot(ss *shareSession) (parts []shareTP, fresh map[shareTP]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fresh = ss.fresh
	ss.fresh = make(map[shareTP]bool)
	return slices.Clone(ss.parts), fresh
}

// removeMember closes every session of a member that left its share group.
func (s *shareSessions) removeMember(group, member string) {
	s.mu.Lock()
	delete(s.mu.m, shareSessionKey{group, member})
	s.mu.Unlock()
}

// shareLimits are a share group's acquisition settings.
func (b *Broker) shareLimits(group string) share.Limits {
	lock := b.groups.GroupConfig(group, "share.record.lock.duration.ms")
	limit := b.groups.GroupConfig(group, "share.delivery.count.limit")
	return share.Limits{Lock: parseMillis(lock, 30*time.Second), DeliveryLimit: int16(parseInt(limit, 5))}
}

// sharePartition returns a group's share partition of t/p, initializing its SPSO with the group's
// share.auto.offset.reset if the group has not read it before.
func (b *Broker) sharePartition(group string, t *topic, p *partition) (*share.Partition, error) {
	k := share.Key{Group: group, TopicID: t.id, Partition: p.index}
	return b.shares.GetOrInit(k, func() int64 {
		if b.groups.GroupConfig(group, "share.auto.offset.reset") == "earliest" {
			return p.log.StartOffset()
		}
		return p.log.EndOffset()
	})
}

// acquireShare reads p's log from the first record the group may deliver and acquires up to maxRecords
// of them for member. It returns the batches holding the acquired records (nil if none) and the runs.
func (b *Broker) acquireShare(sp *share.Partition, p *partition, member string, maxRecords int, strict bool, maxBytes int, lim share.Limits) ([]byte, []share.Acquired, error) {
	now := time.Now()
	from := sp.NextCandidate(now, p.log.StartOffset(), lim)
	hw := p.log.EndOffset()
	var out []byte
	var acquired []share.Acquired
	// Read in chunks of about what the records wanted need, not the whole byte budget: a fetch may
	// allow 50 MiB and want 500 records.
	for from >= 0 && from < hw && maxRecords > 0 && maxBytes > 0 {
		data, err := p.log.Read(from, min(maxBytes, shareReadChunk), hw)
		if errors.Is(err, storage.ErrOffsetOutOfRange) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		var batches []share.Batch
		var ends []int
		for rest, pos := data, 0; len(rest) > 0; {
			batch, next, err := records.Next(rest)
			if err != nil {
				break // a partial batch at the end of the read
			}
			h, err := records.ParseHeader(batch)
			if err != nil {
				break
			}
			pos += len(batch)
			batches = append(batches, share.Batch{First: h.BaseOffset, Last: h.LastOffset(), Control: h.Control()})
			ends = append(ends, pos)
			rest = next
		}
		if len(batches) == 0 {
			break
		}
		got, used := sp.Acquire(member, batches, maxRecords, strict, now, lim)
		if used > 0 {
			out = append(out, data[:ends[used-1]]...)
			acquired = append(acquired, got...)
			maxBytes -= ends[used-1]
			for _, a := range got {
				maxRecords -= int(a.Last - a.First + 1)
			}
		}
		next := sp.NextCandidate(now, p.log.StartOffset(), lim)
		if next <= batches[len(batches)-1].Last {
			break // nothing more to acquire from what the log holds now (the window is full)
		}
		from = next
	}
	return out, acquired, nil
}

// shareReadChunk is how much of a log one read of a share fetch takes.
const shareReadChunk = 1 << 20

func parseMillis(s string, def time.Duration) time.Duration {
	if n, err := strconv.Atoi(s); err == nil && n > 0 {
		return time.Duration(n) * time.Millisecond
	}
	return def
}

func parseInt(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// shareMemberGone releases what a member that left its share group holds and forgets its sessions.
func (b *Broker) shareMemberGone(group, member string) {
	b.shareSess.removeMember(group, member)
	for _, sp := range b.shares.Group(group) {
		if err := sp.ReleaseMember(member); err != nil {
			b.logger.Error("releasing share records", "group", group, "member", member, "err", err)
		}
	}
}

// deleteShareGroup forgets a deleted share group's share-partition state.
func (b *Broker) deleteShareGroup(group string) error {
	return b.shares.Delete(slices.Collect(maps.Keys(b.shares.Group(group))))
}
