// Package runtime runs stream processing topologies: Seiche's Kafka Streams.
//
// # What it owns
//
//   - The topology model (Topology): source nodes reading topics or topic patterns, processor nodes,
//     sink nodes, state stores connected to processors, repartition topics, co-partitioned sources;
//     sub-topologies computed as Kafka Streams computes them; Describe printing Kafka Streams'
//     TopologyDescription text.
//   - Typed records end to end: a node forwards Record[K, V] to children that take exactly that type,
//     checked when the topology is built (a mismatch is a build error, never a per-record assertion).
//     Bytes exist only at the edges: sources deserialize, sinks serialize (package serde).
//   - Tasks: one per sub-topology and input partition number (TaskID "1_3"), each owning its
//     processors and its state (a state.Task), driven by one goroutine at a time.
//   - The App (Kafka Streams' KafkaStreams): num.stream.threads stream threads, each a consumer group
//     member with its own franz-go client; a group balancer that assigns tasks (so co-partitioned
//     partitions stay together), sticky across rebalances, carrying every member's host
//     (application.server) for pull-query routing; the processing loop (poll, process record by
//     record, punctuate, commit every commit.interval.ms and before giving partitions up); internal
//     repartition topics "<application.id>-<name>-repartition" created before the threads start,
//     without time-based retention (their records keep their input's timestamps, however old), and
//     purged below the committed offsets after commits (purge.go);
//     the start-up checks (missing source topics, co-partitioning mismatches).
//   - Event time: timestamp extractors (the record's timestamp, a function of the key and value, the
//     wall clock), stream time per task (the largest timestamp seen), and punctuation on stream time
//     and on wall-clock time with Kafka Streams' semantics.
//   - Record errors: a deserialization error handler and a processing error handler deciding
//     Continue (default) or Fail; every record error goes to the processing log (slog, and a topic
//     with ProcessingLogTopic). User code (serdes, extractors, processors, punctuators) returns
//     errors; a panic in it is recovered and becomes a processing (or deserialization) error, so a
//     bad record never crashes the process. A returned error drops the record at the failing node
//     and its siblings still see it; a panic drops what was left of the record's processing.
//   - Standby replicas (num.standby.replicas, StandbyReplicas): the balancer places copies of each
//     stateful task on other instances, which keep them up to date from the task's changelogs, so
//     that a task moving to one of them restores only the changelog's tail (standby.go).
//   - Metrics on a per-application Prometheus registry: records processed, record errors, process
//     latency, commit latency and consumer lag per task; rebalances, assigned tasks, records
//     restored and standby tasks per instance. Restores log their progress (records restored of
//     the offsets to read, and the rate).
//   - Interactive queries (Kafka Streams' IQ): App.LocalStores hands out readers of the key-value
//     stores of the instance's active tasks, App.StandbyStores of its standby copies with their
//     lag, usable from any goroutine (interactive.go).
//   - TestDriver, the synchronous driver behind dsl/dsltest (Kafka Streams' TopologyTestDriver).
//
// # Processing guarantee
//
// At-least-once (the default): a commit flushes the tasks' state (their changelog records are
// produced), waits until every produced record is acknowledged (output and changelogs), commits the
// consumed offsets, then makes the state durable locally. After a crash, records since the last
// commit are processed again. The tasks hand records to the thread's collector (collector.go) and the
// thread commits.
//
// Exactly-once (ExactlyOnceV2, Kafka Streams' exactly_once_v2, eos.go): the thread's client is a
// transactional producer (franz-go's GroupTransactSession); a commit ends the transaction with the
// output, the changelog records and the consumed offsets in it, then makes the state durable
// locally. A rebalance, a refused commit or a failure aborts the transaction and the tasks start
// again from their last commit; a fenced producer makes the thread rejoin with a new one.
//
// # Concurrency
//
// A task belongs to one stream thread. The thread's goroutine polls and processes; franz-go runs the
// rebalance callbacks (commit and suspend revoked tasks, create or resume assigned ones) on its group
// goroutine. BlockRebalanceOnPoll keeps callbacks out while the thread holds polled records, and the
// thread's mutex makes the two take turns otherwise, so a task is only ever touched by one goroutine
// at a time (DESIGN.md's one owner, with a documented lock in place of a channel: franz-go calls the
// callbacks synchronously and expects the commit done when they return).
//
// Standby tasks belong to the instance, not to a thread: one goroutine per instance opens, updates
// and checkpoints them, with its own consumer; a thread's assign callback closes the copies of the
// tasks it is given before opening them, under the standby goroutine's lock (standby.go).
//
// Interactive queries read a task's stores from other goroutines. They take turns with the task's
// goroutine on a lock of the task (task.mu), which the driver holds around each batch of records,
// punctuation, flush, commit and close, and a query around one read; see interactive.go.
//
// The group protocol is eager: a rebalance revokes everything, and tasks that come back to the same
// thread resume with their processors and stores open. Restoring state runs inside the assign
// callback; moving it off the rebalance path (and then a cooperative protocol) is later work.
//
// # What it never does
//
// It never lets a user function panic the process, never commits an offset before the output it
// caused is acknowledged (under exactly-once: outside the transaction holding that output), and
// never touches a task from two goroutines at once. It does not know the dsl: the dsl builds a
// Topology through the exported API like any other user.
package runtime
