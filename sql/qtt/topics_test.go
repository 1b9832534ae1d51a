package qtt

import (
	"encoding/json"
	"maps"
	"testing"
)

func TestTopicsToCreate(t *testing.T) {
	declared, err := ParseTopics([]json.RawMessage{
		json.RawMessage(`{"name": "declared", "partitions": 4, "keyFormat": "json", "valueSchema": {"type": "string"}}`),
		json.RawMessage(`{"name": "ints"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Topic{Name: "declared", Partitions: 4, KeyFormat: "JSON"}); declared[0] != want {
		t.Errorf("declared topic %+v, want %+v", declared[0], want)
	}
	if _, err := ParseTopics([]json.RawMessage{json.RawMessage(`{"name": "t", "partitions": 0}`)}); err == nil {
		t.Errorf("a topic of 0 partitions was accepted")
	}
	stmts := []string{
		"CREATE STREAM S (K INT KEY, V STRING) WITH (kafka_topic='ints', value_format='DELIMITED', partitions=2);",
		"CREATE TABLE T (K DOUBLE PRIMARY KEY, ID INT) WITH (kafka_topic='tumbling', value_format='JSON', PARTITIONS=3);",
		"CREATE STREAM NOCOLS WITH (kafka_topic='inferred', value_format='AVRO');",
		"CREATE TABLE AGG AS SELECT K, COUNT(1) AS N FROM S GROUP BY K;",
		"this is not SQL;",
		"CREATE STREAM U (V STRING) WITH (kafka_topic='unkeyed', value_format='JSON');",
	}
	got := TopicsToCreate(declared, stmts, []Record{{Topic: "out"}, {Topic: "ints"}})
	want := map[string]int32{"declared": 4, "ints": 1, "tumbling": 3, "unkeyed": 1, "out": 1}
	if !maps.Equal(got, want) {
		t.Errorf("TopicsToCreate = %v, want %v (declared first, then CREATE statements with columns, then records' topics)", got, want)
	}
}
