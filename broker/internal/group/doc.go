// Package group is the broker's consumer group coordinator for Kafka's classic group protocol.
//
// # What it owns
//
//   - Group membership: JoinGroup, SyncGroup, Heartbeat and LeaveGroup with Kafka's states (Empty,
//     PreparingRebalance, CompletingRebalance, Stable, Dead), generations, protocol selection, the leader
//     that computes assignments, session and rebalance timeouts, group.initial.rebalance.delay.ms, the
//     JoinGroup v4+ MEMBER_ID_REQUIRED round trip and static membership (KIP-345). The rules follow
//     Kafka's GroupCoordinator.scala closely, so clients see the errors they expect in every state.
//   - Committed offsets: OffsetCommit, OffsetFetch and OffsetDelete, including simple (non-member)
//     commits to Empty groups, and their retention (offsets.retention.minutes, 7 days).
//   - The group admin APIs: DescribeGroups, ListGroups and DeleteGroups.
//   - Transactional offsets (txn_offsets.go): TxnOffsetCommit's offsets, pending until the transaction
//     commits (then committed) or aborts (then dropped), and OffsetFetch's require_stable.
//
// # Persistence
//
// Committed offsets live in the broker's Pebble database under keys starting with "g/" and are written
// with pebble.Sync, all partitions of one OffsetCommit in one batch, before the commit is answered. A
// group's protocol type and generation are stored too, without a sync of their own (losing them is
// harmless). Membership is not stored: after a restart every group comes back Empty with its offsets and
// members rejoin, as they would after a Kafka coordinator failover.
//
// # Concurrency
//
// Each group has a mutex guarding all of its state; the coordinator's mutex guards only the map of
// groups. A group's mutex may be held while taking the coordinator's, never the reverse. Requests for
// different groups never wait for each other, not even for an offset commit's fsync. JoinGroup and
// SyncGroup wait for the rebalance on a channel of their own, outside any lock, and return when their
// context is done or the coordinator closes. Session, rebalance and pending-member deadlines are
// time.AfterFunc timers that re-check the group's state under its mutex when they fire. STYLE.md prefers
// one owner goroutine per piece of state; a mutex per group is used instead because every operation is a
// short critical section and most requests (heartbeats, commits) answer synchronously on the
// connection's read goroutine, where a round trip through an owner goroutine would only add latency.
//
// # What it never does
//
// It never reads or writes keys outside "g/", and never touches the database once Close has returned.
// A request never blocks another group, and a waiting JoinGroup or SyncGroup never outlives its
// connection.
package group
