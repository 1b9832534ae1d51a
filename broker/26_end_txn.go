package broker

import "github.com/twmb/franz-go/pkg/kmsg"

// EndTxn v0–4. v5 belongs to KIP-890 part 2 (transaction.version 2), which is not offered: producers
// add partitions with AddPartitionsToTxn.
func init() { register(26, 0, 4, handleEndTxn) }

// handleEndTxn commits or aborts the producer's transaction; the response waits until every marker is
// durable and the group offsets are completed.
func handleEndTxn(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.EndTxnRequest)
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	return respondLater(func() kmsg.Response {
		err := b.txns.EndTxn(r.ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit)
		resp.ErrorCode = fencedCode(err, req.Version, 2)
		return resp
	})
}
