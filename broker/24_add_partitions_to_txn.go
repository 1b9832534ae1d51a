package broker

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker/internal/txn"
)

// AddPartitionsToTxn: v0–3 from producers, one transaction each; v4+ (KIP-890) batch transactions and
// may only verify that partitions are already in a transaction, as Kafka's partition leaders ask their
// coordinator.
func init() { register(24, 0, 5, handleAddPartitionsToTxn) }

func handleAddPartitionsToTxn(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.AddPartitionsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	return respondLater(func() kmsg.Response {
		if req.Version <= 3 {
			var parts []txn.TopicPartition
			for _, t := range req.Topics {
				for _, p := range t.Partitions {
					parts = append(parts, txn.TopicPartition{Topic: t.Topic, Partition: p})
				}
			}
			errs, err := b.txns.AddPartitions(req.TransactionalID, req.ProducerID, req.ProducerEpoch, parts)
			code := fencedCode(err, req.Version, 2)
			for _, t := range req.Topics {
				rt := kmsg.NewAddPartitionsToTxnResponseTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
					rp.Partition, rp.ErrorCode = p, code
					if e := errs[txn.TopicPartition{Topic: t.Topic, Partition: p}]; e != nil {
						rp.ErrorCode = e.Code
					}
					rt.Partitions = append(rt.Partitions, rp)
				}
				resp.Topics = append(resp.Topics, rt)
			}
			return resp
		}
		// A partition missing from a verified transaction is INVALID_TXN_STATE, which v5 (Kafka 4.0)
		// reports as the abortable TRANSACTION_ABORTABLE.
		notIn := kerr.InvalidTxnState
		if req.Version >= 5 {
			notIn = kerr.TransactionAbortable
		}
		for _, rtx := range req.Transactions {
			var parts []txn.TopicPartition
			for _, t := range rtx.Topics {
				for _, p := range t.Partitions {
					parts = append(parts, txn.TopicPartition{Topic: t.Topic, Partition: p})
				}
			}
			var errs map[txn.TopicPartition]*kerr.Error
			var err *kerr.Error
			if rtx.VerifyOnly {
				errs, err = b.txns.VerifyPartitions(rtx.TransactionalID, rtx.ProducerID, rtx.ProducerEpoch, parts, notIn)
			} else {
				errs, err = b.txns.AddPartitions(rtx.TransactionalID, rtx.ProducerID, rtx.ProducerEpoch, parts)
			}
			tx := kmsg.NewAddPartitionsToTxnResponseTransaction()
			tx.TransactionalID = rtx.TransactionalID
			for _, t := range rtx.Topics {
				rt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
				rt.Topic = t.Topic
				for _, p := range t.Partitions {
					rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
					rp.Partition = p
					if err != nil {
						rp.ErrorCode = err.Code
					} else if e := errs[txn.TopicPartition{Topic: t.Topic, Partition: p}]; e != nil {
						rp.ErrorCode = e.Code
					}
					rt.Partitions = append(rt.Partitions, rp)
				}
				tx.Topics = append(tx.Topics, rt)
			}
			resp.Transactions = append(resp.Transactions, tx)
		}
		return resp
	})
}
