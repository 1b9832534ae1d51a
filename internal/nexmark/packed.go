package nexmark

import (
	"fmt"
	"slices"
	"unsafe"

	"github.com/seichedb/seiche/runtime"
)

// packedRecords are records laid out outside the Go heap: every key and value in data, and per
// record its topic's index and the offsets of its bytes, both in memory mapped for them (the topic
// names alone are on the heap). The runner keeps the generated events for all its rounds. On the
// heap, as []runtime.RawRecord (three pointers a record), every garbage collection of the measured
// code marked them all; and even without pointers they would count towards the live heap, which sets
// how often the collector runs (GOGC): with 300,000 bids (~70 MB) kept, a round of q0 allocated less
// than the goal and never collected at all. Off the heap, the measured process's heap is the query's
// own, as a stream thread's would be, and collections come as often and cost what they would there.
//
// free unmaps the memory: no record handed out by At may be used after it.
type packedRecords struct {
	topics []string
	recs   []packedRecord
	data   []byte
	mapped [][]byte
}

// packedRecord is a record of packedRecords. A length of -1 is a nil key or value.
type packedRecord struct {
	topic          int32
	keyLen, valLen int32
	keyOff, valOff int
	timestamp      int64
}

// offHeap returns memory for n values of T, which must hold no pointers, mapped outside the Go heap.
func offHeap[T any](p *packedRecords, n int) []T {
	size := n * int(unsafe.Sizeof(*new(T)))
	if size == 0 {
		return nil
	}
	b, err := mapAnon(size)
	if err != nil {
		panic(fmt.Sprintf("nexmark: mapping %d bytes for the generated records: %v", size, err))
	}
	p.mapped = append(p.mapped, b)
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)[:0]
}

// free unmaps p's memory. p's records, and the keys and values At returned, must not be used after.
func (p *packedRecords) free() {
	for _, b := range p.mapped {
		unmapAnon(b)
	}
	*p = packedRecords{}
}

// pack lays out recs, which must have no headers (the generator writes none).
func pack(recs []runtime.RawRecord) packedRecords {
	var p packedRecords
	size := 0
	for _, r := range recs {
		size += len(r.Key) + len(r.Value)
	}
	p.recs = offHeap[packedRecord](&p, len(recs))
	p.data = offHeap[byte](&p, size)
	for _, r := range recs {
		if len(r.Headers) > 0 {
			panic("nexmark: pack: a generated record with headers")
		}
		t := slices.Index(p.topics, r.Topic)
		if t < 0 {
			t = len(p.topics)
			p.topics = append(p.topics, r.Topic)
		}
		pr := packedRecord{topic: int32(t), timestamp: r.Timestamp, keyLen: -1, valLen: -1, keyOff: len(p.data)}
		if r.Key != nil {
			pr.keyLen = int32(len(r.Key))
			p.data = append(p.data, r.Key...)
		}
		pr.valOff = len(p.data)
		if r.Value != nil {
			pr.valLen = int32(len(r.Value))
			p.data = append(p.data, r.Value...)
		}
		p.recs = append(p.recs, pr)
	}
	return p
}

// Len is the number of records.
func (p packedRecords) Len() int { return len(p.recs) }

// At returns record i. Its key and value are slices of p's bytes, capped at their length: they
// must not be modified.
func (p packedRecords) At(i int) runtime.RawRecord {
	pr := &p.recs[i]
	return runtime.RawRecord{
		Topic:     p.topics[pr.topic],
		Key:       p.bytes(pr.keyOff, pr.keyLen),
		Value:     p.bytes(pr.valOff, pr.valLen),
		Timestamp: pr.timestamp,
	}
}

func (p packedRecords) bytes(off int, n int32) []byte {
	if n < 0 {
		return nil
	}
	return p.data[off : off+int(n) : off+int(n)]
}

// appendTo appends records [lo, hi) to dst.
func (p packedRecords) appendTo(dst []runtime.RawRecord, lo, hi int) []runtime.RawRecord {
	for i := lo; i < hi; i++ {
		dst = append(dst, p.At(i))
	}
	return dst
}

// unpack returns a copy of every record on the heap, as runtime.RawRecords that stay valid after
// free.
func (p packedRecords) unpack() []runtime.RawRecord {
	out := p.appendTo(make([]runtime.RawRecord, 0, p.Len()), 0, p.Len())
	for i := range out {
		out[i].Key, out[i].Value = clone(out[i].Key), clone(out[i].Value)
	}
	return out
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// only returns the records whose topic is among topics, in order, sharing p's bytes: it must be
// freed before p, and its records not used after p is freed.
func (p packedRecords) only(topics []string) packedRecords {
	n := 0
	for _, r := range p.recs {
		if slices.Contains(topics, p.topics[r.topic]) {
			n++
		}
	}
	out := packedRecords{topics: p.topics, data: p.data}
	out.recs = offHeap[packedRecord](&out, n)
	for _, r := range p.recs {
		if slices.Contains(topics, p.topics[r.topic]) {
			out.recs = append(out.recs, r)
		}
	}
	return out
}
