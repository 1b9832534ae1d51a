// Package group is the broker's group coordinator: Kafka's classic group protocol, KIP-848 consumer
// groups and the membership of KIP-932 share groups. A group has one type at a time (classic,
// consumer or share); requests of another type's protocol get the errors Kafka gives.
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
//   - The group admin APIs: DescribeGroups, ListGroups and DeleteGroups, and the group configs
//     (resource type GROUP) that DescribeConfigs and IncrementalAlterConfigs read and set.
//   - KIP-848 consumer groups (consumer.go): ConsumerGroupHeartbeat and ConsumerGroupDescribe, the
//     group epoch and target assignment computed by the server assignors (uniform, range), and each
//     member's reconciliation toward it (Kafka's CurrentAssignmentBuilder): partitions moving away
//     are revoked first, the member keeping its epoch until it confirms, and partitions are handed
//     out only once their previous owner released them. OffsetCommit takes the member epoch as its
//     generation, with KIP-1251's per-partition assignment epochs.
//   - KIP-932 share group membership (share.go): ShareGroupHeartbeat and ShareGroupDescribe with the
//     simple assignor. The share-partition state itself belongs to broker/internal/share.
//   - Transactional offsets (txn_offsets.go): TxnOffsetCommit's offsets, pending until the transaction
//     commits (then committed) or aborts (then dropped), and OffsetFetch's require_stable.
//
// # Persistence
//
// Committed offsets live in the broker's Pebble database under keys starting with "g/" and are written
// with pebble.Sync, all partitions of one OffsetCommit in one batch, before the commit is answered. A
// group's protocol type and generation are stored too, without a sync of their own (losing them is
// harmless). KIP-848 and share groups store their type and group epoch the same way. Membership is not
// stored: after a restart every group comes back Empty with its offsets and members rejoin, as they
// would after a Kafka coordinator failover (a KIP-848 member's next heartbeat gets UNKNOWN_MEMBER_ID
// and it rejoins with epoch 0).
//
// # Concurrency
//
// Each group has a mutex guarding all of its state; the coordinator's mutex guards only the map of
// groups and the group configs. A group's mutex may be held while taking the coordinator's, never the reverse. Requests for
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
