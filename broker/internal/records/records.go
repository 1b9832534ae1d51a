// Package records reads and writes Kafka RecordBatch v2, the only message format the broker stores.
//
// A batch is kept as the bytes a producer sent; this package parses and checks its header, patches the
// few header fields the broker owns (base offset, partition leader epoch, log-append time), and decodes or
// re-encodes the records only when the broker must look inside (compaction, forced recompression).
//
// Layout of a batch (all integers big-endian):
//
//	baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
//	attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
//	producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records...
//
// The CRC-32C covers everything from attributes to the end, so baseOffset, batchLength and
// partitionLeaderEpoch can be patched without recomputing it.
package records

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// HeaderSize is the size of a RecordBatch v2 header, before its records.
const HeaderSize = 61

// LogOverhead is the part of the header before and including batchLength: a batch occupies
// LogOverhead + batchLength bytes.
const LogOverhead = 12

// Offsets of header fields.
const (
	offBaseOffset      = 0
	offLength          = 8
	offLeaderEpoch     = 12
	offMagic           = 16
	offCRC             = 17
	offAttributes      = 21
	offLastOffsetDelta = 23
	offFirstTimestamp  = 27
	offMaxTimestamp    = 35
	offProducerID      = 43
	offProducerEpoch   = 51
	offBaseSequence    = 53
	offNumRecords      = 57
)

// Attribute bits.
const (
	attrCodecMask     = 0x07
	attrLogAppendTime = 0x08
	attrTransactional = 0x10
	attrControl       = 0x20
	attrDeleteHorizon = 0x40
)

var (
	// ErrCorrupt reports a batch whose framing, length, CRC or records are not valid.
	ErrCorrupt = errors.New("records: corrupt record batch")
	// ErrUnsupportedMagic reports a message format older than RecordBatch v2 (magic 0 or 1).
	ErrUnsupportedMagic = errors.New("records: unsupported message format (magic < 2)")
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Header is a parsed RecordBatch v2 header.
type Header struct {
	BaseOffset           int64
	Length               int32
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	FirstTimestamp       int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	NumRecords           int32
}

// Codec returns the batch's compression codec.
func (h Header) Codec() Codec { return Codec(h.Attributes & attrCodecMask) }

// Transactional reports whether the batch belongs to a transaction.
func (h Header) Transactional() bool { return h.Attributes&attrTransactional != 0 }

// Control reports whether the batch holds a control record (transaction marker).
func (h Header) Control() bool { return h.Attributes&attrControl != 0 }

// LogAppendTime reports whether the batch's timestamps are the broker's append time.
func (h Header) LogAppendTime() bool { return h.Attributes&attrLogAppendTime != 0 }

// HasDeleteHorizon reports whether FirstTimestamp holds the compaction delete horizon (KIP-534).
func (h Header) HasDeleteHorizon() bool { return h.Attributes&attrDeleteHorizon != 0 }

// LastOffset is the offset of the batch's last record.
func (h Header) LastOffset() int64 { return h.BaseOffset + int64(h.LastOffsetDelta) }

// Size is the batch's total size in bytes.
func (h Header) Size() int { return LogOverhead + int(h.Length) }

// LastSequence is the sequence number of the batch's last record, wrapping as Kafka does.
func (h Header) LastSequence() int32 {
	if h.BaseSequence < 0 {
		return -1
	}
	return int32((int64(h.BaseSequence) + int64(h.LastOffsetDelta)) % (1 << 31))
}

// ParseHeader parses the header of the batch at the start of b without checking its CRC. b must hold at
// least HeaderSize bytes.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		if len(b) >= offMagic+1 && int8(b[offMagic]) < 2 {
			return Header{}, ErrUnsupportedMagic
		}
		return Header{}, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorrupt, len(b))
	}
	h := Header{
		BaseOffset:           int64(binary.BigEndian.Uint64(b[offBaseOffset:])),
		Length:               int32(binary.BigEndian.Uint32(b[offLength:])),
		PartitionLeaderEpoch: int32(binary.BigEndian.Uint32(b[offLeaderEpoch:])),
		Magic:                int8(b[offMagic]),
		CRC:                  binary.BigEndian.Uint32(b[offCRC:]),
		Attributes:           int16(binary.BigEndian.Uint16(b[offAttributes:])),
		LastOffsetDelta:      int32(binary.BigEndian.Uint32(b[offLastOffsetDelta:])),
		FirstTimestamp:       int64(binary.BigEndian.Uint64(b[offFirstTimestamp:])),
		MaxTimestamp:         int64(binary.BigEndian.Uint64(b[offMaxTimestamp:])),
		ProducerID:           int64(binary.BigEndian.Uint64(b[offProducerID:])),
		ProducerEpoch:        int16(binary.BigEndian.Uint16(b[offProducerEpoch:])),
		BaseSequence:         int32(binary.BigEndian.Uint32(b[offBaseSequence:])),
		NumRecords:           int32(binary.BigEndian.Uint32(b[offNumRecords:])),
	}
	if h.Magic != 2 {
		if h.Magic < 2 {
			return h, ErrUnsupportedMagic
		}
		return h, fmt.Errorf("%w: unknown magic %d", ErrCorrupt, h.Magic)
	}
	if h.Length < HeaderSize-LogOverhead {
		return h, fmt.Errorf("%w: batch length %d is shorter than a header", ErrCorrupt, h.Length)
	}
	return h, nil
}

