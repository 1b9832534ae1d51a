package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(91, 0, 0, handleAlterShareGroupOffsets) }

// handleAlterShareGroupOffsets sets share partitions' start offsets, dropping their in-flight records.
// The group must be an empty share group (it is created if no group has the name, as in Kafka);
// a start offset outside the log is refused.
func handleAlterShareGroupOffsets(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.AlterShareGroupOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.AlterShareGroupOffsetsResponse)
	if req.GroupID == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return respond(resp)
	}
	if !b.groups.EnsureShareGroup(req.GroupID) {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		resp.ErrorMessage = kmsg.StringPtr("Group " + req.GroupID + " is not a share group.")
		return respond(resp)
	}
	if _, empty := b.groups.ShareGroupState(req.GroupID); !empty {
		resp.ErrorCode = kerr.NonEmptyGroup.Code
		resp.ErrorMessage = kmsg.StringPtr("The share group must be empty to alter its offsets.")
		return respond(resp)
	}
	for _, rt := range req.Topics {
		st := kmsg.NewAlterShareGroupOffsetsResponseTopic()
		st.Topic = rt.Topic
		t := b.topics.get(rt.Topic)
		if t != nil {
			st.TopicID = t.id
		}
		for _, rp := range rt.Partitions {
			sp := kmsg.NewAlterShareGroupOffsetsResponseTopicPartition()
			sp.Partition = rp.Partition
			switch {
			case t == nil || rp.Partition < 0 || int(rp.Partition) >= len(t.partitions):
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			default:
				p := t.partitions[rp.Partition]
				if rp.StartOffset < p.log.StartOffset() || rp.StartOffset > p.log.EndOffset() {
					sp.ErrorCode = kerr.OffsetOutOfRange.Code
					break
				}
				part, err := b.sharePartition(req.GroupID, t, p)
				if err == nil {
					err = part.Reset(rp.StartOffset)
				}
				if err != nil {
					b.logger.Error("altering share group offsets", "group", req.GroupID, "err", err)
					sp.ErrorCode = kerr.KafkaStorageError.Code
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return respond(resp)
}
