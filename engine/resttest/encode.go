package resttest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/sql/qtt"
	"github.com/seichedb/seiche/sql/types"
)

// The encoding of test records into Kafka bytes and back follows sql/qtt's runner (encodeJSON,
// decodeOutput), which keeps those helpers unexported; these are the same rules, written against
// topicInfo instead of the QTT executor. Serialization itself is package sql/format's.

// encodeInput turns a test input into the Kafka record ksqlDB's runner produces with the serializers
// of the source over its topic: the key and value in their formats, a windowed key with its window
// appended (Kafka Streams' TimeWindowedSerializer / SessionWindowedSerializer), the timestamp (0
// when missing) and the headers.
func encodeInput(in Record, ti topicInfo) (*kgo.Record, error) {
	rec := &kgo.Record{Topic: in.Topic, Timestamp: time.UnixMilli(0)}
	if in.Timestamp != "" {
		ts, err := in.Timestamp.Int64()
		if err != nil {
			return nil, fmt.Errorf("timestamp: %w", err)
		}
		rec.Timestamp = time.UnixMilli(ts)
	}
	if !isNull(in.Headers) {
		var hs []struct {
			Key   string  `json:"KEY"`
			Value *[]byte `json:"VALUE"`
		}
		if err := json.Unmarshal(in.Headers, &hs); err != nil {
			return nil, fmt.Errorf("headers: %w", err)
		}
		for _, h := range hs {
			hdr := kgo.RecordHeader{Key: h.Key}
			if h.Value != nil {
				hdr.Value = *h.Value
			}
			rec.Headers = append(rec.Headers, hdr)
		}
	}
	var err error
	if rec.Key, err = encodeJSON(in.Key, ti.keyFormat, ti.keyCols, true); err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	if ti.window != "" && rec.Key != nil && !isNull(in.Window) {
		var w struct{ Start, End int64 }
		if err := json.Unmarshal(in.Window, &w); err != nil {
			return nil, fmt.Errorf("window: %w", err)
		}
		if ti.window == "SESSION" {
			rec.Key = binary.BigEndian.AppendUint64(rec.Key, uint64(w.End))
		}
		rec.Key = binary.BigEndian.AppendUint64(rec.Key, uint64(w.Start))
	}
	if rec.Value, err = encodeJSON(in.Value, ti.valueFormat, ti.valueCols, false); err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	return rec, nil
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// encodeJSON turns a test record's JSON key or value into the bytes fm writes for it, as sql/qtt does;
// a KAFKA value with no single column to type it by is, when a JSON string, its UTF-8 text.
func encodeJSON(raw json.RawMessage, fm string, cols []types.Column, isKey bool) ([]byte, error) {
	if fm == "KAFKA" && len(cols) != 1 && !isNull(raw) {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return []byte(s), nil
		}
	}
	return qtt.EncodeJSON(raw, fm, cols, isKey)
}

// window is a windowed key's window.
type window struct {
	Start, End int64
}

// decodedRecord is a record read back from a topic, decoded for comparison with an expected one.
type decodedRecord struct {
	key, value any
	ts         int64
	win        *window
	err        error
}

func (r decodedRecord) String() string {
	s := fmt.Sprintf("key=%s value=%s ts=%d", render(r.key), render(r.value), r.ts)
	if r.win != nil {
		s += fmt.Sprintf(" window=[%d,%d]", r.win.Start, r.win.End)
	}
	if r.err != nil {
		s += " (" + r.err.Error() + ")"
	}
	return s
}

func render(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// decodeRecord decodes a record of a topic with ti's formats.
func decodeRecord(r *kgo.Record, ti topicInfo) decodedRecord {
	d := decodedRecord{ts: r.Timestamp.UnixMilli()}
	kb := r.Key
	if ti.window != "" && kb != nil {
		w := &window{}
		if ti.window == "SESSION" && len(kb) >= 16 {
			w.End = int64(binary.BigEndian.Uint64(kb[len(kb)-16:]))
			w.Start = int64(binary.BigEndian.Uint64(kb[len(kb)-8:]))
			kb = kb[:len(kb)-16]
		} else if len(kb) >= 8 {
			w.Start = int64(binary.BigEndian.Uint64(kb[len(kb)-8:]))
			w.End = w.Start + ti.windowSize
			kb = kb[:len(kb)-8]
		}
		d.win = w
	}
	var err error
	if d.key, err = decodeBytes(kb, ti.keyFormat, ti.keyCols, true); err != nil {
		d.err = fmt.Errorf("key: %w", err)
	}
	if d.value, err = decodeBytes(r.Value, ti.valueFormat, ti.valueCols, false); err != nil && d.err == nil {
		d.err = fmt.Errorf("value: %w", err)
	}
	return d
}

// decodeBytes turns a key or value into a JSON-like value (numbers as json.Number) to compare.
func decodeBytes(b []byte, fm string, cols []types.Column, isKey bool) (any, error) {
	return qtt.DecodeOutput(b, fm, cols, isKey)
}
