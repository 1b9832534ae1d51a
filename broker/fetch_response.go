package broker

import (
	"math/bits"
	"net"
	"sync"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A Fetch response is mostly record batches read from the logs. They are read into pooled buffers and
// written to the connection from there with one vectored write, together with the encoded rest of the
// response, so that serving a fetch neither allocates nor copies the batches again.

// fetchResponse is a Fetch response whose record batches sit in pooled buffers. The connection's writer
// releases them once the response is written (or dropped); used as a plain kmsg.Response, its AppendTo
// copies the batches like any other response.
type fetchResponse struct {
	*kmsg.FetchResponse
	bufs [][]byte // pooled buffers the batches were read into
}

func (r *fetchResponse) release() {
	for _, b := range r.bufs {
		putBuffer(b)
	}
	r.bufs = nil
}

// spliceMin is the smallest record set written from its own buffer; smaller ones are copied into the
// encoded response, which costs less than another element in the vectored write.
const spliceMin = 16 << 10

// splice is a record set to be written at offset at of the encoded response.
type splice struct {
	at   int
	data []byte
}

// vectorable reports whether appendFetchVectored can encode r: the versions Seiche serves, with none of
// the fields Seiche never sets (tagged fields, unknown tags, broker list). Any other response is encoded
// by kmsg.
func vectorable(r *kmsg.FetchResponse) bool {
	if r.Version < 4 || r.Version > 12 || len(r.Brokers) > 0 || r.UnknownTags.Len() > 0 {
		return false
	}
	for i := range r.Topics {
		t := &r.Topics[i]
		if t.UnknownTags.Len() > 0 {
			return false
		}
		for j := range t.Partitions {
			p := &t.Partitions[j]
			if p.UnknownTags.Len() > 0 ||
				p.DivergingEpoch.Epoch != -1 || p.DivergingEpoch.EndOffset != -1 || p.DivergingEpoch.UnknownTags.Len() > 0 ||
				p.CurrentLeader.LeaderID != -1 || p.CurrentLeader.LeaderEpoch != -1 || p.CurrentLeader.UnknownTags.Len() > 0 ||
				p.SnapshotID.EndOffset != -1 || p.SnapshotID.Epoch != -1 || p.SnapshotID.UnknownTags.Len() > 0 {
				return false
			}
			for k := range p.AbortedTransactions {
				if p.AbortedTransactions[k].UnknownTags.Len() > 0 {
					return false
				}
			}
		}
	}
	return true
}

// appendFetchVectored appends r's encoding to dst as kmsg's AppendTo would, except that each record set
// of at least spliceMin bytes is left out and recorded in splices, to be written at its offset in dst.
// REQUIRES: vectorable(r).
func appendFetchVectored(dst []byte, r *kmsg.FetchResponse, splices []splice) ([]byte, []splice) {
	flexible := r.Version >= 12
	arrayLen := func(dst []byte, n int) []byte {
		if flexible {
			return kbin.AppendCompactArrayLen(dst, n)
		}
		return kbin.AppendArrayLen(dst, n)
	}
	dst = kbin.AppendInt32(dst, r.ThrottleMillis)
	if r.Version >= 7 {
		dst = kbin.AppendInt16(dst, r.ErrorCode)
		dst = kbin.AppendInt32(dst, r.SessionID)
	}
	dst = arrayLen(dst, len(r.Topics))
	for i := range r.Topics {
		t := &r.Topics[i]
		if flexible {
			dst = kbin.AppendCompactString(dst, t.Topic)
		} else {
			dst = kbin.AppendString(dst, t.Topic)
		}
		dst = arrayLen(dst, len(t.Partitions))
		for j := range t.Partitions {
			p := &t.Partitions[j]
			dst = kbin.AppendInt32(dst, p.Partition)
			dst = kbin.AppendInt16(dst, p.ErrorCode)
			dst = kbin.AppendInt64(dst, p.HighWatermark)
			dst = kbin.AppendInt64(dst, p.LastStableOffset)
			if r.Version >= 5 {
				dst = kbin.AppendInt64(dst, p.LogStartOffset)
			}
			aborted := p.AbortedTransactions
			if flexible {
				dst = kbin.AppendCompactNullableArrayLen(dst, len(aborted), aborted == nil)
			} else {
				dst = kbin.AppendNullableArrayLen(dst, len(aborted), aborted == nil)
			}
			for k := range aborted {
				dst = kbin.AppendInt64(dst, aborted[k].ProducerID)
				dst = kbin.AppendInt64(dst, aborted[k].FirstOffset)
				if flexible {
					dst = append(dst, 0) // no tagged fields
				}
			}
			if r.Version >= 11 {
				dst = kbin.AppendInt32(dst, p.PreferredReadReplica)
			}
			batches := p.RecordBatches
			if len(batches) < spliceMin {
				if flexible {
					dst = kbin.AppendCompactNullableBytes(dst, batches)
				} else {
					dst = kbin.AppendNullableBytes(dst, batches)
				}
			} else {
				if flexible {
					dst = kbin.AppendUvarint(dst, uint32(len(batches)+1))
				} else {
					dst = kbin.AppendInt32(dst, int32(len(batches)))
				}
				splices = append(splices, splice{at: len(dst), data: batches})
			}
			if flexible {
				dst = append(dst, 0) // partition: no tagged fields
			}
		}
		if flexible {
			dst = append(dst, 0) // topic: no tagged fields
		}
	}
	if flexible {
		dst = append(dst, 0) // response: no tagged fields
	}
	return dst, splices
}

// vectorize returns the pieces of an encoded response with its splices in place, for one vectored write.
func vectorize(vec net.Buffers, encoded []byte, splices []splice) net.Buffers {
	prev := 0
	for _, s := range splices {
		vec = append(vec, encoded[prev:s.at], s.data)
		prev = s.at
	}
	return append(vec, encoded[prev:])
}

// Buffers for partition reads, pooled by power-of-two size from minPooled to maxPooled bytes; larger
// reads (a single batch over maxPooled) are allocated and left to the garbage collector.
const (
	minPooledShift = 12 // 4 KiB
	maxPooledShift = 24 // 16 MiB
)

var bufferPools [maxPooledShift - minPooledShift + 1]sync.Pool

// getBuffer returns a buffer of length n, from the pool when n is within the pooled sizes.
func getBuffer(n int) []byte {
	shift := max(minPooledShift, bits.Len(uint(n-1)))
	if n <= 0 || shift > maxPooledShift {
		return make([]byte, n)
	}
	if b, ok := bufferPools[shift-minPooledShift].Get().(*[]byte); ok {
		return (*b)[:n]
	}
	return make([]byte, n, 1<<shift)
}

// putBuffer returns a buffer from getBuffer to its pool. The caller must not use it afterwards.
func putBuffer(b []byte) {
	c := cap(b)
	shift := bits.Len(uint(c)) - 1
	if c == 0 || c != 1<<shift || shift < minPooledShift || shift > maxPooledShift {
		return
	}
	b = b[:0]
	bufferPools[shift-minPooledShift].Put(&b)
}
