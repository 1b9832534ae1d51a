package broker

import (
	"math"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() { register(22, 0, 5, handleInitProducerID) }

// handleInitProducerID gives a producer its ID and epoch. A transactional producer is served by the
// transaction coordinator. An idempotent producer that names its current ID and epoch (v3+, KIP-360)
// gets the epoch bumped, which resets its sequences after an error; when the epoch would overflow it
// gets a new ID instead.
func handleInitProducerID(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		// Fencing a producer aborts its open transaction, which waits for the markers' fsync.
		return respondLater(func() kmsg.Response {
			pid, epoch, err := b.txns.InitProducerID(r.ctx, *req.TransactionalID, req.TransactionTimeoutMillis, req.ProducerID, req.ProducerEpoch)
			if err != nil {
				resp.ErrorCode = fencedCode(err, req.Version, 4)
				return resp
			}
			resp.ProducerID, resp.ProducerEpoch = pid, epoch
			return resp
		})
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
