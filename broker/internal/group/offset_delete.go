package group

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetDelete durably deletes committed offsets of a group. An Empty group's offsets can all go; a
// "consumer" group with members keeps those of topics its members subscribe to
// (GROUP_SUBSCRIBED_TO_TOPIC); any other group with members is NON_EMPTY_GROUP. Partitions that do not
// exist get UNKNOWN_TOPIC_OR_PARTITION. An Empty group left without offsets is removed, as in Kafka.
func (c *Coordinator) OffsetDelete(_ context.Context, r *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	resp := r.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if !c.enter() {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	defer c.exit()
	if err := c.deleteOffsets(r, resp); err != nil {
		resp.ErrorCode = err.Code
		resp.Topics = nil // Kafka sends no partitions with a group error
	}
	return resp
}

func (c *Coordinator) deleteOffsets(r *kmsg.OffsetDeleteRequest, resp *kmsg.OffsetDeleteResponse) *kerr.Error {
	if r.Group == "" {
		return kerr.InvalidGroupID
	}
	g := c.lockGroup(r.Group, false)
	if g == nil {
		return kerr.GroupIDNotFound
	}
	defer g.mu.Unlock()
	var subscribed map[string]bool // nil: no restriction
	switch {
	case g.mu.consumer != nil && len(g.mu.consumer.members) > 0:
		subscribed = make(map[string]bool)
		for _, t := range g.consumerTopicsLocked(c.topicsByName()) {
			subscribed[t] = true
		}
	case g.mu.state == stateEmpty:
	case g.mu.protocolType == "consumer":
		subscribed = g.subscribedTopicsLocked()
	default:
		return kerr.NonEmptyGroup
	}
	var tps []topicPartition
	for _, t := range r.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition = p.Partition
			switch {
			case !c.partitionExists(t.Topic, p.Partition):
				rp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case subscribed != nil && (subscribed[t.Topic] || subscribed[""]):
				rp.ErrorCode = kerr.GroupSubscribedToTopic.Code
			default:
				if _, ok := g.mu.offsets[t.Topic][p.Partition]; ok && !containsTP(tps, t.Topic, p.Partition) {
					tps = append(tps, topicPartition{t.Topic, p.Partition})
				}
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if len(tps) == 0 {
		return nil
	}
	if err := g.removeOffsetsLocked(tps); err != nil {
		c.logger.Error("deleting committed offsets", "group", r.Group, "err", err)
		return kerr.UnknownServerError
	}
	return nil
}

func containsTP(tps []topicPartition, topic string, partition int32) bool {
	for _, tp := range tps {
		if tp.topic == topic && tp.partition == partition {
			return true
		}
	}
	return false
}

// subscribedTopicsLocked returns the topics the members of a consumer group subscribe to, from their
// consumer protocol metadata. If some member's metadata cannot be parsed, the set holds "" meaning
// "assume every topic", as Kafka does.
// REQUIRES: g.mu is held.
func (g *group) subscribedTopicsLocked() map[string]bool {
	topics := make(map[string]bool)
	for _, m := range g.mu.members {
		meta := m.metadataFor(g.mu.protocol)
		if g.mu.protocol == "" && len(m.protocols) > 0 {
			meta = m.protocols[0].Metadata // no generation yet: use the preferred protocol's
		}
		var cm kmsg.ConsumerMemberMetadata
		if err := cm.ReadFrom(meta); err != nil {
			topics[""] = true
			continue
		}
		for _, t := range cm.Topics {
			topics[t] = true
		}
	}
	return topics
}
