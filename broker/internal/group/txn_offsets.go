package group

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Transactional offset commits (KIP-98, KIP-447). TxnOffsetCommit stores a producer's offsets as
// pending, durably, under "g/x/<group><producer id><topic><partition>": they are not visible to
// OffsetFetch until the transaction commits, when CompleteTxnOffsets moves them to the committed
// offsets in one synced batch; an abort discards them. OffsetFetch with require_stable answers
// UNSTABLE_OFFSET_COMMIT for a partition with pending offsets, so a consumer never starts from an
// offset that its predecessor's open transaction may still commit past.
//
// The broker verifies the producer against the transaction coordinator (current epoch, group added to
// its transaction) before calling TxnOffsetCommit, and holds the transaction open until it returns.
//
// Lock order: a group's mutex, then txnPending's.

const pendingPrefix = "g/x/"

// txnPending holds every group's pending transactional offsets.
type txnPending struct {
	sync.Mutex
	m map[string]map[int64]map[topicPartition]committed // group -> producer ID -> offsets
}

func pendingGroupPrefix(group string) []byte { return appendLenString([]byte(pendingPrefix), group) }

func pendingProducerPrefix(group string, pid int64) []byte {
	return binary.BigEndian.AppendUint64(pendingGroupPrefix(group), uint64(pid))
}

func pendingKey(group string, pid int64, topic string, partition int32) []byte {
	k := appendLenString(pendingProducerPrefix(group, pid), topic)
	return binary.BigEndian.AppendUint32(k, uint32(partition))
}

// addPending records offsets pending for the producer. REQUIRES: c.txnPending is held.
func (c *Coordinator) addPendingLocked(group string, pid int64, tp topicPartition, o committed) {
	if c.txnPending.m == nil {
		c.txnPending.m = make(map[string]map[int64]map[topicPartition]committed)
	}
	byPID := c.txnPending.m[group]
	if byPID == nil {
		byPID = make(map[int64]map[topicPartition]committed)
		c.txnPending.m[group] = byPID
	}
	offs := byPID[pid]
	if offs == nil {
		offs = make(map[topicPartition]committed)
		byPID[pid] = offs
	}
	offs[tp] = o
}

// loadPending reads one stored pending offset; load calls it for keys under "g/x/".
func (c *Coordinator) loadPending(k, v []byte) error {
	name, rest, ok1 := readLenString(k[len(pendingPrefix):])
	if !ok1 || len(rest) < 8 {
		return fmt.Errorf("group: malformed pending offset entry %q", k)
	}
	pid := int64(binary.BigEndian.Uint64(rest))
	topic, rest, ok2 := readLenString(rest[8:])
	o, ok3 := decodeOffset(v)
	if !ok2 || !ok3 || len(rest) != 4 {
		return fmt.Errorf("group: malformed pending offset entry %q", k)
	}
	c.txnPending.Lock()
	c.addPendingLocked(name, pid, topicPartition{topic, int32(binary.BigEndian.Uint32(rest))}, o)
	c.txnPending.Unlock()
	return nil
}

// TxnOffsetCommit stores offsets pending in the producer's transaction, durably, before answering.
// The group's membership is checked as Kafka does for transactional commits (v3+, KIP-447; see
// validateAnyCommitLocked): in a classic group a named member must be in the group and a generation,
// if given, the current one; in a KIP-848 group the generation is the member epoch. The group is
// created if it does not exist.
func (c *Coordinator) TxnOffsetCommit(_ context.Context, r *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	resp := r.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if err := c.txnCommit(r, resp); err != nil {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				resp.Topics[i].Partitions[j].ErrorCode = err.Code
			}
		}
	}
	return resp
}

