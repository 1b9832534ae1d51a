package group

import (
	"context"
	"maps"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// OffsetFetch returns committed offsets, regardless of the group's state (a group may use Kafka only to
// store offsets). Partitions without a commit, and groups that do not exist, get offset -1. Null topics
// (v2+) ask for every committed offset of the group. v8+ batch several groups. With RequireStable
// (v7+), a partition with transactional offsets pending gets UNSTABLE_OFFSET_COMMIT. v9's member ID
// and epoch belong to KIP-848 groups: a member fetching for one must name its current epoch
// (STALE_MEMBER_EPOCH otherwise); they are ignored for classic groups.
func (c *Coordinator) OffsetFetch(_ context.Context, r *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
	if !c.enter() {
		if r.Version >= 8 {
			for _, rg := range r.Groups {
				g := kmsg.NewOffsetFetchResponseGroup()
				g.Group = rg.Group
				g.ErrorCode = kerr.CoordinatorNotAvailable.Code
				resp.Groups = append(resp.Groups, g)
			}
			return resp
		}
		return c.fillOldFetch(resp, r, kerr.CoordinatorNotAvailable, nil)
	}
	defer c.exit()

	if r.Version >= 8 {
		for _, rg := range r.Groups {
			var want []fetchTopic
			if rg.Topics != nil {
				want = make([]fetchTopic, 0, len(rg.Topics))
				for _, t := range rg.Topics {
					want = append(want, fetchTopic{t.Topic, t.Partitions})
				}
			}
			topics, err := c.fetch(rg.Group, want)
			if r.RequireStable {
				c.markUnstable(rg.Group, topics)
			}
			if verr := c.validateConsumerFetch(rg.Group, rg.MemberID, rg.MemberEpoch); verr != nil {
				topics, err = nil, verr
			}
			g := kmsg.NewOffsetFetchResponseGroup()
			g.Group = rg.Group
			if err != nil {
				g.ErrorCode = err.Code
			}
			for _, t := range topics {
				gt := kmsg.NewOffsetFetchResponseGroupTopic()
				gt.Topic = t.Topic
				for _, p := range t.Partitions {
					gp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
					gp.Partition = p.Partition
					gp.Offset = p.Offset
					gp.LeaderEpoch = p.LeaderEpoch
					gp.Metadata = p.Metadata
					gp.ErrorCode = p.ErrorCode
					gt.Partitions = append(gt.Partitions, gp)
				}
				g.Topics = append(g.Topics, gt)
			}
			resp.Groups = append(resp.Groups, g)
		}
		return resp
	}

	var want []fetchTopic
	if r.Topics != nil || r.Version < 2 { // null means all only from v2
		want = make([]fetchTopic, 0, len(r.Topics))
		for _, t := range r.Topics {
			want = append(want, fetchTopic{t.Topic, t.Partitions})
		}
	}
	topics, err := c.fetch(r.Group, want)
	if r.RequireStable {
		c.markUnstable(r.Group, topics)
	}
	return c.fillOldFetch(resp, r, err, topics)
}

// fillOldFetch fills a v0–v7 response. A group error is top level from v2; before, it goes on every
// requested partition.
func (c *Coordinator) fillOldFetch(resp *kmsg.OffsetFetchResponse, r *kmsg.OffsetFetchRequest, err *kerr.Error, topics []kmsg.OffsetFetchResponseTopic) *kmsg.OffsetFetchResponse {
	if err == nil {
		resp.Topics = topics
		return resp
	}
	if r.Version >= 2 {
		resp.ErrorCode = err.Code
		return resp
	}
	for _, t := range r.Topics {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition = p
			rp.Offset = -1
			rp.ErrorCode = err.Code
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return resp
}

type fetchTopic struct {
	topic      string
	partitions []int32
}

// fetch returns a group's committed offsets for want, in request order, or all of them, sorted, if want
// is nil. It uses the v0–v7 shape; the v8+ one has the same fields.
func (c *Coordinator) fetch(name string, want []fetchTopic) ([]kmsg.OffsetFetchResponseTopic, *kerr.Error) {
	if name == "" {
		return nil, kerr.InvalidGroupID
	}
	var offsets map[string]map[int32]committed
	if g := c.lockGroup(name, false); g != nil {
		defer g.mu.Unlock()
		offsets = g.mu.offsets
	}
	if want == nil {
		for _, topic := range slices.Sorted(maps.Keys(offsets)) {
			want = append(want, fetchTopic{topic, slices.Sorted(maps.Keys(offsets[topic]))})
		}
	}
	out := make([]kmsg.OffsetFetchResponseTopic, 0, len(want))
	for _, t := range want {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.topic
		for _, p := range t.partitions {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition = p
			rp.Offset = -1
			rp.LeaderEpoch = -1
			metadata := ""
			if o, ok := offsets[t.topic][p]; ok {
				rp.Offset = o.offset
				rp.LeaderEpoch = o.leaderEpoch
				metadata = o.metadata
			}
			rp.Metadata = &metadata
			rt.Partitions = append(rt.Partitions, rp)
		}
		out = append(out, rt)
	}
	return out, nil
}
