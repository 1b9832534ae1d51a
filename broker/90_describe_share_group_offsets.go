package broker

import (
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker/internal/share"
)

func init() { register(90, 0, 1, handleDescribeShareGroupOffsets) }

// handleDescribeShareGroupOffsets reports each share partition's start offset (SPSO) and, v1+, its lag:
// the records from the SPSO to the high watermark not yet acknowledged or archived. Null topics ask
// for every partition the group has state for; a partition without state has start offset -1.
func handleDescribeShareGroupOffsets(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.DescribeShareGroupOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeShareGroupOffsetsResponse)
	for _, rg := range req.Groups {
		g := kmsg.NewDescribeShareGroupOffsetsResponseGroup()
		g.GroupID = rg.GroupID
		if typ := b.groups.GroupType(rg.GroupID); typ != "share" {
			g.ErrorCode = kerr.GroupIDNotFound.Code
			g.ErrorMessage = kmsg.StringPtr("Group " + rg.GroupID + " is not a share group.")
			resp.Groups = append(resp.Groups, g)
			continue
		}
		want := rg.Topics
		if want == nil {
			byTopic := make(map[string][]int32)
			for k := range b.shares.Group(rg.GroupID) {
				if t := b.topics.getByID(k.TopicID); t != nil {
					byTopic[t.name] = append(byTopic[t.name], k.Partition)
				}
			}
			for name, ps := range byTopic {
				slices.Sort(ps)
				want = append(want, kmsg.DescribeShareGroupOffsetsRequestGroupTopic{Topic: name, Partitions: ps})
			}
			slices.SortFunc(want, func(a, b kmsg.DescribeShareGroupOffsetsRequestGroupTopic) int {
				return strings.Compare(a.Topic, b.Topic)
			})
		}
		for _, wt := range want {
			gt := kmsg.NewDescribeShareGroupOffsetsResponseGroupTopic()
			gt.Topic = wt.Topic
			t := b.topics.get(wt.Topic)
			if t != nil {
				gt.TopicID = t.id
			}
			for _, p := range wt.Partitions {
				gp := kmsg.NewDescribeShareGroupOffsetsResponseGroupTopicPartition()
				gp.Partition, gp.StartOffset, gp.LeaderEpoch, gp.Lag = p, -1, -1, -1
				switch {
				case t == nil || p < 0 || int(p) >= len(t.partitions):
					gp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				default:
					if sp := b.shares.Get(share.Key{Group: rg.GroupID, TopicID: t.id, Partition: p}); sp != nil {
						gp.StartOffset, gp.LeaderEpoch = sp.Start(), leaderEpoch
						gp.Lag = sp.Lag(t.partitions[p].log.EndOffset())
					}
				}
				gt.Partitions = append(gt.Partitions, gp)
			}
			g.Topics = append(g.Topics, gt)
		}
		resp.Groups = append(resp.Groups, g)
	}
	return respond(resp)
}
