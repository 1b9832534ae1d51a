// Package engine is Seiche's SQL server: the metastore, persistent, push and pull queries, and the
// ksqlDB-compatible REST API over them.
//
// # What it owns
//
//   - The metastore, replicated through a command topic ("_seiche-<service-id>-command", compacted,
//     one partition, retained forever). Every accepted DDL or DML statement (CREATE, DROP, TERMINATE,
//     INSERT INTO ... SELECT, CREATE TYPE, ...) is validated against the current catalog, appended to the
//     command topic, and executed when the command log reaches it: by this server and by every other
//     server with the same service id, and again on every start. A statement that fails when replayed is
//     logged and shown in SHOW QUERIES; a command record that cannot be decoded is logged and skipped.
//   - Persistent queries (CREATE ... AS SELECT, INSERT INTO ... SELECT): each runs as its own
//     runtime.App with application id "_seiche-<service-id>-query-<QUERY_ID>", its state in
//     <data dir>/queries/<QUERY_ID>, resuming from its committed offsets and changelogs after a restart.
//     A query that writes a table also materializes the table's rows in a store that pull queries read.
//   - Transient push queries (SELECT ... EMIT CHANGES): a runtime.App of their own whose rows go to
//     the client instead of a topic; everything they hold is released when the client goes away.
//   - Pull queries: on a table materialized by a persistent query, answered from its store (a key
//     lookup reads one partition, anything else scans); on a stream, a bounded scan of its topic.
//   - The REST API (rest.go): /ksql, /query, /query-stream (JSON, delimited and Arrow IPC),
//     /close-query, /inserts-stream, /info, /healthcheck, /clusterStatus, /status, /metrics.
//   - TestSession (session.go): the same statement executor in process for test runners (sql/qtt,
//     `seiche test`), on a backend without a broker.
//
// # One executor, two backends
//
// Every statement runs through Engine.Execute, whoever sends it. What happens outside the engine
// goes through its backend (backend.go): kafkaBackend for a server (topics and records on the
// Kafka cluster, the command topic, each query a runtime.App), driverBackend for a TestSession
// (topics in memory, each command applied as it is appended, each query on a synchronous
// runtime.TestDriver). Push, pull and PRINT queries need the cluster and are the server's only.
//
// # What it never does
//
// It never applies a statement that is not in the command log (so every server agrees on the catalog),
// never lets a bad record stop a query (it goes to the processing log; only a record without a usable
// timestamp fails its query, under ksql.timestamp.throw.on.invalid as in ksqlDB), and never answers a malformed
// request with anything but a ksqlDB-shaped error.
//
// # Concurrency
//
// On a server, one goroutine (the command runner) applies commands in log order; it is the only
// writer of the metastore and of the set of persistent queries, under Engine.mu. A TestSession
// applies them, and runs its queries, on its caller's goroutine. Request handlers validate against
// the metastore (safe for concurrent reads), append their command and wait until the runner has
// applied it. Each query's processing runs on its App's goroutines; pull queries read its stores
// through runtime's interactive-query readers.
package engine
