package nexmark

import (
	"slices"

	"github.com/seichedb/seiche/runtime"
)

// packedRecords are records laid out without pointers but for one byte array and the topic names:
// every key and value in data, and per record its topic's index and the offsets of its bytes. The
// runner keeps the generated events alive for all its rounds, and as []runtime.RawRecord (three
// pointers a record) every garbage collection of the measured code would mark them all, which
// charges the harness's memory to the query under test. Packed, a collection marks three objects.
type packedRecords struct {
	topics []string
	recs   []packedRecord
	data   []byte
}

// packedRecord is a record of packedRecords. A length of -1 is a nil key or value.
type packedRecord struct {
	topic          int32
	keyLen, valLen int32
	keyOff, valOff int
	timestamp      int64
}

// pack lays out recs, which must have no headers (the generator writes none).
func pack(recs []runtime.RawRecord) packedRecords {
	var p packedRecords
	p.recs = make([]packedRecord, 0, len(recs))
	size := 0
	for _, r := range recs {
		size += len(r.Key) + len(r.Value)
	}
	p.data = make([]byte, 0, size)
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

// unpack returns every record as a runtime.RawRecord.
func (p packedRecords) unpack() []runtime.RawRecord {
	return p.appendTo(make([]runtime.RawRecord, 0, p.Len()), 0, p.Len())
}

// only returns the records whose topic is among topics, in order, sharing p's bytes.
func (p packedRecords) only(topics []string) packedRecords {
	out := packedRecords{topics: p.topics, data: p.data, recs: make([]packedRecord, 0, len(p.recs))}
	for _, r := range p.recs {
		if slices.Contains(topics, p.topics[r.topic]) {
			out.recs = append(out.recs, r)
		}
	}
	return out
}
