package compat

import "testing"

// TestKafkaPython runs the matrix with kafka-python as Debian ships it (2.0.2), which has no
// idempotent producer and picks request versions from the Kafka version it guesses the broker is
// (seen: Fetch v4, ListOffsets v1, Metadata v1, JoinGroup v2, SyncGroup, Heartbeat and LeaveGroup v1,
// OffsetCommit v2, OffsetFetch v1). It fails on a null record set in a Fetch response, so its consume
// cell, whose topic has an empty partition, guards against the broker sending one.
func TestKafkaPython(t *testing.T) {
	t.Parallel()
	py, err := findPython("kafka")
	if err != nil {
		t.Skipf("no python3 can import kafka (%v): apt-get install python3-kafka (what .ci/run does)", err)
	}
	runMatrix(t, scriptClient{name: "kafka-python", argv: []string{py, "-u", "kafka_python_client.py"}})
}

// TestConfluentKafkaPython runs the matrix with confluent-kafka-python, librdkafka's Python binding,
// with its idempotent producer.
func TestConfluentKafkaPython(t *testing.T) {
	t.Parallel()
	py, err := findPython("confluent_kafka")
	if err != nil {
		t.Skipf("no python3 can import confluent_kafka (%v): apt-get install python3-confluent-kafka (what .ci/run does)", err)
	}
	runMatrix(t, scriptClient{name: "confluent-kafka-python", argv: []string{py, "-u", "confluent_kafka_client.py"}, idemp: true})
}
