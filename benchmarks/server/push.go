package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// pushResult is the push workload's figures, one per round: the push query's and, as the baseline,
// a franz-go consumer's, over the same counted records.
type pushResult struct {
	counted        []int
	push, consumer []latencies
	// added is, per record, the push query's latency less the consumer's: what the engine, its push
	// query's own consumer and HTTP add over reading the broker directly.
	added []latencies
}

type latencies struct{ p50, p99, p999 time.Duration }

// arrivals records, per sequence number, when a reader got the record, less its produce time. A
// reader owns its arrivals; nothing else touches them until it has returned.
type arrivals struct {
	lat  []time.Duration // indexed by sequence number; 0 until arrived
	seen []int
	n    atomic.Int64 // records arrived
	name string
}

func (a *arrivals) add(seq, producedNanos int64) error {
	lat := time.Duration(time.Now().UnixNano() - producedNanos)
	if seq < 0 {
		return fmt.Errorf("%s: bad sequence number %d", a.name, seq)
	}
	for int(seq) >= len(a.lat) {
		a.lat = append(a.lat, 0)
		a.seen = append(a.seen, 0)
	}
	a.lat[seq] = max(lat, 1)
	a.seen[seq]++
	a.n.Add(1)
	return nil
}

// check checks that records [0, total) arrived exactly once.
func (a *arrivals) check(total int) error {
	if len(a.seen) < total {
		return fmt.Errorf("%s: %d of %d records arrived", a.name, len(a.seen), total)
	}
	for seq, n := range a.seen[:total] {
		if n != 1 {
			return fmt.Errorf("%s: record %d arrived %d times", a.name, seq, n)
		}
	}
	if len(a.seen) > total {
		return fmt.Errorf("%s: %d records arrived, %d were produced", a.name, len(a.seen), total)
	}
	return nil
}

// percentiles returns the percentiles of lat, which it sorts.
func percentiles(lat []time.Duration) latencies {
	slices.Sort(lat)
	return latencies{p50: percentile(lat, 0.50), p99: percentile(lat, 0.99), p999: percentile(lat, 0.999)}
}

// runPush runs cfg.count rounds of pushRound, each on a new topic and stream.
func runPush(ctx context.Context, cfg config, v *env) (*pushResult, error) {
	res := &pushResult{}
	for round := range cfg.count {
		pushed, consumed, err := pushRound(ctx, cfg, v, round)
		if err != nil {
			return nil, fmt.Errorf("round %d: %w", round, err)
		}
		added := make([]time.Duration, len(pushed))
		for i := range pushed {
			added[i] = pushed[i] - consumed[i]
		}
		push, consumer, add := percentiles(pushed), percentiles(consumed), percentiles(added)
		fmt.Fprintf(v.log, "push round %d: %d records counted; p50/p99/p99.9 ms: push query %s/%s/%s, consumer %s/%s/%s, added %s/%s/%s\n",
			round, len(pushed), ms(push.p50), ms(push.p99), ms(push.p999), ms(consumer.p50), ms(consumer.p99), ms(consumer.p999),
			ms(add.p50), ms(add.p99), ms(add.p999))
		res.counted = append(res.counted, len(pushed))
		res.push = append(res.push, push)
		res.consumer = append(res.consumer, consumer)
		res.added = append(res.added, add)
	}
	return res, nil
}

