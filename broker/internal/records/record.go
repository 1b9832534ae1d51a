package records

import (
	"encoding/binary"
	"fmt"
)

// Record is one record of a batch, with its fields relative to the batch header as on the wire.
// Key and Value are nil for a null key or value (a tombstone has a nil Value).
type Record struct {
	Attributes     int8
	TimestampDelta int64
	OffsetDelta    int32
	Key            []byte
	Value          []byte
	Headers        []RecordHeader
}

// RecordHeader is one record header.
type RecordHeader struct {
	Key   string
	Value []byte
}

// Decode verifies a batch and decodes its records, decompressing them. The returned records may alias
// batch.
func Decode(batch []byte) (Header, []Record, error) {
	h, err := Verify(batch)
	if err != nil {
		return h, nil, err
	}
	body, err := decompress(batch[HeaderSize:], h.Codec())
	if err != nil {
		return h, nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, h.Codec(), err)
	}
	// Each record takes at least 7 bytes, which bounds the count a hostile header can claim.
	if int64(h.NumRecords) > int64(len(body))/7+1 {
		return h, nil, fmt.Errorf("%w: %d records claimed in %d bytes", ErrCorrupt, h.NumRecords, len(body))
	}
	recs := make([]Record, 0, h.NumRecords)
	d := decoder{b: body}
	for i := int32(0); i < h.NumRecords; i++ {
		r, err := d.record()
		if err != nil {
			return h, nil, fmt.Errorf("%w: record %d: %v", ErrCorrupt, i, err)
		}
		recs = append(recs, r)
	}
	if len(d.b) != 0 {
		return h, nil, fmt.Errorf("%w: %d bytes after the last record", ErrCorrupt, len(d.b))
	}
	return h, recs, nil
}

// Encode appends a batch of recs to dst with h's base offset, leader epoch, attributes (except the
// codec), timestamps and producer fields, compressed with codec. It sets the length, record count, last
// offset delta (from the last record) and CRC.
func Encode(dst []byte, h Header, recs []Record, codec Codec) ([]byte, error) {
	start := len(dst)
	dst = append(dst, make([]byte, HeaderSize)...)
	hb := dst[start:]
	binary.BigEndian.PutUint64(hb[offBaseOffset:], uint64(h.BaseOffset))
	binary.BigEndian.PutUint32(hb[offLeaderEpoch:], uint32(h.PartitionLeaderEpoch))
	hb[offMagic] = 2
	attrs := h.Attributes&^attrCodecMask | int16(codec)
	binary.BigEndian.PutUint16(hb[offAttributes:], uint16(attrs))
	lastDelta := h.LastOffsetDelta
	if len(recs) > 0 {
		lastDelta = recs[len(recs)-1].OffsetDelta
	}
	binary.BigEndian.PutUint32(hb[offLastOffsetDelta:], uint32(lastDelta))
	binary.BigEndian.PutUint64(hb[offFirstTimestamp:], uint64(h.FirstTimestamp))
	binary.BigEndian.PutUint64(hb[offMaxTimestamp:], uint64(h.MaxTimestamp))
	binary.BigEndian.PutUint64(hb[offProducerID:], uint64(h.ProducerID))
	binary.BigEndian.PutUint16(hb[offProducerEpoch:], uint16(h.ProducerEpoch))
	binary.BigEndian.PutUint32(hb[offBaseSequence:], uint32(h.BaseSequence))
	binary.BigEndian.PutUint32(hb[offNumRecords:], uint32(len(recs)))

	var body []byte
	for i := range recs {
		body = AppendRecord(body, &recs[i])
	}
	if codec == None {
		dst = append(dst, body...)
	} else {
		var err error
		if dst, err = compress(dst, body, codec); err != nil {
			return nil, err
		}
	}
	batch := dst[start:]
	binary.BigEndian.PutUint32(batch[offLength:], uint32(len(batch)-LogOverhead))
	fixCRC(batch)
	return dst, nil
}

// AppendRecord appends r's wire form (length-prefixed) to dst.
func AppendRecord(dst []byte, r *Record) []byte {
	var body [binary.MaxVarintLen64 * 4]byte
	n := 0
	body[n] = byte(r.Attributes)
	n++
	n += binary.PutVarint(body[n:], r.TimestampDelta)
	n += binary.PutVarint(body[n:], int64(r.OffsetDelta))
	size := n + bytesLen(r.Key) + bytesLen(r.Value) + varintLen(int64(len(r.Headers)))
	for _, h := range r.Headers {
		size += varintLen(int64(len(h.Key))) + len(h.Key) + bytesLen(h.Value)
	}
	dst = binary.AppendVarint(dst, int64(size))
	dst = append(dst, body[:n]...)
	dst = appendBytes(dst, r.Key)
	dst = appendBytes(dst, r.Value)
	dst = binary.AppendVarint(dst, int64(len(r.Headers)))
	for _, h := range r.Headers {
		dst = binary.AppendVarint(dst, int64(len(h.Key)))
		dst = append(dst, h.Key...)
		dst = appendBytes(dst, h.Value)
	}
	return dst
}

func varintLen(v int64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutVarint(b[:], v)
}

func bytesLen(b []byte) int {
	if b == nil {
		return 1
	}
	return varintLen(int64(len(b))) + len(b)
}

func appendBytes(dst, b []byte) []byte {
	if b == nil {
		return binary.AppendVarint(dst, -1)
	}
	dst = binary.AppendVarint(dst, int64(len(b)))
	return append(dst, b...)
}

type decoder struct{ b []byte }

func (d *decoder) varint() (int64, error) {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		return 0, fmt.Errorf("bad varint")
	}
	d.b = d.b[n:]
	return v, nil
}

func (d *decoder) bytes() ([]byte, error) {
	n, err := d.varint()
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, nil
	}
	if n > int64(len(d.b)) {
		return nil, fmt.Errorf("%d bytes claimed, %d left", n, len(d.b))
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v, nil
}

func (d *decoder) record() (Record, error) {
	var r Record
	size, err := d.varint()
	if err != nil {
		return r, err
	}
	if size < 0 || size > int64(len(d.b)) {
		return r, fmt.Errorf("record length %d, %d bytes left", size, len(d.b))
	}
	rd := decoder{b: d.b[:size]}
	d.b = d.b[size:]
	if len(rd.b) < 1 {
		return r, fmt.Errorf("empty record")
	}
	r.Attributes = int8(rd.b[0])
	rd.b = rd.b[1:]
	if r.TimestampDelta, err = rd.varint(); err != nil {
		return r, err
	}
	od, err := rd.varint()
	if err != nil {
		return r, err
	}
	r.OffsetDelta = int32(od)
	if r.Key, err = rd.bytes(); err != nil {
		return r, err
	}
	if r.Value, err = rd.bytes(); err != nil {
		return r, err
	}
	nh, err := rd.varint()
	if err != nil {
		return r, err
	}
	if nh < 0 || nh > int64(len(rd.b)) {
		return r, fmt.Errorf("%d headers claimed", nh)
	}
	if nh > 0 {
		r.Headers = make([]RecordHeader, 0, nh)
	}
	for i := int64(0); i < nh; i++ {
		k, err := rd.bytes()
		if err != nil {
			return r, err
		}
		v, err := rd.bytes()
		if err != nil {
			return r, err
		}
		r.Headers = append(r.Headers, RecordHeader{Key: string(k), Value: v})
	}
	if len(rd.b) != 0 {
		return r, fmt.Errorf("%d bytes after the record's fields", len(rd.b))
	}
	return r, nil
}