// Verify parses and fully checks one batch: its length must match len(batch), its CRC must match, and
// its record count and last offset delta must be sane. The records themselves are not decoded.
func Verify(batch []byte) (Header, error) {
	h, err := ParseHeader(batch)
	if err != nil {
		return h, err
	}
	if h.Size() != len(batch) {
		return h, fmt.Errorf("%w: batch length %d does not match its %d bytes", ErrCorrupt, h.Size(), len(batch))
	}
	if crc := crc32.Checksum(batch[offAttributes:], castagnoli); crc != h.CRC {
		return h, fmt.Errorf("%w: CRC %08x, computed %08x", ErrCorrupt, h.CRC, crc)
	}
	if h.NumRecords < 0 || h.LastOffsetDelta < 0 || (h.NumRecords > 0 && h.LastOffsetDelta < h.NumRecords-1) {
		return h, fmt.Errorf("%w: %d records with last offset delta %d", ErrCorrupt, h.NumRecords, h.LastOffsetDelta)
	}
	return h, nil
}

// Split cuts a produce request's record set into batches. A truncated trailing batch is an error: a
// producer never sends one.
func Split(blob []byte) ([][]byte, error) {
	var out [][]byte
	for len(blob) > 0 {
		batch, rest, err := Next(blob)
		if err != nil {
			return nil, err
		}
		out = append(out, batch)
		blob = rest
	}
	return out, nil
}

// Next cuts the first batch off a non-empty record set, checking only its framing (magic and length),
// and returns it (with its capacity limited to its length) and the rest of the set.
func Next(blob []byte) (batch, rest []byte, err error) {
	if len(blob) < LogOverhead+5 {
		return nil, nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(blob))
	}
	if magic := int8(blob[offMagic]); magic < 2 {
		return nil, nil, ErrUnsupportedMagic
	}
	n := int64(int32(binary.BigEndian.Uint32(blob[offLength:]))) + LogOverhead
	if n < HeaderSize || n > int64(len(blob)) {
		return nil, nil, fmt.Errorf("%w: batch of %d bytes in %d remaining", ErrCorrupt, n, len(blob))
	}
	return blob[:n:n], blob[n:], nil
}

// SetBaseOffset patches the batch's base offset (not covered by the CRC).
func SetBaseOffset(batch []byte, off int64) {
	binary.BigEndian.PutUint64(batch[offBaseOffset:], uint64(off))
}

// SetPartitionLeaderEpoch patches the batch's partition leader epoch (not covered by the CRC).
func SetPartitionLeaderEpoch(batch []byte, epoch int32) {
	binary.BigEndian.PutUint32(batch[offLeaderEpoch:], uint32(epoch))
}

// SetMaxTimestampAndLogAppendTime marks the batch's timestamps as log-append time t, as a broker with
// message.timestamp.type=LogAppendTime does, and recomputes the CRC.
func SetMaxTimestampAndLogAppendTime(batch []byte, t int64) {
	attrs := binary.BigEndian.Uint16(batch[offAttributes:]) | attrLogAppendTime
	binary.BigEndian.PutUint16(batch[offAttributes:], attrs)
	binary.BigEndian.PutUint64(batch[offMaxTimestamp:], uint64(t))
	fixCRC(batch)
}

func fixCRC(batch []byte) {
	binary.BigEndian.PutUint32(batch[offCRC:], crc32.Checksum(batch[offAttributes:], castagnoli))
}
