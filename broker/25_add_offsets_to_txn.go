package broker

import "github.com/twmb/franz-go/pkg/kmsg"

func init() { register(25, 0, 4, handleAddOffsetsToTxn) }

// handleAddOffsetsToTxn adds a consumer group to the producer's transaction, so that its
// TxnOffsetCommits for that group commit or abort with the transaction.
func handleAddOffsetsToTxn(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.AddOffsetsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	return respondLater(func() kmsg.Response {
		err := b.txns.AddOffsets(req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group)
		resp.ErrorCode = fencedCode(err, req.Version, 2)
		return resp
	})
}
