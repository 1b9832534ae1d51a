package runtime

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startGlobals opens the global stores, reads their topics to the end offsets they have now (Kafka
// Streams' GlobalStateManager restore), then starts the global consumer goroutine that keeps
// applying new records (GlobalStreamThread). It returns before any stream thread exists, so no
// task sees a store that is not caught up. stop cancels nothing: it waits for the goroutine, which
// ends when ctx is done (or cancels ctx on an error), checkpoints the stores unless the application
// crashed or the goroutine failed, closes them and returns the goroutine's error. With no global
// stores, stop does nothing.
//
// The global consumer has no group: it is assigned every partition the global topics have at start
// (partitions added later are not read until the next start, as in Kafka Streams) and reads each
// from the store's checkpoint, the offset after the last record the store holds. A store's state
// and checkpoint survive restarts; a store is dropped and rebuilt from the beginning of its topic
// when it has no checkpoint (first start, or a crash before the first checkpoint) or when the
// checkpoint does not fit the topic (records deleted past it, a partition gone, or an offset beyond
// the end: the topic was truncated or recreated). A checkpoint is written every commit interval
// while records arrive and on a clean stop.
func (a *App) startGlobals(ctx context.Context, cancel context.CancelFunc) (stop func() error, err error) {
	noop := func() error { return nil }
	if len(a.plan.topo.globals) == 0 {
		return noop, nil
	}
	db, err := a.stateDB()
	if err != nil {
		return nil, err
	}
	gs, err := openGlobals(ctx, a.plan.topo, db, a.cfg.appID, a.sh.logger)
	if err != nil {
		return nil, err
	}
	topics := gs.topics()
	opts := []kgo.Opt{
		kgo.SeedBrokers(a.cfg.bootstrap...),
		kgo.ClientID(fmt.Sprintf("%s-%s-GlobalStreamThread", a.cfg.appID, a.processID)),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.WithLogger(kgoLogger{a.sh.logger}),
		// Transaction markers come through, so that the restore sees its progress past a topic
		// that ends with one (the last record is then before the end offset); apply skips them.
		kgo.KeepControlRecords(),
	}
	eos := a.cfg.guarantee == ExactlyOnceV2
	if eos {
		// As Kafka Streams' global consumer under exactly-once: aborted records never reach the store.
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(append(opts, a.cfg.clientOpts...)...)
	if err != nil {
		gs.close()
		return nil, fmt.Errorf("runtime: global consumer: %w", err)
	}
	fail := func(err error) (func() error, error) {
		cl.Close()
		gs.close()
		return nil, err
	}
	adm := kadm.NewClient(cl)
	starts, err := adm.ListStartOffsets(ctx, topics...)
	if err == nil {
		err = starts.Error()
	}
	var ends kadm.ListedOffsets
	if err == nil && eos {
		ends, err = adm.ListCommittedOffsets(ctx, topics...) // the last stable offsets: what read_committed reaches
	} else if err == nil {
		ends, err = adm.ListEndOffsets(ctx, topics...)
	}
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fail(fmt.Errorf("runtime: global topics %v: %w", topics, err))
	}
	// Until a.sh.globals is set below, this goroutine is the stores' only user: their mu fields are
	// read without the lock.
	assign := map[string]map[int32]kgo.Offset{}
	pending := map[TopicPartition]int64{} // partitions not read to their end offset yet
	for _, topic := range topics {
		if len(ends[topic]) == 0 {
			return fail(fmt.Errorf("runtime: global store topic %s does not exist", topic))
		}
		g := gs.forTopic(topic)
		if err := a.reconcileGlobal(ctx, g, starts[topic], ends[topic]); err != nil {
			return fail(err)
		}
		assign[topic] = map[int32]kgo.Offset{}
		for p, end := range ends[topic] {
			from := starts[topic][p].Offset
			if next, ok := g.mu.next[p]; ok {
				from = next
			} else {
				g.mu.next[p] = from
			}
			assign[topic][p] = kgo.NewOffset().At(from)
			if from < end.Offset {
				pending[TopicPartition{Topic: topic, Partition: p}] = end.Offset
			}
		}
	}
	cl.AddConsumePartitions(assign)
	poll := func() error {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var ferr error
		fs.EachError(func(topic string, p int32, err error) {
			a.sh.logger.Warn("runtime: global consumer fetch", "topic", topic, "partition", p, "err", err)
		})
		fs.EachTopic(func(ft kgo.FetchTopic) {
			if ferr != nil {
				return
			}
			var recs []*kgo.Record
			ft.EachPartition(func(fp kgo.FetchPartition) {
				recs = append(recs, fp.Records...)
				if n := len(fp.Records); n > 0 {
					tp := TopicPartition{Topic: ft.Topic, Partition: fp.Partition}
					if end, ok := pending[tp]; ok && fp.Records[n-1].Offset+1 >= end {
						delete(pending, tp)
					}
				}
			})
			ferr = gs.forTopic(ft.Topic).apply(ctx, a.sh, recs)
		})
		return ferr
	}
	for len(pending) > 0 {
		if err := poll(); err != nil {
			return fail(err)
		}
	}
	a.sh.logger.Info("runtime: global stores restored", "topics", topics)
	a.sh.globals = gs
	done := make(chan error, 1)
	go func() {
		// As in Kafka Streams, the first checkpoint comes one commit interval after the restore.
		last := time.Now()
		var err error
		for err == nil {
			if err = poll(); err == nil && time.Since(last) >= a.cfg.commitInterval {
				err = gs.checkpoint(ctx)
				last = time.Now()
			}
		}
		if ctx.Err() != nil {
			err = nil
		} else {
			cancel() // a failed global store stops the application, as a failed stream thread does
		}
		done <- err
	}()
	return func() error {
		err := <-done
		cl.Close()
		if err == nil && !a.crashed.Load() {
			err = gs.checkpoint(context.Background())
		}
		if cerr := gs.close(); err == nil {
			err = cerr
		}
		return err
	}, nil
}

// reconcileGlobal checks the checkpoint of g against the log start and end offsets of every
// partition of its topic, and resets g, to be rebuilt from the beginning, if it has none or one that
// does not fit: a checkpointed partition that no longer exists, or a checkpoint before the log start
// (records deleted) or beyond the end (the topic truncated or recreated). A partition without a
// checkpoint beside checkpointed ones (added since) is read from its start; the others resume.
func (a *App) reconcileGlobal(ctx context.Context, g *globalStore, starts, ends map[int32]kadm.ListedOffset) error {
	db, err := a.stateDB()
	if err != nil {
		return err
	}
	reason := ""
	if len(g.mu.next) == 0 {
		reason = "no checkpoint"
	}
	for p, next := range g.mu.next {
		end, ok := ends[p]
		switch {
		case !ok:
			reason = fmt.Sprintf("partition %d is gone", p)
		case next < starts[p].Offset:
			reason = fmt.Sprintf("partition %d: checkpoint %d before the log start %d", p, next, starts[p].Offset)
		case next > end.Offset:
			reason = fmt.Sprintf("partition %d: checkpoint %d beyond the end %d", p, next, end.Offset)
		}
		if reason != "" {
			break
		}
	}
	if reason == "" {
		a.sh.logger.Info("runtime: global store resumes from its checkpoint", "store", g.def.name, "checkpoint", g.mu.next)
		return nil
	}
	level := slog.LevelInfo
	if len(g.mu.next) > 0 {
		level = slog.LevelWarn
	}
	a.sh.logger.Log(ctx, level, "runtime: global store rebuilt from the beginning of its topic", "store", g.def.name, "topic", g.def.topic, "reason", reason)
	return g.reset(ctx, db, a.cfg.appID)
}
