// Package broker is Seiche's Kafka-wire-compatible broker: one node, durable on local disk, speaking the
// Kafka protocol so that every Kafka client works against it unchanged.
//
// # What it owns
//
//   - The network server: one goroutine reads a connection's requests in order, handlers answer them, and
//     one goroutine writes the responses back in request order. Requests that wait (Fetch long polls,
//     JoinGroup, acks=all Produce) do their waiting off the read goroutine, so a connection keeps
//     pipelining; everything that must be ordered (appends, group membership changes) happens in
//     arrival order.
//   - One handler file per Kafka API key, named NN_name.go, each registering its version range in init.
//   - Topic metadata: topics, partition counts, topic IDs and per-topic configs.
//
// The partition log lives in internal/storage (segments of RecordBatch v2 exactly as produced, indexes,
// recovery, retention, compaction, idempotent and transactional producer state, the last stable offset
// and the aborted-transaction index), the record batch codec in internal/records, the consumer group
// coordinator in internal/group and the transaction coordinator in internal/txn.
//
// # Transactions
//
// Transactions work as in Kafka (KIP-98, KIP-447, KIP-890 part 1): the coordinator in internal/txn
// decides them, this package verifies each transactional produce against it and writes the commit or
// abort markers (control batches) to the partitions, and the group coordinator holds transactional
// offsets pending until the commit. Fetch with read_committed stops at the last stable offset and lists
// the aborted transactions in what it returns. Kafka's internal topics __consumer_offsets and
// __transaction_state are listed in Metadata (IsInternal) but are not logs here: committed offsets and
// the transaction coordinator's state live in the metadata store.
//
// # Metadata
//
// Topic metadata, committed group offsets, the producer ID block and the cluster ID persist in one Pebble
// database under <data-dir>/meta, written with pebble.Sync before a request that changed them is answered.
// Pebble was chosen over a metadata log because the state is small, keyed and updated in place (committed
// offsets are overwritten thousands of times a second), which an LSM with a WAL does well and a log would
// need compaction and snapshots for. Keys are prefixed by owner: "t/" topics, "p/" producer IDs, "c/"
// cluster, "g/" the group coordinator, "x/" the transaction coordinator. Partition data is never stored
// in Pebble.
//
// Partition logs live in <data-dir>/logs/<topic>-<partition>/.
//
// # What it never does
//
// A malformed frame or request closes that one connection and is logged; it never stops the broker or
// affects another connection. The broker never re-encodes a stored batch to serve a Fetch. Replication is
// out of scope: at scale Seiche runs against an external Kafka-compatible cluster instead. SASL and ACLs
// are not implemented yet; the request dispatch leaves room for them.
package broker
