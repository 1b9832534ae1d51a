package broker

import (
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker/internal/records"
	"github.com/seichedb/seiche/broker/internal/storage"
)

// Fetch v4+ (RecordBatch v2, the isolation level field). v7+ adds fetch sessions (KIP-227). Topic IDs in
// fetches (v13+) are not served yet.
func init() { register(1, 4, 12, handleFetch) }

const (
	fetchSessionFinalEpoch = -1
	maxFetchWait           = 30 * time.Second
)

// handleFetch answers from the partition logs, waiting up to MaxWaitMillis for MinBytes of data. The wait
// runs off the connection's read goroutine. A read_committed fetch (isolation level 1) reads only up to
// the last stable offset and gets the aborted transactions overlapping what it read, so the client can
// drop their batches.
func handleFetch(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.FetchRequest)
	resp := req.ResponseKind().(*kmsg.FetchResponse)

	parts := make([]sessionPart, 0, 8)
	for _, rt := range req.Topics {
		for _, rp := range rt.Partitions {
			parts = append(parts, sessionPart{
				tp:          tp{rt.Topic, rp.Partition},
				fetchOffset: rp.FetchOffset,
				maxBytes:    rp.PartitionMaxBytes,
				leaderEpoch: rp.CurrentLeaderEpoch,
			})
		}
	}
	var forget []tp
	for _, ft := range req.ForgottenTopics {
		for _, p := range ft.Partitions {
			forget = append(forget, tp{ft.Topic, p})
		}
	}

	// Work out which session, if any, this fetch belongs to.
	var sess *fetchSession
	incremental := false
	if req.Version >= 7 {
		switch {
		case req.SessionID == 0 && req.SessionEpoch == fetchSessionFinalEpoch:
			// A sessionless full fetch.
		case req.SessionEpoch == 0 || req.SessionEpoch == fetchSessionFinalEpoch:
			// Epoch 0 starts a new session (closing the named one); the final epoch closes it and fetches
			// without a session.
			if req.SessionID != 0 {
				b.sessions.remove(req.SessionID)
			}
			if req.SessionEpoch == 0 {
				if sess = b.sessions.create(); sess != nil {
					sess.update(parts, nil)
				}
			}
		default:
			var kind errorKind
			sess, kind = b.sessions.acquire(req.SessionID, req.SessionEpoch)
			switch kind {
			case sessionNotFound:
				resp.ErrorCode = kerr.FetchSessionIDNotFound.Code
				return respond(resp)
			case sessionBadEpoch:
				resp.ErrorCode = kerr.InvalidFetchSessionEpoch.Code
				return respond(resp)
			}
			sess.update(parts, forget)
			incremental = true
		}
	}
	if sess != nil {
		resp.SessionID = sess.id
		parts = parts[:0]
		for _, p := range sess.parts {
			parts = append(parts, *p)
		}
	}

	f := &fetch{
		b:           b,
		req:         req,
		parts:       parts,
		incremental: incremental,
		sess:        sess,
	}
	if f.collect() >= int(req.MinBytes) || req.MaxWaitMillis <= 0 {
		return respond(f.finish(resp))
	}
	return respondLater(func() kmsg.Response {
		wait := min(time.Duration(req.MaxWaitMillis)*time.Millisecond, maxFetchWait)
		timer := time.NewTimer(wait)
		defer timer.Stop()
		// Watch before collecting again, so that an append after the first collect wakes the loop.
		w := newFetchWaiter()
		b.topics.watch(w)
		defer b.topics.unwatch(w)
		for _, sp := range f.parts {
			if p := b.topics.partition(sp.topic, sp.partition); p != nil {
				p.watch(w)
				defer p.unwatch(w)
			}
		}
		for {
			if f.collect() >= int(req.MinBytes) {
				return f.finish(resp)
			}
			select {
			case <-w.ch:
			case <-timer.C:
				return f.finish(resp)
			case <-r.ctx.Done():
				return f.finish(resp)
			}
		}
	})
}

// fetch is one Fetch request's work: read each partition, possibly several times while long polling.
type fetch struct {
	b           *Broker
	req         *kmsg.FetchRequest
	parts       []sessionPart
	incremental bool
	sess        *fetchSession
	out         []fetchedPartition
	bufs        [][]byte // pooled buffers holding out's batches
}

// alloc hands the logs pooled buffers to read into, and remembers them for release.
func (f *fetch) alloc(n int) []byte {
	b := getBuffer(n)
	f.bufs = append(f.bufs, b)
	return b
}

type fetchedPartition struct {
	p                 *partition // nil if it does not exist
	code              int16
	hw, lso, logStart int64
	batches           []byte
	aborted           []storage.AbortedTxn // read_committed only
}

