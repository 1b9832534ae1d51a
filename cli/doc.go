// Package cli holds Seiche's cobra commands: server, topics, produce, consume, groups, version and test (runs
// ksqlDB's QTT and ksql-test-runner SQL tests on the synchronous test driver).
//
// The client commands (topics, produce, consume, groups) are built on franz-go's kgo and kadm and work
// against any Kafka-compatible cluster given with --bootstrap; they mirror the habits of Kafka's
// kafka-topics.sh, kafka-console-producer.sh, kafka-console-consumer.sh and kafka-consumer-groups.sh.
// The package must never reach into the broker's internals: it talks to a broker only over the wire,
// except for `server`, which embeds one.
package cli
