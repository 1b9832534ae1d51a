package records

import (
	"encoding/binary"
	"fmt"
)

// ControlType is the type of a control record, the key of the single record in a control batch.
type ControlType int16

// Control record types, as in Kafka's ControlRecordType.
const (
	ControlAbort  ControlType = 0
	ControlCommit ControlType = 1
)

// ControlUnknown is returned for a control batch whose record this package does not recognise.
const ControlUnknown ControlType = -1

// ParseControl returns the type of the control record in a control batch (uncompressed, as the broker
// writes them). Its header need not be checked first.
func ParseControl(batch []byte) (ControlType, error) {
	h, recs, err := Decode(batch)
	if err != nil {
		return ControlUnknown, err
	}
	if !h.Control() || len(recs) != 1 || len(recs[0].Key) < 4 {
		return ControlUnknown, fmt.Errorf("%w: not a control batch", ErrCorrupt)
	}
	if v := int16(binary.BigEndian.Uint16(recs[0].Key)); v != 0 {
		return ControlUnknown, nil
	}
	return ControlType(binary.BigEndian.Uint16(recs[0].Key[2:])), nil
}

// EncodeMarker returns a transaction marker batch: a transactional control batch from the producer
// holding one commit or abort record with the coordinator's epoch, timestamped ts. Its base offset is
// left 0 for the log to assign.
func EncodeMarker(pid int64, epoch int16, commit bool, coordinatorEpoch int32, ts int64) []byte {
	typ := ControlAbort
	if commit {
		typ = ControlCommit
	}
	key := binary.BigEndian.AppendUint16(make([]byte, 2, 4), uint16(typ))
	value := binary.BigEndian.AppendUint32(make([]byte, 2, 6), uint32(coordinatorEpoch))
	h := Header{
		Attributes:     attrTransactional | attrControl,
		FirstTimestamp: ts,
		MaxTimestamp:   ts,
		ProducerID:     pid,
		ProducerEpoch:  epoch,
		BaseSequence:   -1,
	}
	// Only compression can fail to encode, and a marker is not compressed.
	b, _ := Encode(nil, h, []Record{{Key: key, Value: value}}, None)
	return b
}
