package broker

import (
	"errors"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/broker/internal/share"
)

// ShareFetch v1+ (v0 was Kafka 4.0's early access); v2 adds renew acknowledgements (KIP-1222).
func init() { register(78, 1, 2, handleShareFetch) }

// ackPart is the acknowledgements of one partition in a ShareFetch or ShareAcknowledge.
type ackPart struct {
	tp      shareTP
	batches []ackBatch
}

type ackBatch struct {
	first, last int64
	types       []int8
}

// handleShareFetch acknowledges what the request carries, then acquires records for the member from
// every partition of its share session, waiting up to MaxWaitMillis when none is available.
func handleShareFetch(r *request) result {
	b := r.c.b
	req := r.kreq.(*kmsg.ShareFetchRequest)
	resp := req.ResponseKind().(*kmsg.ShareFetchResponse)
	group, member := deref(req.GroupID), deref(req.MemberID)
	fail := func(err *kerr.Error, msg string) result {
		resp.ErrorCode = err.Code
		if msg != "" {
			resp.ErrorMessage = &msg
		}
		return respond(resp)
	}
	switch {
	case group == "":
		return fail(kerr.InvalidGroupID, "GroupId can't be empty.")
	case member == "" || len(member) > 36:
		return fail(kerr.InvalidRequest, "MemberId must be a UUID.")
	case req.IsRenewAck && (req.MaxBytes != 0 || req.MinBytes != 0 || req.MaxRecords != 0 || req.MaxWaitMillis != 0):
		return fail(kerr.InvalidRequest, "A renew acknowledgement fetches nothing: its fetch parameters must be 0.")
	case b.groups.GroupType(group) != "" && b.groups.GroupType(group) != "share":
		return fail(kerr.GroupIDNotFound, "Group "+group+" is not a share group.")
	}
	lim := b.shareLimits(group)
	resp.AcquisitionLockTimeoutMillis = int32(lim.Lock.Milliseconds())

	var add, forget []shareTP
	var acks []ackPart
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			tp := shareTP{t.TopicID, p.Partition}
			add = append(add, tp)
			if len(p.AcknowledgementBatches) > 0 {
				ap := ackPart{tp: tp}
				for _, ab := range p.AcknowledgementBatches {
					ap.batches = append(ap.batches, ackBatch{ab.FirstOffset, ab.LastOffset, ab.AcknowledgeTypes})
				}
				acks = append(acks, ap)
			}
		}
	}
	for _, t := range req.ForgottenTopicsData {
		for _, p := range t.Partitions {
			forget = append(forget, shareTP{t.TopicID, p})
		}
	}
	if req.ShareSessionEpoch == 0 && len(acks) > 0 {
		return fail(kerr.InvalidRequest, "Acknowledgements cannot be sent when opening a share session.")
	}
	key := shareSessionKey{group, member}
	sess, err := b.shareSess.open(key, req.ShareSessionEpoch, add, forget)
	if err != nil {
		return fail(err, "")
	}

	sf := &shareFetch{b: b, resp: resp}
	for tp, code := range b.acknowledge(group, member, acks, req.IsRenewAck) {
		sf.part(tp).AcknowledgeErrorCode = code
	}
	if req.ShareSessionEpoch == -1 {
		b.releaseShareSession(group, member, sess.parts)
		return respond(resp)
	}
	parts, fresh := b.shareSess.snapshot(sess)
	for tp := range fresh {
		sf.part(tp)
	}
	if req.IsRenewAck {
		return respond(resp)
	}
	if len(parts) > 1 {
		rot := int(sess.epoch) % len(parts) // spread acquisitions over the session's partitions
		parts = append(parts[rot:], parts[:rot]...)
	}
	maxRecords := int(req.MaxRecords)
	if maxRecords <= 0 {
		maxRecords = defaultShareMaxRecords
	}
	maxBytes := int(req.MaxBytes)
	if maxBytes <= 0 {
		maxBytes = 50 << 20
	}
	sf.group, sf.member, sf.lim, sf.parts = group, member, lim, parts
	sf.maxRecords, sf.maxBytes = maxRecords, maxBytes
	sf.strict, sf.batchSize = req.ShareAcquireMode == 1, int(req.BatchSize)
	if sf.acquire() > 0 || req.MaxWaitMillis <= 0 {
		return respond(resp)
	}
	return respondLater(func() kmsg.Response {
		timer := time.NewTimer(min(time.Duration(req.MaxWaitMillis)*time.Millisecond, maxFetchWait))
		defer timer.Stop()
		w := newFetchWaiter()
		b.topics.watch(w)
		defer b.topics.unwatch(w)
		for _, tp := range parts {
			if t := b.topics.getByID(tp.id); t != nil && int(tp.p) < len(t.partitions) && tp.p >= 0 {
				p := t.partitions[tp.p]
				p.watch(w)
				defer p.unwatch(w)
			}
		}
		for {
			changed := b.shares.Changed()
			if sf.acquire() > 0 {
				return resp
			}
			select {
			case <-w.ch:
			case <-changed:
			case <-timer.C:
				return resp
			case <-r.ctx.Done():
				return resp
			}
		}
	})
}

// shareFetch is one ShareFetch's acquisition work.
type shareFetch struct {
	b          *Broker
	resp       *kmsg.ShareFetchResponse
	group      string
	member     string
	lim        share.Limits
	parts      []shareTP
	maxRecords int
	maxBytes   int
	strict     bool
	batchSize  int
}

