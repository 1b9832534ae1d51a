package nexmark

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	goruntime "runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/planner"
)

// CommitInterval is every implementation's commit interval through a broker: how often a query's
// aggregations reach their output, and so part of the end-to-end latency.
const CommitInterval = 100 * time.Millisecond

// measureBroker measures q on impl through a Seiche broker of its own in this process: the
// implementation starts and joins its group, the events are produced to the input topics as fast
// as the broker takes them, and the measurement ends when the group has committed every input
// record and the output topic has been read to its end. The CPU time is this process's: the
// broker, the producer, the implementation and the output reader.
func measureBroker(ctx context.Context, cfg Config, q Query, impl string, in []runtime.RawRecord) (Result, error) {
	var r Result
	dir, err := os.MkdirTemp("", "seiche-nexmark-")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	b, err := broker.New(broker.ListenAddr("127.0.0.1:0"), broker.DataDir(dir+"/broker"),
		broker.Logger(slog.New(slog.DiscardHandler)), broker.GroupInitialRebalanceDelay(0),
		broker.TopicDefaults(noRetention))
	if err != nil {
		return r, err
	}
	bctx, stopBroker := context.WithCancel(ctx)
	brokerDone := make(chan error, 1)
	go func() { brokerDone <- b.Run(bctx) }()
	defer func() { stopBroker(); b.Close(); <-brokerDone }()
	addr := b.Addr()

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(1<<16))
	if err != nil {
		return r, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for _, t := range append(slices.Clone(Topics), q.Sinks...) {
		if _, err := adm.CreateTopic(ctx, int32(cfg.Partitions), -1, nil, t); err != nil {
			return r, err
		}
	}

	group := fmt.Sprintf("nexmark-%s-%s", q.Name, impl)
	ictx, stopImpl := context.WithCancel(ctx)
	implDone := make(chan error, 1)
	if x, ok := cfg.extra(impl); ok {
		go func() {
			implDone <- x.Start(ictx, q, Target{Addr: addr, Group: group, Inputs: q.Reads, Output: q.Output()})
		}()
	} else {
		topo, err := q.Topology(impl)
		if err != nil {
			stopImpl()
			return r, err
		}
		opts := []runtime.Opt{runtime.ApplicationID(group), runtime.Bootstrap(addr),
			runtime.CommitInterval(CommitInterval), runtime.StateDir(dir + "/state"),
			runtime.Logger(slog.New(slog.DiscardHandler))}
		if impl != ImplDSL {
			// What a server gives a query whose properties name no cache.max.bytes.buffering
			// (the DSL programs' stores have dsl.DefaultCacheBytes each).
			opts = append(opts, runtime.CacheMaxBytes(planner.DefaultCacheBytes))
		}
		app, err := runtime.New(topo, opts...)
		if err != nil {
			stopImpl()
			return r, err
		}
		go func() { implDone <- app.Run(ictx); app.Close() }()
	}
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		stopImpl()
		err := <-implDone
		if errors.Is(err, context.Canceled) {
			err = nil
		}
		return err
	}
	defer stop()

	r, err = drive(ctx, cfg, q, impl, in, drivenBy{
		addr: addr, adm: adm, groups: func(context.Context) ([]string, error) { return []string{group}, nil },
		failed: implDone, cpu: cpuTime, cpuOf: "this process: broker, producer, query, output reader",
	})
	if err != nil {
		return r, err
	}
	return r, stop()
}

// drivenBy is what drive measures: the query running in groups against the broker at addr.
type drivenBy struct {
	addr   string
	adm    *kadm.Client
	groups func(context.Context) ([]string, error)
	failed <-chan error
	// cpu returns the CPU time used so far by every process involved, which cpuOf names.
	cpu   func() time.Duration
	cpuOf string
}

// drive produces in to the running query and times it until its groups have committed every input
// record and the output topic has been read to its end.
func drive(ctx context.Context, cfg Config, q Query, impl string, in []runtime.RawRecord, d drivenBy) (Result, error) {
	var r Result
	// The events go in as a Kafka producer with its defaults sends them: uncompressed.
	cl, err := kgo.NewClient(kgo.SeedBrokers(d.addr), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(1<<16),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err != nil {
		return r, err
	}
	defer cl.Close()
	out, err := newOutputReader(d.addr, q.Output(), in)
	if err != nil {
		return r, err
	}
	defer out.close()

	goruntime.GC()
	cpu0, t0 := d.cpu(), time.Now()
	progress := startProgress(cfg, q, impl, t0, func() string {
		return fmt.Sprintf("%d input records produced, %d outputs read", out.produced.Load(), out.read.Load())
	})
	defer progress()
	if err := produce(ctx, cl, in, out); err != nil {
		return r, err
	}
	if err := waitCommitted(ctx, d.adm, d.groups, q.Reads, d.failed); err != nil {
		return r, err
	}
	if err := out.waitEnd(ctx, d.adm); err != nil {
		return r, err
	}
	r.Wall, r.CPU = time.Since(t0), d.cpu()-cpu0
	r.CPUOf = d.cpuOf
	r.Outputs = out.read.Load()
	r.P50, r.P99 = out.percentiles()
	return r, nil
}

// startProgress prints a progress line (the time so far and status()) to cfg.Log every second until
// the returned function is called.
func startProgress(cfg Config, q Query, impl string, t0 time.Time, status func() string) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				fmt.Fprintf(cfg.Log, "  %s %s: %v, %s\n", q.Name, impl, time.Since(t0).Round(time.Second), status())
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// produce writes in to the broker, noting when each millisecond of event time was produced.
func produce(ctx context.Context, cl *kgo.Client, in []runtime.RawRecord, out *outputReader) error {
	var mu sync.Mutex
	var perr error
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			perr = cmpOr(perr, err)
			mu.Unlock()
		}
	}
	for _, rec := range in {
		out.noteProduced(rec.Timestamp)
		cl.Produce(ctx, &kgo.Record{Topic: rec.Topic, Key: rec.Key, Value: rec.Value, Timestamp: time.UnixMilli(rec.Timestamp)}, promise)
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	mu.Lock()
	defer mu.Unlock()
	return perr
}

