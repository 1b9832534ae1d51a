package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(79, 1, 2, handleShareAcknowledge) }

// handleShareAcknowledge acknowledges records a member holds, in its share session; epoch -1 also
// closes the session, releasing whatever the member still holds.
func handleShareAcknowledge(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.ShareAcknowledgeRequest)
	resp := req.ResponseKind().(*kmsg.ShareAcknowledgeResponse)
	group, member := deref(req.GroupID), deref(req.MemberID)
	lim := b.shareLimits(group)
	resp.AcquisitionLockTimeoutMillis = int32(lim.Lock.Milliseconds())
	switch {
	case group == "":
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return respond(resp)
	case member == "" || len(member) > 36:
		resp.ErrorCode = kerr.InvalidRequest.Code
		return respond(resp)
	case req.ShareSessionEpoch == 0:
		resp.ErrorCode = kerr.InvalidShareSessionEpoch.Code
		return respond(resp)
	}
	sess, err := b.shareSess.open(shareSessionKey{group, member}, req.ShareSessionEpoch, nil, nil)
	if err != nil {
		resp.ErrorCode = err.Code
		return respond(resp)
	}
	var acks []ackPart
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			ap := ackPart{tp: shareTP{t.TopicID, p.Partition}}
			for _, ab := range p.AcknowledgementBatches {
				ap.batches = append(ap.batches, ackBatch{ab.FirstOffset, ab.LastOffset, ab.AcknowledgeTypes})
			}
			acks = append(acks, ap)
		}
	}
	codes := b.acknowledge(group, member, acks, req.IsRenewAck)
	for _, t := range req.Topics {
		rt := kmsg.NewShareAcknowledgeResponseTopic()
		rt.TopicID = t.TopicID
		for _, p := range t.Partitions {
			rp := kmsg.NewShareAcknowledgeResponseTopicPartition()
			rp.Partition = p.Partition
			rp.ErrorCode = codes[shareTP{t.TopicID, p.Partition}]
			rp.CurrentLeader.LeaderID, rp.CurrentLeader.LeaderEpoch = -1, -1
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if req.ShareSessionEpoch == -1 {
		b.releaseShareSession(group, member, sess.parts)
	}
	return respond(resp)
}
