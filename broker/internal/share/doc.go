// Package share keeps the share-partition state of KIP-932 share groups: for each (share group,
// topic partition) the share-partition start offset (SPSO), the in-flight records after it with their
// state (available, acquired, acknowledged, archived) and delivery count, and the acquisition locks of
// the records a member holds.
//
// # What it owns
//
//   - Acquisition: a share fetch acquires available records for one member, each for the lock
//     duration (share.record.lock.duration.ms), counting deliveries. Records whose lock expires, or
//     that are released, become available again, until their delivery count reaches the limit
//     (share.delivery.count.limit); then they are archived. Records a member still holds when it
//     leaves the group or closes its share session go back with that delivery undone, as in Kafka:
//     they were fetched, not handed to the application.
//   - Acknowledgement: ACCEPT, RELEASE, REJECT and RENEW (and GAP for offsets that hold no record),
//     valid only for records the member holds. The SPSO moves past every acknowledged or archived
//     record at its front.
//   - Persistence: the SPSO and the in-flight states live in the broker's Pebble database under keys
//     starting with "s/", written with pebble.Sync before an acknowledgement is answered, so a broker
//     restart loses no acknowledgement. Acquisitions are not durable: after a restart, records that
//     were acquired are available again, with the delivery counts last stored.
//
// # What it never does
//
// It never reads the partition logs: the broker reads batches and tells a partition which offsets
// they hold. It never touches keys outside "s/".
//
// # Concurrency
//
// Each partition's state has its own mutex; the manager's mutex guards only its map, and may be held
// while taking a partition's, never the reverse. A third mutex guards the channel that wakes waiting
// fetches; it is taken under a partition's.
package share