// waitCommitted waits until the groups have committed the end of every partition of topics, and
// have no lag on any other topic they read (repartition and intermediate topics).
// A query whose lag has not moved for stallTimeout is reported as stalled, naming the records the
// broker deleted before the groups read them, if any.
func waitCommitted(ctx context.Context, adm *kadm.Client, groups func(context.Context) ([]string, error), topics []string, failed <-chan error) error {
	const stallTimeout = time.Minute
	var lastLag int64 = -1
	moved := time.Now()
	for {
		select {
		case err := <-failed:
			return fmt.Errorf("stopped early: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		gs, err := groups(ctx)
		if err != nil {
			return err
		}
		lags, err := adm.Lag(ctx, gs...)
		if err != nil {
			return err
		}
		if caughtUp(lags, gs, topics) {
			return nil
		}
		var lag int64
		byTopic, deleted := map[string]int64{}, map[string]int64{}
		for _, l := range lags {
			lag += l.Lag.Total()
			for t, tl := range l.Lag.TotalByTopic() {
				byTopic[t] += tl.Lag
			}
			for t, parts := range l.Lag {
				for _, p := range parts {
					if p.Start.Err == nil && p.Start.Offset > max(p.Commit.At, 0) {
						deleted[t] += p.Start.Offset - max(p.Commit.At, 0)
					}
				}
			}
		}
		if lag != lastLag {
			lastLag, moved = lag, time.Now()
		} else if time.Since(moved) > stallTimeout {
			err := fmt.Errorf("stalled: the query's groups %v have had lag %d for %v (by topic: %v)", gs, lag, stallTimeout, byTopic)
			if len(deleted) > 0 {
				// The group will never read them, and may never commit past them.
				err = fmt.Errorf("%w; records deleted before the groups read them (log start offset past the commit), by topic: %v", err, deleted)
			}
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func caughtUp(lags kadm.DescribedGroupLags, groups, topics []string) bool {
	read := map[string]bool{}
	for _, g := range groups {
		l, ok := lags[g]
		if !ok || l.Error() != nil {
			return false
		}
		for t, parts := range l.Lag {
			read[t] = true
			for _, p := range parts {
				// A partition that never held a record has no commit, and nothing to wait for.
				if p.Err != nil || p.Lag != 0 || (p.Commit.At < 0 && p.End.Offset > 0) {
					return false
				}
			}
		}
	}
	for _, t := range topics {
		if !read[t] {
			return false
		}
	}
	return len(groups) > 0
}

// outputReader reads the output topic from its start and notes, for each record, how long after
// the input of its timestamp was produced it arrived.
type outputReader struct {
	cl         *kgo.Client
	topic      string
	minTS      int64
	producedAt []atomic.Int64 // unix ns when event time minTS+i was first produced
	produced   atomic.Int64
	read       atomic.Int64
	mu         struct {
		sync.Mutex
		latencies []time.Duration
	}
	done chan struct{}
}

func newOutputReader(addr, topic string, in []runtime.RawRecord) (*outputReader, error) {
	o := &outputReader{topic: topic, done: make(chan struct{})}
	if len(in) > 0 {
		lo, hi := in[0].Timestamp, in[0].Timestamp
		for _, r := range in {
			lo, hi = min(lo, r.Timestamp), max(hi, r.Timestamp)
		}
		o.minTS = lo
		o.producedAt = make([]atomic.Int64, hi-lo+1)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		return nil, err
	}
	o.cl = cl
	go o.loop()
	return o, nil
}

func (o *outputReader) noteProduced(ts int64) {
	o.produced.Add(1)
	if i := ts - o.minTS; i >= 0 && i < int64(len(o.producedAt)) && o.producedAt[i].Load() == 0 {
		o.producedAt[i].Store(time.Now().UnixNano())
	}
}

func (o *outputReader) loop() {
	defer close(o.done)
	for {
		fs := o.cl.PollFetches(context.Background())
		if fs.IsClientClosed() {
			return
		}
		now := time.Now().UnixNano()
		var lat []time.Duration
		fs.EachRecord(func(r *kgo.Record) {
			o.read.Add(1)
			if i := r.Timestamp.UnixMilli() - o.minTS; i >= 0 && i < int64(len(o.producedAt)) {
				if at := o.producedAt[i].Load(); at != 0 {
					lat = append(lat, time.Duration(now-at))
				}
			}
		})
		o.mu.Lock()
		o.mu.latencies = append(o.mu.latencies, lat...)
		o.mu.Unlock()
	}
}

// waitEnd waits until the reader has read the output topic to its current end.
func (o *outputReader) waitEnd(ctx context.Context, adm *kadm.Client) error {
	ends, err := adm.ListEndOffsets(ctx, o.topic)
	if err != nil {
		return err
	}
	var want int64
	ends.Each(func(l kadm.ListedOffset) { want += l.Offset })
	for o.read.Load() < want {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	return nil
}

func (o *outputReader) percentiles() (p50, p99 time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	l := o.mu.latencies
	if len(l) == 0 {
		return 0, 0
	}
	slices.Sort(l)
	return l[len(l)/2], l[min(len(l)*99/100, len(l)-1)]
}

func (o *outputReader) close() {
	o.cl.Close()
	<-o.done
}