func (c *Coordinator) txnCommit(r *kmsg.TxnOffsetCommitRequest, resp *kmsg.TxnOffsetCommitResponse) *kerr.Error {
	if !c.enter() {
		return kerr.CoordinatorNotAvailable
	}
	defer c.exit()
	if r.Group == "" {
		return kerr.InvalidGroupID
	}
	generation, memberID, instanceID := r.Generation, r.MemberID, r.InstanceID
	if r.Version < 3 {
		generation, memberID, instanceID = -1, "", nil
	}
	g := c.lockGroup(r.Group, true)
	defer g.mu.Unlock()
	stale, err := g.validateAnyCommitLocked(r.Version, generation, memberID, instanceID, true)
	if err != nil {
		return err
	}

	now := time.Now()
	b := c.db.NewBatch()
	defer b.Close()
	type staged struct {
		tp topicPartition
		o  committed
	}
	var writes []staged
	for i, t := range r.Topics {
		for j, p := range t.Partitions {
			rp := &resp.Topics[i].Partitions[j]
			if perr := c.partitionCommitErr(t.Topic, p.Partition, p.Metadata, stale); perr != nil {
				rp.ErrorCode = perr.Code
				continue
			}
			o := committed{offset: p.Offset, leaderEpoch: -1, at: now}
			if r.Version >= 2 {
				o.leaderEpoch = p.LeaderEpoch
			}
			if p.Metadata != nil {
				o.metadata = *p.Metadata
			}
			b.Set(pendingKey(g.name, r.ProducerID, t.Topic, p.Partition), encodeOffset(o), nil)
			writes = append(writes, staged{topicPartition{t.Topic, p.Partition}, o})
		}
	}
	if len(writes) == 0 {
		return nil
	}
	if err := b.Commit(pebble.Sync); err != nil {
		c.logger.Error("storing transactional offsets", "group", g.name, "err", err)
		return kerr.UnknownServerError
	}
	c.txnPending.Lock()
	for _, w := range writes {
		c.addPendingLocked(g.name, r.ProducerID, w.tp, w.o)
	}
	c.txnPending.Unlock()
	return nil
}

// validateTxnCommitLocked is Kafka's ClassicGroup.validateOffsetCommit for a transactional commit: a
// named member must be in the group (FENCED_INSTANCE_ID for a replaced static member) and a
// generation, if given, must be the current one.
// REQUIRES: g.mu is held.
func (g *group) validateTxnCommitLocked(generation int32, memberID string, instanceID *string) *kerr.Error {
	if instanceID != nil {
		if cur, ok := g.mu.static[*instanceID]; ok && cur != memberID {
			return kerr.FencedInstanceID
		}
	}
	if memberID != "" && g.mu.members[memberID] == nil {
		return kerr.UnknownMemberID
	}
	if generation >= 0 && generation != g.mu.generation {
		return kerr.IllegalGeneration
	}
	return nil
}

// CompleteTxnOffsets ends the producer's transaction in each group: on commit its pending offsets
// become the committed offsets, on abort they are dropped; either way durably, in one batch per group.
// Completing a group without pending offsets of the producer does nothing, so a transaction may be
// completed again after a restart.
func (c *Coordinator) CompleteTxnOffsets(pid int64, groups []string, commit bool) error {
	if !c.enter() {
		return ErrClosed
	}
	defer c.exit()
	for _, name := range groups {
		if err := c.completeGroup(name, pid, commit); err != nil {
			return err
		}
	}
	return nil
}

func (c *Coordinator) completeGroup(name string, pid int64, commit bool) error {
	c.txnPending.Lock()
	offs := c.txnPending.m[name][pid]
	c.txnPending.Unlock()
	if len(offs) == 0 {
		return nil
	}
	g := c.lockGroup(name, commit)
	if g != nil {
		defer g.mu.Unlock()
	}
	b := c.db.NewBatch()
	defer b.Close()
	prefix := pendingProducerPrefix(name, pid)
	b.DeleteRange(prefix, prefixEnd(prefix), nil)
	if commit {
		for tp, o := range offs {
			b.Set(offsetKey(name, tp.topic, tp.partition), encodeOffset(o), nil)
		}
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("group: complete transactional offsets of group %q: %w", name, err)
	}
	if commit {
		for tp, o := range offs {
			g.setOffsetLocked(tp.topic, tp.partition, o)
		}
	}
	c.txnPending.Lock()
	delete(c.txnPending.m[name], pid)
	if len(c.txnPending.m[name]) == 0 {
		delete(c.txnPending.m, name)
	}
	c.txnPending.Unlock()
	return nil
}

// markUnstable sets UNSTABLE_OFFSET_COMMIT (and no offset) on every partition of topics that has
// transactional offsets pending in the group: OffsetFetch with require_stable (v7+).
func (c *Coordinator) markUnstable(group string, topics []kmsg.OffsetFetchResponseTopic) {
	c.txnPending.Lock()
	defer c.txnPending.Unlock()
	byPID := c.txnPending.m[group]
	if len(byPID) == 0 {
		return
	}
	for i := range topics {
		for j := range topics[i].Partitions {
			p := &topics[i].Partitions[j]
			for _, offs := range byPID {
				if _, ok := offs[topicPartition{topics[i].Topic, p.Partition}]; ok {
					p.ErrorCode, p.Offset, p.LeaderEpoch = kerr.UnstableOffsetCommit.Code, -1, -1
					break
				}
			}
		}
	}
}