// part returns the response entry of tp, adding it if needed.
func (sf *shareFetch) part(tp shareTP) *kmsg.ShareFetchResponseTopicPartition {
	var rt *kmsg.ShareFetchResponseTopic
	for i := range sf.resp.Topics {
		if sf.resp.Topics[i].TopicID == tp.id {
			rt = &sf.resp.Topics[i]
		}
	}
	if rt == nil {
		t := kmsg.NewShareFetchResponseTopic()
		t.TopicID = tp.id
		sf.resp.Topics = append(sf.resp.Topics, t)
		rt = &sf.resp.Topics[len(sf.resp.Topics)-1]
	}
	for i := range rt.Partitions {
		if rt.Partitions[i].Partition == tp.p {
			return &rt.Partitions[i]
		}
	}
	p := kmsg.NewShareFetchResponseTopicPartition()
	p.Partition = tp.p
	p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = -1, -1
	p.Records = []byte{}
	rt.Partitions = append(rt.Partitions, p)
	return &rt.Partitions[len(rt.Partitions)-1]
}

// acquire acquires records from the session's partitions into the response and returns how many.
func (sf *shareFetch) acquire() int {
	total, bytes := 0, 0
	for _, tp := range sf.parts {
		if total >= sf.maxRecords || bytes >= sf.maxBytes {
			break
		}
		t := sf.b.topics.getByID(tp.id)
		if t == nil {
			sf.part(tp).ErrorCode = kerr.UnknownTopicID.Code
			continue
		}
		if tp.p < 0 || int(tp.p) >= len(t.partitions) {
			sf.part(tp).ErrorCode = kerr.UnknownTopicOrPartition.Code
			continue
		}
		p := t.partitions[tp.p]
		sp, err := sf.b.sharePartition(sf.group, t, p)
		if err == nil {
			var data []byte
			var acquired []share.Acquired
			data, acquired, err = sf.b.acquireShare(sp, p, sf.member, sf.maxRecords-total, sf.strict, sf.maxBytes-bytes, sf.lim)
			if err == nil && len(acquired) > 0 {
				rp := sf.part(tp)
				rp.Records = append(rp.Records, data...)
				for _, a := range splitAcquired(acquired, sf.batchSize) {
					ar := kmsg.NewShareFetchResponseTopicPartitionAcquiredRecord()
					ar.FirstOffset, ar.LastOffset, ar.DeliveryCount = a.First, a.Last, a.Deliveries
					rp.AcquiredRecords = append(rp.AcquiredRecords, ar)
					total += int(a.Last - a.First + 1)
				}
				bytes += len(data)
				p.metrics.bytesOut.Add(float64(len(data)))
			}
		}
		if err != nil {
			sf.b.logger.Error("share fetch failed", "group", sf.group, "topic", t.name, "partition", tp.p, "err", err)
			sf.part(tp).ErrorCode = kerr.KafkaStorageError.Code
		}
	}
	return total
}

// splitAcquired cuts runs longer than batchSize (ShareFetch v1's BatchSize), so a client acknowledges
// in batches of that size.
func splitAcquired(runs []share.Acquired, batchSize int) []share.Acquired {
	if batchSize <= 0 {
		return runs
	}
	var out []share.Acquired
	for _, a := range runs {
		for first := a.First; first <= a.Last; first += int64(batchSize) {
			out = append(out, share.Acquired{First: first, Last: min(first+int64(batchSize)-1, a.Last), Deliveries: a.Deliveries})
		}
	}
	return out
}

// acknowledge applies a request's acknowledgements and returns the error code of each partition that
// had any (0 for success). RENEW is allowed only in a renew acknowledgement (KIP-1222).
func (b *Broker) acknowledge(group, member string, acks []ackPart, renew bool) map[shareTP]int16 {
	out := make(map[shareTP]int16, len(acks))
	lim := b.shareLimits(group)
	now := time.Now()
	var touched []*share.Partition
	for _, ap := range acks {
		code := int16(0)
		t := b.topics.getByID(ap.tp.id)
		var sp *share.Partition
		switch {
		case t == nil:
			code = kerr.UnknownTopicID.Code
		case ap.tp.p < 0 || int(ap.tp.p) >= len(t.partitions):
			code = kerr.UnknownTopicOrPartition.Code
		default:
			if sp = b.shares.Get(share.Key{Group: group, TopicID: ap.tp.id, Partition: ap.tp.p}); sp == nil {
				code = kerr.InvalidRecordState.Code
			}
		}
		for _, ab := range ap.batches {
			if code != 0 {
				break
			}
			for _, typ := range ab.types {
				if typ == share.AckRenew && !renew {
					code = kerr.InvalidRequest.Code
				}
			}
			if code != 0 {
				break
			}
			if !slices.Contains(touched, sp) {
				touched = append(touched, sp)
			}
			switch err := sp.Acknowledge(member, ab.first, ab.last, ab.types, now, lim); {
			case errors.Is(err, share.ErrInvalidRecordState):
				code = kerr.InvalidRecordState.Code
			case errors.Is(err, share.ErrInvalidAck):
				code = kerr.InvalidRequest.Code
			case err != nil:
				b.logger.Error("share acknowledgement failed", "group", group, "err", err)
				code = kerr.KafkaStorageError.Code
			}
		}
		out[ap.tp] = code
	}
	if err := b.shares.Persist(touched); err != nil {
		b.logger.Error("storing share acknowledgements", "group", group, "err", err)
		for tp, code := range out {
			if code == 0 {
				out[tp] = kerr.KafkaStorageError.Code
			}
		}
	}
	return out
}

// releaseShareSession makes the records member holds in parts available again: its session closed.
func (b *Broker) releaseShareSession(group, member string, parts []shareTP) {
	for _, tp := range parts {
		if sp := b.shares.Get(share.Key{Group: group, TopicID: tp.id, Partition: tp.p}); sp != nil {
			if err := sp.ReleaseMember(member); err != nil {
				b.logger.Error("releasing share records", "group", group, "member", member, "err", err)
			}
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
