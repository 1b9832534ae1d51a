package runtime

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// Repartition topics keep their records regardless of age (repartitionTopicConfigs), so the
// application deletes what it has consumed from them, as Kafka Streams does: after a commit, at most
// every RepartitionPurgeInterval, a thread asks the broker to delete the records of its repartition
// partitions below the offsets it committed (DeleteRecords). Only committed offsets are purged below:
// a task that fails or moves restarts from its commit, which is still there.

// notePurgeLocked remembers the just committed offsets of t's repartition partitions.
//
// REQUIRES: th.mu is held.
func (th *thread) notePurgeLocked(t *task) {
	for tp, off := range t.offsets {
		if _, ok := th.app.plan.internalByRuntime(tp.Topic); ok {
			th.mu.purge[tp] = off.Offset
		}
	}
}

// maybePurgeLocked deletes the records below the remembered offsets, if the purge interval has
// passed since the last purge. It runs on the thread's goroutine after a commit; a failure is
// logged, and those partitions are purged after a later commit.
//
// REQUIRES: th.mu is held.
func (th *thread) maybePurgeLocked(ctx context.Context) {
	now := time.Now()
	if len(th.mu.purge) == 0 || now.Before(th.mu.nextPurge) {
		return
	}
	th.mu.nextPurge = now.Add(th.app.cfg.purgeInterval)
	offsets := kadm.Offsets{}
	for tp, off := range th.mu.purge {
		offsets.AddOffset(tp.Topic, tp.Partition, off, -1)
	}
	clear(th.mu.purge)
	deleted, err := kadm.NewClient(th.cl).DeleteRecords(ctx, offsets)
	if err == nil {
		err = deleted.Error()
	}
	if err != nil && ctx.Err() == nil {
		th.logger.Warn("runtime: purging consumed records of repartition topics failed; retrying after a later commit", "err", err)
	}
}