// pushRound produces cfg.pushRate records/s into a new one-partition topic while a push query over
// it is read through /query-stream and a franz-go consumer reads it directly. Records produced before
// the push query's first row arrived and during the warm-up after it are checked but not counted. It
// returns the counted records' latencies through the push query and through the consumer, both in
// produce order.
func pushRound(ctx context.Context, cfg config, v *env, round int) (pushLat, consumerLat []time.Duration, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	topic := fmt.Sprintf("push-src-%d", round)
	if err := createTopic(ctx, v.adm, topic, 1); err != nil {
		return nil, nil, err
	}
	stream := fmt.Sprintf("S_%d", round)
	if _, err := v.ksql(ctx, fmt.Sprintf("CREATE STREAM %s (SEQ BIGINT, TS BIGINT) WITH (KAFKA_TOPIC='%s', VALUE_FORMAT='JSON');", stream, topic)); err != nil {
		return nil, nil, err
	}
	q, err := v.streamQuery(ctx, "SELECT * FROM "+stream+" EMIT CHANGES;")
	if err != nil {
		return nil, nil, err
	}
	defer q.close()
	seqCol, tsCol := slices.Index(q.columns, "SEQ"), slices.Index(q.columns, "TS")
	if seqCol < 0 || tsCol < 0 {
		return nil, nil, fmt.Errorf("push query columns %v, want SEQ and TS", q.columns)
	}

	cons, err := kgo.NewClient(kgo.SeedBrokers(v.addr),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	if err != nil {
		return nil, nil, err
	}
	defer cons.Close()

	// The readers run until ctx is cancelled (the push query's body closed); what they return after
	// that is not an error.
	first := make(chan struct{})
	var firstOnce sync.Once

	pushed := &arrivals{name: "push query"}
	consumed := &arrivals{name: "consumer"}
	readers := make(chan error, 2)
	go func() {
		readers <- func() error {
			var row []int64
			for {
				line, err := q.next()
				if err != nil {
					return fmt.Errorf("push query: %w", err)
				}
				row = row[:0]
				if err := json.Unmarshal(line, &row); err != nil || len(row) <= max(seqCol, tsCol) {
					return fmt.Errorf("push query: bad row %s: %v", line, err)
				}
				if err := pushed.add(row[seqCol], row[tsCol]); err != nil {
					return err
				}
				firstOnce.Do(func() { close(first) })
			}
		}()
	}()
	go func() {
		readers <- func() error {
			var val struct{ SEQ, TS int64 }
			for {
				fs := cons.PollFetches(ctx)
				if err := ctx.Err(); err != nil {
					return err
				}
				var err error
				fs.EachError(func(_ string, _ int32, e error) { err = errors.Join(err, e) })
				if err != nil {
					return fmt.Errorf("consumer: %w", err)
				}
				for it := fs.RecordIter(); !it.Done(); {
					r := it.Next()
					if err := json.Unmarshal(r.Value, &val); err != nil {
						return fmt.Errorf("consumer: %w", err)
					}
					if err := consumed.add(val.SEQ, val.TS); err != nil {
						return err
					}
				}
			}
		}()
	}()

	prod, err := kgo.NewClient(kgo.SeedBrokers(v.addr), kgo.ProducerLinger(cfg.linger))
	if err != nil {
		return nil, nil, err
	}
	defer prod.Close()
	var perr atomic.Pointer[error]
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			perr.CompareAndSwap(nil, &err)
		}
	}
	// Produce at the rate until the first row arrives (at most a minute), then for the warm-up and the
	// counted duration.
	start := time.Now()
	interval := float64(time.Second) / float64(cfg.pushRate)
	seq, from, to := 0, -1, -1 // from is -1 before the first row, -2 during the warm-up
	var countFrom, countTo time.Time
	for to < 0 {
		now := time.Now()
		if from == -1 {
			select {
			case <-first:
				countFrom = now.Add(cfg.pushWarmup)
				countTo = countFrom.Add(cfg.pushDuration)
				from = -2
			default:
				if now.Sub(start) > time.Minute {
					return nil, nil, errors.New("no push row arrived within a minute")
				}
			}
		}
		if from == -2 && !now.Before(countFrom) {
			from = seq
		}
		if from >= 0 && !now.Before(countTo) {
			to = seq
			break
		}
		due := int(float64(now.Sub(start))/interval) + 1
		for ; seq < due; seq++ {
			prod.Produce(ctx, &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, `{"SEQ":%d,"TS":%d}`, seq, time.Now().UnixNano())}, promise)
		}
		time.Sleep(time.Until(start.Add(time.Duration(float64(seq) * interval))))
	}
	if err := prod.Flush(ctx); err != nil {
		return nil, nil, err
	}
	if p := perr.Load(); p != nil {
		return nil, nil, *p
	}
	fmt.Fprintf(v.log, "push: produced %d records at %d/s, counting [%d, %d)\n", seq, cfg.pushRate, from, to)
	err = checkFor(ctx, time.Minute, 10*time.Millisecond, func() (bool, error) {
		select {
		case err := <-readers:
			return false, err
		default:
		}
		return pushed.n.Load() >= int64(seq) && consumed.n.Load() >= int64(seq), nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("waiting for all %d records (push query %d, consumer %d): %w", seq, pushed.n.Load(), consumed.n.Load(), err)
	}
	cancel()
	q.close()
	<-readers
	<-readers
	if err := errors.Join(pushed.check(seq), consumed.check(seq)); err != nil {
		return nil, nil, err
	}
	return pushed.lat[from:to], consumed.lat[from:to], nil
}

// medians returns the medians of the rounds' percentiles.
func medians(ls []latencies) latencies {
	var p50, p99, p999 []time.Duration
	for _, l := range ls {
		p50, p99, p999 = append(p50, l.p50), append(p99, l.p99), append(p999, l.p999)
	}
	return latencies{median(p50), median(p99), median(p999)}
}

func (r *pushResult) print(w io.Writer) {
	fmt.Fprintf(w, "\npush: produce -> arrival latency, %d rounds of %d records (medians of the rounds)\n", len(r.counted), median(r.counted))
	push, consumer, added := medians(r.push), medians(r.consumer), medians(r.added)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "reader\tp50 ms\tp99 ms\tp99.9 ms\t\n")
	fmt.Fprintf(tw, "franz-go consumer\t%s\t%s\t%s\t\n", ms(consumer.p50), ms(consumer.p99), ms(consumer.p999))
	fmt.Fprintf(tw, "push query over HTTP\t%s\t%s\t%s\t\n", ms(push.p50), ms(push.p99), ms(push.p999))
	fmt.Fprintf(tw, "push query less consumer, per record\t%s\t%s\t%s\t\n", ms(added.p50), ms(added.p99), ms(added.p999))
	tw.Flush()
	fmt.Fprintf(w, "ratio push/consumer: p50 %.2f, p99 %.2f (lower is better; p99 goal < 10 ms)\n",
		float64(push.p50)/float64(consumer.p50), float64(push.p99)/float64(consumer.p99))
}
