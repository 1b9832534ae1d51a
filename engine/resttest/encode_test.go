package resttest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestEncodeInput(t *testing.T) {
	stmts := []string{
		"CREATE STREAM S (K INT KEY, V STRING) WITH (kafka_topic='ints', value_format='DELIMITED');",
		"CREATE TABLE W (K BIGINT PRIMARY KEY, ID INT) WITH (kafka_topic='sessions', value_format='JSON', WINDOW_TYPE='Session');",
		"CREATE TABLE T (K DOUBLE PRIMARY KEY, ID INT) WITH (kafka_topic='tumbling', value_format='JSON', WINDOW_TYPE='Tumbling', WINDOW_SIZE='1 SECOND', PARTITIONS=3);",
		"CREATE TABLE AGG AS SELECT K, COUNT(1) AS N FROM S GROUP BY K;",
		"this is not SQL;",
	}
	cat := analyze(stmts, nil)
	if got := cat.topics(); len(got) != 4 {
		t.Errorf("source topics %v, want ints, sessions, tumbling and AGG's", got)
	}

	tests := []struct {
		name, in  string
		key, val  []byte
		ts        int64
		headerVal []byte
	}{
		{"KAFKA INT key, DELIMITED value", `{"topic":"ints","key":1,"value":"a1","timestamp":12345}`, []byte{0, 0, 0, 1}, []byte("a1"), 12345, nil},
		{"null key, tombstone, no timestamp", `{"topic":"ints","value":null}`, nil, nil, 0, nil},
		{"session window: end then start", `{"topic":"sessions","key":11,"value":{"id":100},"window":{"start":12345,"end":34555,"type":"session"}}`,
			append(append([]byte{0, 0, 0, 0, 0, 0, 0, 11}, be64(34555)...), be64(12345)...), []byte(`{"id":100}`), 0, nil},
		{"time window: start", `{"topic":"tumbling","key":11.5,"value":{"id":1},"window":{"start":11000,"end":12000,"type":"time"}}`,
			append([]byte{0x40, 0x27, 0, 0, 0, 0, 0, 0}, be64(11000)...), []byte(`{"id":1}`), 0, nil},
		{"unknown topic: defaults", `{"topic":"other","key":"k","value":{"a": [1, 2]},"headers":[{"KEY":"abc","VALUE":"IQ=="}]}`,
			[]byte("k"), []byte(`{"a":[1,2]}`), 0, []byte("!")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in Record
			if err := json.Unmarshal([]byte(tt.in), &in); err != nil {
				t.Fatal(err)
			}
			rec, err := encodeInput(in, cat.info(in.Topic, nil))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(rec.Key, tt.key) || !bytes.Equal(rec.Value, tt.val) {
				t.Errorf("key %x value %q, want %x %q", rec.Key, rec.Value, tt.key, tt.val)
			}
			if !rec.Timestamp.Equal(time.UnixMilli(tt.ts)) {
				t.Errorf("timestamp %v, want %d", rec.Timestamp, tt.ts)
			}
			if tt.headerVal != nil && (len(rec.Headers) != 1 || rec.Headers[0].Key != "abc" || !bytes.Equal(rec.Headers[0].Value, tt.headerVal)) {
				t.Errorf("headers %+v", rec.Headers)
			}
			// What was written reads back as the test wrote it.
			d := decodeRecord(rec, cat.info(in.Topic, nil))
			if d.Err != nil || !recordMatches(d.Key, decodeExpected(in.Key)) || !recordMatches(d.Value, decodeExpected(in.Value)) {
				t.Errorf("decoded %s", d)
			}
		})
	}
}

func be64(v uint64) []byte {
	b := make([]byte, 8)
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
	return b
}
