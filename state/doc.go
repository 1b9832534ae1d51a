// Package state holds the state of every stateful operator of the streams runtime, the DSL and SQL:
// key-value, timestamped key-value, window and session stores, kept in Pebble (or in memory, with the
// same behaviour), logged to compacted changelog topics and restored from them.
//
// # Shape
//
// A DB is a state directory: one Pebble instance shared by every task opened on it. A Task is the
// state of one runtime task (application id, task id, changelog partition); its stores are opened
// through it, and all their writes since the last commit form one transaction (a Pebble indexed
// batch: reads see it) that Task.Commit writes atomically together with each logged store's
// changelog checkpoint. Below each store's API sit layers: the record cache (optional), the
// changelog logger (for logged stores), the task's transaction. The byte-level store interfaces are
// what the runtime uses; KV, TimestampedKV, Windowed and Sessions are thin typed views over a Serde
// for the DSL.
//
// # Consistency
//
// A store's committed state is always a prefix of its changelog: Commit first waits until every
// change produced is acknowledged, then commits the data with the offset of the last one. After a
// crash, opening the store replays the changelog from that offset on; a store without a checkpoint,
// or whose checkpoint is outside the changelog (topic recreated, records deleted), is wiped and
// rebuilt from the whole changelog. Under exactly-once the runtime calls Flush, commits its
// producer's transaction, then Commit (or, on failure, Task.Abort and aborts the transaction), and
// restores read committed records only.
//
// A standby task (Standby) is a copy of a task active on another instance: its stores open at
// their checkpoints without reading their changelogs, the runtime hands it the changelog records
// it reads (ApplyChangelog), and Commit checkpoints them as an active task's commit does. When the
// task becomes active on the standby's DB, its restore starts from that checkpoint and reads only
// the changelog's tail.
//
// # What the package never does
//
//   - It never talks to Kafka on its own goroutines or behind the caller's back. Changes are handed
//     to the ChangelogWriter (the runtime's producer) synchronously on the task's goroutine, and
//     restores run on the goroutine that opens the store. KafkaChangelog is the franz-go
//     implementation the runtime may use; the package itself depends only on the interfaces.
//   - It never commits on its own: nothing is durable until Task.Commit; Close discards what was
//     not committed.
//   - It never decides processing semantics (forwarding, timestamps, grace): flush listeners hand
//     coalesced changes back to the runtime.
//   - It never panics on bad input; a corrupt or unreadable state directory is logged with its path,
//     moved aside to <dir>.corrupt and replaced by an empty one, which logged stores rebuild from
//     their changelogs. (Pebble's own Fatalf, for broken invariants inside Pebble, does panic.)
//
// # Key layout
//
// All integers are big-endian; strings are uvarint length-prefixed (so no name is a prefix of
// another's encoding); times are int64 milliseconds with the sign bit flipped so byte order is
// numeric order.
//
//	0x00 "format"                                   → format version (1)
//	0x74 app task store 0x00 'k'                    → store kind: 'v' kv, 's' timestamped, 'w' window, 'n' session
//	0x74 app task store 0x00 'c' partition(4)       → changelog checkpoint: offset(8) of the last change the data covers
//	                                                  (an unlogged store's source topic's, Task.SetCheckpoint)
//	0x74 app task store 0x00 't'                    → window/session meta: stream time(8), sequence number(4)
//	0x74 app task store 0x01 key                    → key-value: value; timestamped: timestamp(8) value
//	0x74 app task store 0x01 seg(8) ekey start(8) seq(4)  → window value
//	0x74 app task store 0x01 seg(8) ekey end(8) start(8)  → session value
//
// 0x74 app task is the task prefix: DB.DropTask deletes a task with one DeleteRange, and 0x74 app
// DB.DropApplication an application. seg is floor(time / segment interval) of the window start or
// session end, so windowed data ages in whole segments at the front of the store's key space and
// retention drops them with one DeleteRange, never key by key. ekey is the user key escaped
// order-preservingly (0x00 → 0x00 0xff, then 0x00 0x01), so ranges of keys map to ranges of bytes
// within a segment; iterators over several segments merge them back into (key, time) order.
//
// Changelog records use Kafka Streams' formats (see ChangelogRecord), so topics written by one can
// be read by the other.
//
// # Concurrency
//
// A DB is safe for concurrent use; a Task and its stores and iterators belong to one goroutine,
// the one driving the task (DESIGN.md: one goroutine drives a task; nothing else touches its
// state). Reads from other goroutines (interactive queries) go through a KeyValueReader, whose
// reads change nothing in the task, while the caller keeps the task's goroutine out (the runtime's
// task lock): exclusion, not a second owner.
package state
