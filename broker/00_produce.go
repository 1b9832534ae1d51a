package broker

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker/internal/records"
	"github.com/seichedb/seiche/broker/internal/storage"
	"github.com/seichedb/seiche/broker/internal/txn"
)

// Produce v3+ (RecordBatch v2 only; v0-2 carry the old message formats that no current client sends).
func init() { register(0, 3, 11, handleProduce) }

// handleProduce appends each partition's batches in request order on the connection's read goroutine,
// so that a pipelining idempotent producer's batches land in sequence order. With acks=all it asks each
// log for an fsync as soon as its batches are appended, and the response waits, on the connection's write
// loop, for the fsync covering every appended batch; concurrent producers share that fsync (group commit).
// A transactional produce (KIP-98) is verified against the producer's transaction before each
// partition's append (KIP-890 part 1: current epoch, partition added with AddPartitionsToTxn), and the
// transaction cannot end until the append is done.
// Nothing may use the request's record bytes after handleProduce returns: the connection reuses the
// request body for another request.
func handleProduce(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)

	if req.Acks != 0 && req.Acks != 1 && req.Acks != -1 {
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition, sp.ErrorCode = rp.Partition, kerr.InvalidRequiredAcks.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return respond(resp)
	}

	type durable struct {
		log    *storage.Log
		last   int64
		ti, pi int // index into resp.Topics and its Partitions
	}
	var waits []durable
	if req.Acks == -1 {
		n := 0
		for _, rt := range req.Topics {
			n += len(rt.Partitions)
		}
		waits = make([]durable, 0, n)
	}
	resp.Topics = make([]kmsg.ProduceResponseTopic, 0, len(req.Topics))
	for _, rt := range req.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.ProduceResponseTopicPartition, 0, len(rt.Partitions))
		t := b.topics.get(rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = -1, -1, -1
			if t == nil || rp.Partition < 0 || int(rp.Partition) >= len(t.partitions) {
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				if isInternalTopic(rt.Topic) {
					sp.ErrorCode = kerr.InvalidTopicException.Code
				}
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			p := t.partitions[rp.Partition]
			var w txn.Write
			if req.TransactionID != nil {
				var kerrTxn *kerr.Error
				if w, kerrTxn = beginTxnProduce(b, *req.TransactionID, rt.Topic, rp.Partition, rp.Records); kerrTxn != nil {
					sp.ErrorCode = kerrTxn.Code
					st.Partitions = append(st.Partitions, sp)
					continue
				}
			}
			last, err := produceToPartition(t, p, rp.Records, req.TransactionID != nil, &sp)
			if req.TransactionID != nil {
				w.Done()
			}
			if err != nil {
				sp.ErrorCode, sp.ErrorMessage = produceErrCode(err)
				if sp.ErrorCode == kerr.UnknownServerError.Code || sp.ErrorCode == kerr.KafkaStorageError.Code {
					b.logger.Error("produce failed", "topic", t.name, "partition", p.index, "err", err)
				}
			}
			st.Partitions = append(st.Partitions, sp)
			if err == nil {
				p.appended()
			}
			if err == nil && req.Acks == -1 {
				// Start the fsync now, while the rest of the request is appended: every log's flusher
				// works in parallel, so a request spanning many partitions costs about one fsync latency.
				p.log.RequestFlush()
				waits = append(waits, durable{log: p.log, last: last, ti: len(resp.Topics), pi: len(st.Partitions) - 1})
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	if req.Acks == 0 {
		return result{}
	}
	if len(waits) == 0 {
		return respond(resp)
	}
	return respondWhen(func() kmsg.Response {
		// Every flush is already requested, so waiting for the logs one after the other takes as long as
		// the slowest of them.
		for _, w := range waits {
			err := w.log.WaitDurable(r.ctx, w.last)
			if err == nil {
				continue
			}
			if r.ctx.Err() == nil {
				b.logger.Error("fsync failed", "err", err)
			}
			sp := &resp.Topics[w.ti].Partitions[w.pi]
			sp.ErrorCode, sp.BaseOffset = kerr.KafkaStorageError.Code, -1
		}
		return resp
	})
}

// produceToPartition validates and appends one partition's record batches, filling sp's offsets.
// It returns the last offset appended.
func produceToPartition(t *topic, p *partition, blob []byte, transactional bool, sp *kmsg.ProduceResponseTopicPartition) (int64, error) {
	// Check the framing of every batch before appending any, so that a request whose record set is cut
	// short appends nothing.
	n := 0
	for rest := blob; len(rest) > 0; n++ {
		var err error
		if _, rest, err = records.Next(rest); err != nil {
			return 0, fmt.Errorf("%w: %v", errCorruptMessage, err)
		}
	}
	if n == 0 {
		return 0, fmt.Errorf("%w: no record batch", errInvalidRecord)
	}
	cfg := t.config
	maxBytes := int(cfg.int64("max.message.bytes"))
	codec, recompress := cfg.compression()
	compact, logAppendTime := cfg.compact(), cfg.logAppendTime()
	var last int64
	// Count what was appended, even when a later batch fails: one Add per partition, not per batch.
	var bytesIn, messagesIn int
	defer func() {
		if messagesIn > 0 {
			p.metrics.bytesIn.Add(float64(bytesIn))
			p.metrics.messagesIn.Add(float64(messagesIn))
		}
	}()
	for i, rest := 0, blob; len(rest) > 0; i++ {
		batch, next, _ := records.Next(rest)
		rest = next
		wireSize := len(batch) // before any recompression, as Kafka's BytesInPerSec counts
		h, err := records.Verify(batch)
		if err != nil {
			if errors.Is(err, records.ErrUnsupportedMagic) {
				return 0, fmt.Errorf("%w: %v", errUnsupportedFormat, err)
			}
			return 0, fmt.Errorf("%w: %v", errCorruptMessage, err)
		}
		if len(batch) > maxBytes {
			return 0, fmt.Errorf("%w: batch of %d bytes exceeds max.message.bytes %d", errMessageTooLarge, len(batch), maxBytes)
		}
		if h.Transactional() != transactional {
			return 0, fmt.Errorf("%w: a batch is transactional exactly when the request has a transactional id", errInvalidRecord)
		}
		if h.Control() {
			return 0, fmt.Errorf("%w: clients may not produce control batches", errInvalidRecord)
		}
		if h.NumRecords <= 0 {
			return 0, fmt.Errorf("%w: batch without records", errInvalidRecord)
		}
		if compact || (recompress && codec != h.Codec()) {
			hdr, recs, err := records.Decode(batch)
			if err != nil {
				return 0, fmt.Errorf("%w: %v", errCorruptMessage, err)
			}
			if compact {
				for i := range recs {
					if recs[i].Key == nil {
						return 0, fmt.Errorf("%w: compacted topic %s requires a key on every record", errInvalidRecord, t.name)
					}
				}
			}
			if recompress && codec != h.Codec() {
				if batch, err = records.Encode(nil, hdr, recs, codec); err != nil {
					return 0, fmt.Errorf("%w: recompress: %v", errInvalidRecord, err)
				}
			}
		}
		records.SetPartitionLeaderEpoch(batch, leaderEpoch)
		appendTime := int64(-1)
		if logAppendTime {
			appendTime = time.Now().UnixMilli()
			records.SetMaxTimestampAndLogAppendTime(batch, appendTime)
		}
		res, err := p.log.Append(batch)
		if err != nil {
			return 0, err
		}
		bytesIn += wireSize
		messagesIn += int(h.NumRecords)
		if i == 0 {
			sp.BaseOffset = res.BaseOffset
			sp.LogAppendTime = appendTime
		}
		sp.LogStartOffset = res.LogStartOffset
		last = res.LastOffset
	}
	return last, nil
}

var (
	errCorruptMessage    = errors.New("broker: corrupt message")
	errInvalidRecord     = errors.New("broker: invalid record")
	errMessageTooLarge   = errors.New("broker: message too large")
	errUnsupportedFormat = errors.New("broker: unsupported message format")
)

func produceErrCode(err error) (int16, *string) {
	msg := err.Error()
	code := kerr.UnknownServerError
	switch {
	case errors.Is(err, errCorruptMessage), errors.Is(err, records.ErrCorrupt):
		code = kerr.CorruptMessage
	case errors.Is(err, errInvalidRecord):
		code = kerr.InvalidRecord
	case errors.Is(err, errMessageTooLarge):
		code = kerr.MessageTooLarge
	case errors.Is(err, errUnsupportedFormat):
		code = kerr.UnsupportedForMessageFormat
	case errors.Is(err, storage.ErrDuplicateSequence):
		code = kerr.DuplicateSequenceNumber
	case errors.Is(err, storage.ErrOutOfOrderSequence):
		code = kerr.OutOfOrderSequenceNumber
	case errors.Is(err, storage.ErrInvalidProducerEpoch):
		code = kerr.InvalidProducerEpoch
	case errors.Is(err, storage.ErrUnknownProducerID):
		code = kerr.UnknownProducerID
	case errors.Is(err, storage.ErrClosed):
		code = kerr.NotLeaderForPartition
	}
	return code.Code, &msg
}

// beginTxnProduce verifies a transactional produce to one partition against the producer's
// transaction, naming the producer of the first batch; produceToPartition refuses a request whose
// batches name another. On success the caller appends and then calls Done.
func beginTxnProduce(b *Broker, txnID, topic string, partition int32, blob []byte) (txn.Write, *kerr.Error) {
	h, err := records.ParseHeader(blob)
	if err != nil {
		return txn.Write{}, kerr.CorruptMessage
	}
	for rest := blob; len(rest) > 0; {
		batch, next, err := records.Next(rest)
		if err != nil {
			return txn.Write{}, kerr.CorruptMessage
		}
		if bh, err := records.ParseHeader(batch); err != nil || bh.ProducerID != h.ProducerID || bh.ProducerEpoch != h.ProducerEpoch {
			return txn.Write{}, kerr.InvalidRecord
		}
		rest = next
	}
	return b.txns.BeginWrite(txnID, h.ProducerID, h.ProducerEpoch, &txn.TopicPartition{Topic: topic, Partition: partition}, "")
}
