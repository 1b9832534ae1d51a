// Package txn is the broker's transaction coordinator (Kafka's TransactionCoordinator and
// TransactionStateManager, KIP-98).
//
// # What it owns
//
//   - Per transactional ID: the producer ID and epoch it was given, the previous ones (for KIP-360
//     recovery and KIP-588's retried epoch bumps), the transaction timeout, the state machine (Empty,
//     Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, PrepareEpochFence), the
//     partitions and consumer groups of the open transaction and when it started.
//   - InitProducerId for transactional producers (epoch bumps, fencing zombies, aborting the transaction
//     a fenced producer left open), AddPartitionsToTxn (including the KIP-890 verify-only form),
//     AddOffsetsToTxn, EndTxn, DescribeTransactions and ListTransactions.
//   - Verification of transactional writes (KIP-890 part 1): a transactional produce or TxnOffsetCommit
//     is accepted only from the producer's current epoch, for a partition or group that was added to its
//     open transaction, and the write happens while the transaction cannot end.
//   - Expiry: an Ongoing transaction older than its timeout is aborted with a bumped epoch, which fences
//     the producer that left it.
//
// It does not write partitions or group offsets itself: the broker gives it functions that append the
// commit or abort markers to partitions and complete a group's pending transactional offsets.
//
// # Persistence
//
// Every state change of a transactional ID is written to the broker's Pebble database under "x/<id>"
// with pebble.Sync before it is acted on or answered, like Kafka's __transaction_state log; only a
// completion (CompleteCommit, CompleteAbort) is written without a sync of its own, as recovery can
// redo it. The state is
// small and keyed, updated in place, which is what the broker's metadata store is for. On start, a
// transaction found in PrepareCommit or PrepareAbort is completed (its markers written again; a marker
// written twice is harmless), so a crash between deciding a transaction and finishing it loses nothing.
//
// # Concurrency
//
// Each transactional ID has a read-write mutex. State changes, including writing a transaction's
// markers, hold it exclusively; a transactional produce or offset commit holds it shared from its
// verification until its write is in the log, so a marker is never written while a write of the
// transaction is in flight (that write would land after the marker and be left open forever). The
// coordinator's mutex guards only the maps of IDs; it may be taken while an ID's mutex is held, never
// the reverse.
//
// # What it never does
//
// It never reads or writes keys outside "x/", and never touches the database once Close has returned.
package txn
