package broker

import (
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TxnOffsetCommit v0–4; v5 is KIP-890 part 2's, v6 names topics by ID.
func init() { register(28, 0, 4, handleTxnOffsetCommit) }

// handleTxnOffsetCommit verifies the producer against its transaction (current epoch, group added with
// AddOffsetsToTxn) and stores the offsets as pending in the group coordinator while the transaction is
// held open.
func handleTxnOffsetCommit(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.TxnOffsetCommitRequest)
	return respondLater(func() kmsg.Response {
		w, err := b.txns.BeginWrite(req.TransactionalID, req.ProducerID, req.ProducerEpoch, nil, req.Group)
		if err != nil {
			resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
			for _, t := range req.Topics {
				rt := kmsg.NewTxnOffsetCommitResponseTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
					rp.Partition, rp.ErrorCode = p.Partition, err.Code
					rt.Partitions = append(rt.Partitions, rp)
				}
				resp.Topics = append(resp.Topics, rt)
			}
			return resp
		}
		defer w.Done()
		return b.groups.TxnOffsetCommit(r.ctx, req)
	})
}
