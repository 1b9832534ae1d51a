package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker/internal/share"
)

func init() { register(92, 0, 0, handleDeleteShareGroupOffsets) }

// handleDeleteShareGroupOffsets forgets an empty share group's state for whole topics: the group
// starts over on them from share.auto.offset.reset.
func handleDeleteShareGroupOffsets(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.DeleteShareGroupOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteShareGroupOffsetsResponse)
	switch exists, empty := b.groups.ShareGroupState(req.GroupID); {
	case req.GroupID == "":
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return respond(resp)
	case !exists:
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return respond(resp)
	case !empty:
		resp.ErrorCode = kerr.NonEmptyGroup.Code
		return respond(resp)
	}
	state := b.shares.Group(req.GroupID)
	for _, rt := range req.Topics {
		st := kmsg.NewDeleteShareGroupOffsetsResponseTopic()
		st.Topic = rt.Topic
		t := b.topics.get(rt.Topic)
		if t == nil {
			st.ErrorCode = kerr.UnknownTopicOrPartition.Code
			resp.Topics = append(resp.Topics, st)
			continue
		}
		st.TopicID = t.id
		var keys []share.Key
		for k := range state {
			if k.TopicID == t.id {
				keys = append(keys, k)
			}
		}
		if err := b.shares.Delete(keys); err != nil {
			b.logger.Error("deleting share group offsets", "group", req.GroupID, "err", err)
			st.ErrorCode = kerr.KafkaStorageError.Code
		}
		resp.Topics = append(resp.Topics, st)
	}
	return respond(resp)
}