// collect reads every partition and returns the number of record bytes found.
func (f *fetch) collect() int {
	f.out = f.out[:0]
	for _, b := range f.bufs {
		putBuffer(b)
	}
	f.bufs = f.bufs[:0]
	budget := int(f.req.MaxBytes)
	if f.req.Version < 3 || budget <= 0 {
		budget = 50 << 20
	}
	total := 0
	for _, sp := range f.parts {
		var fp fetchedPartition
		fp.hw, fp.lso, fp.logStart = -1, -1, -1
		p := f.b.topics.partition(sp.topic, sp.partition)
		fp.p = p
		switch {
		case p == nil:
			fp.code = kerr.UnknownTopicOrPartition.Code
		case sp.leaderEpoch >= 0 && sp.leaderEpoch > leaderEpoch:
			fp.code = kerr.UnknownLeaderEpoch.Code
		case sp.leaderEpoch >= 0 && sp.leaderEpoch < leaderEpoch:
			fp.code = kerr.FencedLeaderEpoch.Code
		default:
			// The stable offset first: it is at most the end offset read after it.
			fp.lso = p.log.LastStableOffset()
			fp.hw, fp.logStart = p.log.EndOffset(), p.log.StartOffset()
			upTo := fp.hw
			if f.req.IsolationLevel == 1 {
				upTo = fp.lso
			}
			limit := min(int(sp.maxBytes), budget)
			if limit > 0 || total == 0 {
				data, err := p.log.ReadWith(sp.fetchOffset, max(limit, 1), upTo, f.alloc)
				switch {
				case errors.Is(err, storage.ErrOffsetOutOfRange):
					fp.code = kerr.OffsetOutOfRange.Code
				case err != nil:
					fp.code = kerr.KafkaStorageError.Code
					f.b.logger.Error("fetch read failed", "topic", sp.topic, "partition", sp.partition, "err", err)
				default:
					fp.batches = data
					total += len(data)
					budget -= len(data)
					if f.req.IsolationLevel == 1 && len(data) > 0 {
						fp.aborted = p.log.AbortedTransactions(sp.fetchOffset, endOffsetOf(data))
					}
				}
			}
		}
		f.out = append(f.out, fp)
	}
	return total
}

// finish builds the response from the last collect and updates the session's view of what the client knows.
// The response holds the fetch's pooled buffers; the connection's writer releases them.
func (f *fetch) finish(resp *kmsg.FetchResponse) kmsg.Response {
	if f.sess != nil {
		defer f.b.sessions.release(f.sess)
	}
	var cur *kmsg.FetchResponseTopic
	for i, sp := range f.parts {
		fp := f.out[i]
		if f.sess != nil {
			cached := f.sess.index[sp.tp]
			changed := !cached.sent || fp.code != 0 || len(fp.batches) > 0 || fp.hw != cached.sentHW ||
				fp.lso != cached.sentLSO || fp.logStart != cached.sentLogStart
			cached.sent, cached.sentHW, cached.sentLSO, cached.sentLogStart = true, fp.hw, fp.lso, fp.logStart
			if f.incremental && !changed {
				continue
			}
		}
		if cur == nil || cur.Topic != sp.topic {
			resp.Topics = append(resp.Topics, kmsg.NewFetchResponseTopic())
			cur = &resp.Topics[len(resp.Topics)-1]
			cur.Topic = sp.topic
		}
		rp := kmsg.NewFetchResponseTopicPartition()
		rp.Partition = sp.partition
		rp.ErrorCode = fp.code
		rp.HighWatermark, rp.LastStableOffset, rp.LogStartOffset = fp.hw, fp.lso, fp.logStart
		for _, a := range fp.aborted {
			at := kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
			at.ProducerID, at.FirstOffset = a.ProducerID, a.FirstOffset
			rp.AbortedTransactions = append(rp.AbortedTransactions, at)
		}
		rp.RecordBatches = fp.batches
		if len(fp.batches) > 0 {
			fp.p.metrics.bytesOut.Add(float64(len(fp.batches)))
		}
		if rp.RecordBatches == nil {
			// An empty record set, not a null one: some clients (kafka-python) fail on null.
			rp.RecordBatches = []byte{}
		}
		cur.Partitions = append(cur.Partitions, rp)
	}
	return &fetchResponse{FetchResponse: resp, bufs: f.bufs}
}

// endOffsetOf returns the offset after the last record of whole batches read from a log.
func endOffsetOf(data []byte) int64 {
	end := int64(-1)
	for len(data) > 0 {
		batch, rest, err := records.Next(data)
		if err != nil {
			break
		}
		if h, err := records.ParseHeader(batch); err == nil {
			end = h.LastOffset() + 1
		}
		data = rest
	}
	return end
}
