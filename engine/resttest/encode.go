package resttest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/qtt"
)

// Test records are encoded into Kafka records and decoded back as sql/qtt does for QTT files
// (qtt.Encoding); these convert between its records and franz-go's.

// encodeInput turns a test input into the Kafka record ksqlDB's runner produces (qtt.EncodeRecord).
func encodeInput(in Record, enc qtt.Encoding) (*kgo.Record, error) {
	r, err := qtt.EncodeRecord(in, enc)
	if err != nil {
		return nil, err
	}
	return &kgo.Record{Topic: r.Topic, Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: time.UnixMilli(r.Timestamp)}, nil
}

// decodeRecord decodes a record of a topic with enc (qtt.DecodeRecord).
func decodeRecord(r *kgo.Record, enc qtt.Encoding) qtt.Decoded {
	return qtt.DecodeRecord(runtime.RawRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: r.Key,
		Value: r.Value, Headers: r.Headers, Timestamp: r.Timestamp.UnixMilli()}, enc)
}

func isNull(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

func render(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
