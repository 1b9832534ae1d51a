package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
)

// Key layout (see doc.go for the full picture). Every key of a task's stores starts with the task
// prefix, so a task can be dropped or handed over with one DeleteRange.
const (
	tagFormat byte = 0x00 // database-level metadata
	tagTask   byte = 0x74 // 't': application / task / store keys

	storeMeta byte = 0x00 // after the store prefix: store metadata
	storeData byte = 0x01 // after the store prefix: the store's data

	metaKind       byte = 'k' // store kind, one byte
	metaCheckpoint byte = 'c' // + be32 partition: be64 changelog offset
	metaTime       byte = 't' // observed stream time and next sequence number (window, session)
)

const signBit = 1 << 63

var errMalformedKey = errors.New("state: malformed key")

// appendString appends s with a uvarint length, so that no encoded string is a prefix of another.
func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appPrefix(app string) []byte {
	return appendString([]byte{tagTask}, app)
}

func taskPrefix(app, task string) []byte {
	return appendString(appPrefix(app), task)
}

func storePrefix(app, task, store string) []byte {
	return appendString(taskPrefix(app, task), store)
}

// prefixEnd returns the smallest key greater than every key with prefix p, or nil if there is none.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// appendTime appends t so that byte order matches signed integer order.
func appendTime(b []byte, t int64) []byte {
	return binary.BigEndian.AppendUint64(b, uint64(t)^signBit)
}

func readTime(b []byte) int64 {
	return int64(binary.BigEndian.Uint64(b) ^ signBit)
}

// appendEscaped appends key in an order-preserving, prefix-free encoding: 0x00 becomes 0x00 0xff and
// the key ends with 0x00 0x01. Encoded keys compare like the raw keys, and a key followed by more
// fields never sorts into another key's range.
func appendEscaped(b, key []byte) []byte {
	for {
		i := bytes.IndexByte(key, 0)
		if i < 0 {
			break
		}
		b = append(b, key[:i+1]...)
		b = append(b, 0xff)
		key = key[i+1:]
	}
	b = append(b, key...)
	return append(b, 0x00, 0x01)
}

// readEscaped decodes a key written by appendEscaped, appending it to dst, and returns it with the
// bytes after it.
func readEscaped(dst, b []byte) (key, rest []byte, err error) {
	key = dst[:0]
	for i := 0; i+1 < len(b); i++ {
		if b[i] != 0 {
			key = append(key, b[i])
			continue
		}
		switch b[i+1] {
		case 0xff:
			key = append(key, 0)
			i++
		case 0x01:
			if key == nil {
				key = []byte{} // an empty key, not a missing one
			}
			return key, b[i+2:], nil
		default:
			return nil, nil, errMalformedKey
		}
	}
	return nil, nil, errMalformedKey
}

// floorDiv divides rounding towards negative infinity, so segments of negative times are contiguous.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// addSat adds without overflowing.
func addSat(a, b int64) int64 {
	s := a + b
	if b > 0 && s < a {
		return math.MaxInt64
	}
	if b < 0 && s > a {
		return math.MinInt64
	}
	return s
}
