package group

import (
	"context"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetCommit stores committed offsets durably (one synced Pebble batch per request) before answering.
// Members commit with their member ID and generation; anyone may commit to an Empty group with
// generation -1 (a "simple" commit, which creates the group if needed, as admin tools do). Partition
// errors: UNKNOWN_TOPIC_OR_PARTITION for partitions that do not exist, OFFSET_METADATA_TOO_LARGE past
// 4096 bytes of metadata; group errors apply to every partition.
func (c *Coordinator) OffsetCommit(_ context.Context, r *kmsg.OffsetCommitRequest) *kmsg.OffsetCommitResponse {
	resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
	for _, t := range r.Topics {
		rt := kmsg.NewOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if err := c.commit(r, resp); err != nil {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				resp.Topics[i].Partitions[j].ErrorCode = err.Code
			}
		}
	}
	return resp
}

// commit validates and stores r, setting partition errors in resp; a returned error applies to all.
func (c *Coordinator) commit(r *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse) *kerr.Error {
	if !c.enter() {
		return kerr.CoordinatorNotAvailable
	}
	defer c.exit()
	if r.Group == "" {
		return kerr.InvalidGroupID
	}
	generation, memberID, instanceID := r.Generation, r.MemberID, r.InstanceID
	if r.Version == 0 {
		generation, memberID = -1, ""
	}
	if r.Version < 7 {
		instanceID = nil
	}
	g := c.lockGroup(r.Group, generation < 0)
	if g == nil {
		return kerr.IllegalGeneration // a member of a generation the coordinator does not know
	}
	defer g.mu.Unlock()
	stale, err := g.validateAnyCommitLocked(r.Version, generation, memberID, instanceID, false)
	if err != nil {
		return err
	}
	switch g.mu.state {
	case stateCompletingRebalance:
		// The member has its new generation but not yet its assignment.
		return kerr.RebalanceInProgress
	case stateStable, statePreparingRebalance:
		if m := g.mu.members[memberID]; m != nil {
			g.scheduleSessionLocked(m, m.sessionTimeout)
		}
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
			if r.Version >= 6 {
				o.leaderEpoch = p.LeaderEpoch
			}
			if p.Metadata != nil {
				o.metadata = *p.Metadata
			}
			b.Set(offsetKey(g.name, t.Topic, p.Partition), encodeOffset(o), nil)
			writes = append(writes, staged{topicPartition{t.Topic, p.Partition}, o})
		}
	}
	if len(writes) == 0 {
		if g.mu.state == stateEmpty && g.mu.generation == 0 && g.mu.protocolType == "" &&
			len(g.mu.pending) == 0 && g.offsetCountLocked() == 0 {
			g.markDeadLocked() // created by this request and nothing stored: do not leave a shell behind
		}
		return nil
	}
	if err := b.Commit(pebble.Sync); err != nil {
		c.logger.Error("storing committed offsets", "group", g.name, "err", err)
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				if rp := &resp.Topics[i].Partitions[j]; rp.ErrorCode == 0 {
					rp.ErrorCode = kerr.UnknownServerError.Code
				}
			}
		}
		return nil
	}
	for _, w := range writes {
		g.setOffsetLocked(w.tp.topic, w.tp.partition, w.o)
	}
	return nil
}

// validateAnyCommitLocked validates an OffsetCommit (transactional false) or TxnOffsetCommit (true)
// by the group's type: share groups keep no offsets, a KIP-848 group takes the generation as the
// member epoch (stale reports the partitions an older epoch may not commit), a classic group checks
// membership and generation as Kafka's ClassicGroup does for each kind of commit.
// REQUIRES: g.mu is held.
func (g *group) validateAnyCommitLocked(version int16, generation int32, memberID string, instanceID *string, transactional bool) (stale func(topic string, partition int32) bool, err *kerr.Error) {
	switch {
	case g.mu.share != nil:
		return nil, kerr.GroupIDNotFound // share groups keep share-partition state, not offsets
	case g.mu.consumer != nil:
		return g.validateConsumerCommitLocked(version, generation, memberID, transactional)
	case transactional:
		return nil, g.validateTxnCommitLocked(generation, memberID, instanceID)
	default:
		return nil, g.validateCommitLocked(generation, memberID, instanceID)
	}
}

// partitionCommitErr is the error a commit of topic-partition gets before anything is stored, or nil:
// the partition must exist, be one the member may commit (stale, if not nil, names the others), and
// carry at most maxOffsetMetadata bytes of metadata.
func (c *Coordinator) partitionCommitErr(topic string, partition int32, metadata *string, stale func(string, int32) bool) *kerr.Error {
	switch {
	case !c.partitionExists(topic, partition):
		return kerr.UnknownTopicOrPartition
	case stale != nil && stale(topic, partition):
		return kerr.StaleMemberEpoch
	case metadata != nil && len(*metadata) > maxOffsetMetadata:
		return kerr.OffsetMetadataTooLarge
	}
	return nil
}

// validateCommitLocked is Kafka's validateOffsetCommit: a commit with a negative generation is a simple
// commit, allowed only while the group is Empty; anything that names a member must be the member of
// the current generation.
// REQUIRES: g.mu is held.
func (g *group) validateCommitLocked(generation int32, memberID string, instanceID *string) *kerr.Error {
	switch {
	case generation < 0 && g.mu.state == stateEmpty:
		return nil
	case generation >= 0 || memberID != "" || instanceID != nil:
		if err := g.validateMemberLocked(memberID, instanceID); err != nil {
			return err
		}
		if generation != g.mu.generation {
			return kerr.IllegalGeneration
		}
		return nil
	case g.mu.state != stateEmpty:
		return kerr.UnknownMemberID
	}
	return nil
}
