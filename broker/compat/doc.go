// Package compat is Seiche's third-party client compatibility matrix: every client the README promises
// (franz-go, IBM/sarama, segmentio/kafka-go, librdkafka through kcat, kafkajs, kafka-python and
// confluent-kafka-python) is driven through the same scenarios against a real broker started in-process
// by brokertest.
//
// # What it owns
//
// Only tests. It is its own Go module so that the product's go.mod carries only what the product uses;
// the root module's `go test ./...` does not descend into it. Run it with
//
//	cd broker/compat && go test ./... -count=1
//
// Every client runs the same cells, each on a fresh broker and a fresh 4-partition topic:
//
//   - produce: the client produces keyed records; a reference reader (franz-go) finds exactly those
//     values, and, where the client is configured as an idempotent producer, a producer ID on every batch.
//   - consume: records produced by the reference client are read back from the beginning of every
//     partition, with exact values in per-partition order. One partition is left empty, so the client
//     must take an empty record set in its stride.
//   - group_rebalance: one group member consumes everything, a second member joins, the broker's
//     DescribeGroups shows both owning partitions, and together they see every record.
//   - commit_resume: a group member consumes and commits, then a new member of the same group sees only
//     records produced after the commit.
//
// Clients reach the broker through a proxy that the broker advertises as its own address, so that each
// cell logs (go test -v) the API versions the client under test actually sent. Clients that pick
// versions from a configured Kafka version (sarama, franz-go pinned) run the matrix at several.
//
// The external clients are driven through small programs under testdata/ that speak one line protocol
// (see testdata/README.md). A client that is not installed skips its tests with the command that
// installs it; .ci/run installs them all.
//
// # What it never does
//
// It never changes the broker to suit a client, and never sleeps a fixed time waiting for a state that
// can be polled.
package compat
