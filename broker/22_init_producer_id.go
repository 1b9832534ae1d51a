package broker

import (
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(22, 0, 5, handleInitProducerID) }

// handleInitProducerID gives an idempotent producer its ID and epoch. A producer that names its current
// ID and epoch (v3+, KIP-360) gets the epoch bumped, which resets its sequences after an error; when the
// epoch would overflow it gets a new ID instead.
func handleInitProducerID(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		// Transactions are a later addition; until then a transactional producer is told plainly.
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		b.logger.Warn("transactional producer refused: transactions are not supported yet", "transactional_id", *req.TransactionalID, "client_id", r.clientID)
		return respond(resp)
	}
	if req.ProducerID >= 0 && req.ProducerEpoch >= 0 && req.ProducerEpoch < math.MaxInt16-1 {
		resp.ProducerID, resp.ProducerEpoch = req.ProducerID, req.ProducerEpoch+1
		return respond(resp)
	}
	id, err := b.pids.next()
	if err != nil {
		b.logger.Error("allocate producer id", "err", err)
		resp.ErrorCode = kerr.KafkaStorageError.Code
		return respond(resp)
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return respond(resp)
}
