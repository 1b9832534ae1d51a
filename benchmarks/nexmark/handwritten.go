package main

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/internal/nexmark"
	"github.com/seichedb/seiche/internal/nexmark/gen"
)

const implHandwritten = "handwritten"

// handwritten is what one writes with franz-go alone for q0–q2: poll the bids, decode each with
// encoding/json (as the DSL programs' serde.JSON does), compute the row (the functions the DSL
// programs call), encode it, produce it; every commit interval flush the output and commit what
// was polled (at-least-once, as the runtime does). On the way out it commits once more.
var handwritten = nexmark.Impl{
	Name:     implHandwritten,
	Supports: func(q nexmark.Query) bool { return slices.Contains([]string{"q0", "q1", "q2"}, q.Name) },
	Start:    runHandwritten,
}

func runHandwritten(ctx context.Context, q nexmark.Query, t nexmark.Target) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(t.Addr), kgo.ConsumerGroup(t.Group), kgo.ConsumeTopics(t.Inputs...),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchCompression(kgo.NoCompression())) // as the runtime's (and Kafka Streams') producer
	if err != nil {
		return err
	}
	defer cl.Close()
	compute := rowOf(q.Name)
	var mu sync.Mutex
	var perr error
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			if perr == nil {
				perr = err
			}
			mu.Unlock()
		}
	}
	commit := func(ctx context.Context) error {
		if err := cl.Flush(ctx); err != nil {
			return err
		}
		mu.Lock()
		err := perr
		mu.Unlock()
		if err != nil {
			return err
		}
		return cl.CommitUncommittedOffsets(ctx)
	}
	next := time.Now().Add(nexmark.CommitInterval)
	for {
		// A poll waits at most until the next commit is due, so that the last records polled are
		// committed when no more come.
		pctx, cancel := context.WithDeadline(ctx, next)
		fs := cl.PollRecords(pctx, 1000)
		cancel()
		if ctx.Err() != nil {
			return commit(context.Background())
		}
		var ferr error
		fs.EachRecord(func(r *kgo.Record) {
			var bid gen.Bid
			if err := json.Unmarshal(r.Value, &bid); err != nil {
				ferr = err
				return
			}
			row, ok := compute(bid)
			if !ok {
				return
			}
			v, err := json.Marshal(row)
			if err != nil {
				ferr = err
				return
			}
			cl.Produce(ctx, &kgo.Record{Topic: t.Output, Key: r.Key, Value: v, Timestamp: r.Timestamp}, promise)
		})
		if ferr != nil {
			return ferr
		}
		if !time.Now().Before(next) {
			if err := commit(ctx); err != nil && ctx.Err() == nil {
				return err
			}
			next = time.Now().Add(nexmark.CommitInterval)
		}
	}
}

// rowOf returns the computation of q0, q1 or q2.
func rowOf(query string) func(gen.Bid) (any, bool) {
	switch query {
	case "q0":
		return func(b gen.Bid) (any, bool) { return nexmark.Q0(b), true }
	case "q1":
		return func(b gen.Bid) (any, bool) { return nexmark.Q1(b), true }
	default:
		return func(b gen.Bid) (any, bool) { return nexmark.Q2(b) }
	}
}
