package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(65, 0, 0, handleDescribeTransactions) }

// handleDescribeTransactions reports each transactional ID's state, producer, timeout, the start of its
// open transaction (-1 if none) and the partitions in it; an unknown ID is TRANSACTIONAL_ID_NOT_FOUND.
func handleDescribeTransactions(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.DescribeTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	for _, id := range req.TransactionalIDs {
		st := kmsg.NewDescribeTransactionsResponseTransactionState()
		st.TransactionalID = id
		st.StartTimestamp, st.ProducerID, st.ProducerEpoch = -1, -1, -1
		d, ok := b.txns.Describe(id)
		if !ok {
			st.ErrorCode = kerr.TransactionalIDNotFound.Code
			resp.TransactionStates = append(resp.TransactionStates, st)
			continue
		}
		st.State = d.State.String()
		st.TimeoutMillis = int32(d.Timeout.Milliseconds())
		if !d.Started.IsZero() {
			st.StartTimestamp = d.Started.UnixMilli()
		}
		st.ProducerID, st.ProducerEpoch = d.ProducerID, d.Epoch
		var cur *kmsg.DescribeTransactionsResponseTransactionStateTopic
		for _, tp := range d.Partitions {
			if cur == nil || cur.Topic != tp.Topic {
				st.Topics = append(st.Topics, kmsg.NewDescribeTransactionsResponseTransactionStateTopic())
				cur = &st.Topics[len(st.Topics)-1]
				cur.Topic = tp.Topic
			}
			cur.Partitions = append(cur.Partitions, tp.Partition)
		}
		resp.TransactionStates = append(resp.TransactionStates, st)
	}
	return respond(resp)
}
