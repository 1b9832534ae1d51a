package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(2, 0, 8, handleListOffsets) }

// Special timestamps of a ListOffsets request.
const (
	listLatest        = -1
	listEarliest      = -2
	listMaxTimestamp  = -3 // v7+
	listEarliestLocal = -4 // v8+; without tiered storage the same as earliest
	listLatestTiered  = -5 // without tiered storage: no offset
)

func handleListOffsets(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range req.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewListOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.Timestamp, sp.Offset, sp.LeaderEpoch = -1, -1, -1
			p := b.topics.partition(rt.Topic, rp.Partition)
			switch {
			case p == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case rp.CurrentLeaderEpoch > leaderEpoch:
				sp.ErrorCode = kerr.UnknownLeaderEpoch.Code
			case rp.CurrentLeaderEpoch >= 0 && rp.CurrentLeaderEpoch < leaderEpoch:
				sp.ErrorCode = kerr.FencedLeaderEpoch.Code
			default:
				sp.LeaderEpoch = leaderEpoch
				switch ts := rp.Timestamp; ts {
				case listLatest:
					sp.Offset = p.log.EndOffset()
					if req.Version >= 2 && req.IsolationLevel == 1 {
						sp.Offset = p.log.LastStableOffset() // read_committed: the end is the last stable offset
					}
				case listEarliest, listEarliestLocal:
					sp.Offset = p.log.StartOffset()
				case listMaxTimestamp:
					if p.log.EndOffset() > p.log.StartOffset() {
						sp.Offset, sp.Timestamp = p.log.MaxTimestamp()
					}
				case listLatestTiered:
				default:
					if off, t, ok := p.log.OffsetForTimestamp(ts); ok {
						sp.Offset, sp.Timestamp = off, t
					}
				}
				if req.Version == 0 {
					// v0 returns a list of segment-boundary offsets; its clients only ask for one.
					if sp.Offset >= 0 && rp.MaxNumOffsets > 0 {
						sp.OldStyleOffsets = []int64{sp.Offset}
					}
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return respond(resp)
}
