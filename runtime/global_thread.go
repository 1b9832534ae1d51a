package runtime

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startGlobals opens the global stores, reads their topics to the end offsets they have now (Kafka
// Streams' GlobalStateManager restore), then starts the global consumer goroutine that keeps
// applying new records (GlobalStreamThread). It returns before any stream thread exists, so no
// task sees a store that is not caught up. stop cancels nothing: it waits for the goroutine, which
// ends when ctx is done (or cancels ctx on an error), closes the stores and returns the goroutine's error. With no global
// stores, stop does nothing.
//
// The global consumer has no group: it is assigned every partition of every global topic and
// starts from the beginning on each start, since the stores keep no checkpoint (the state is
// dropped and rebuilt; a checkpoint file, as Kafka Streams keeps, is later work).
func (a *App) startGlobals(ctx context.Context, cancel context.CancelFunc) (stop func() error, err error) {
	noop := func() error { return nil }
	if len(a.plan.topo.globals) == 0 {
		return noop, nil
	}
	db, err := a.stateDB()
	if err != nil {
		return nil, err
	}
	gs, err := openGlobals(ctx, a.plan.topo, db, a.cfg.appID)
	if err != nil {
		return nil, err
	}
	topics := gs.topics()
	opts := []kgo.Opt{
		kgo.SeedBrokers(a.cfg.bootstrap...),
		kgo.ClientID(fmt.Sprintf("%s-%s-GlobalStreamThread", a.cfg.appID, a.processID)),
		kgo.ConsumeTopics(topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.WithLogger(kgoLogger{a.sh.logger}),
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
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topics...)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fail(fmt.Errorf("runtime: global topics %v: %w", topics, err))
	}
	pending := map[TopicPartition]int64{} // partitions not read to their end offset yet
	for _, topic := range topics {
		if len(ends[topic]) == 0 {
			return fail(fmt.Errorf("runtime: global store topic %s does not exist", topic))
		}
		for p, o := range ends[topic] {
			if o.Offset > 0 {
				pending[TopicPartition{Topic: topic, Partition: p}] = o.Offset
			}
		}
	}
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
		var err error
		for err == nil {
			err = poll()
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
		gs.close()
		return err
	}, nil
}
