package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime/metrics"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/benchmarks/internal/progress"
)

// A record's value starts with its sequence number and the time it was handed to the producer (both
// big-endian uint64, the time in nanoseconds since clockBase); the rest is fixed random bytes, so that
// the value does not compress (the clients do not compress either, see clientOpts).
const valueHeader = 16

// idleTimeout is how long a consumer may go without a record before the run fails: a lost record must
// fail the benchmark, not hang it.
const idleTimeout = 20 * time.Second

var clockBase = time.Now()

// now reads the monotonic clock; producer and consumer share it because they share the process.
func now() int64 { return int64(time.Since(clockBase)) }

// producerOpts is the one producer configuration both brokers get: acks=all and idempotence (the franz-go
// defaults, spelled out), up to 1 MiB batches, a large buffer so that Produce does not block, and no
// compression so that MB/s means bytes the broker stored.
func producerOpts(cfg config, addr, topic string) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(cfg.linger),
		kgo.ProducerBatchMaxBytes(1 << 20),
		kgo.MaxBufferedRecords(1 << 20),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	}
	if cfg.leaderAcks {
		// franz-go's idempotent producer requires acks=all; keep its 5 requests in flight so that only
		// the acks differ.
		opts = append(opts, kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite(),
			kgo.MaxProduceRequestsInflightPerBroker(5))
	}
	return opts
}

// consumerOpts is the one consumer configuration both brokers get: a direct (groupless) consumer of every
// partition from the start, otherwise franz-go's defaults.
func consumerOpts(addr, topic string) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}
}

func createTopic(ctx context.Context, addr, topic string, partitions int) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, int32(partitions), 1, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

// throughput is one timed phase, with what its client saw on the wire.
type throughput struct {
	records int
	elapsed time.Duration
	cpu     time.Duration // the process's CPU time (broker and clients) during the phase
	gc      time.Duration // the garbage collector's share of cpu, as the Go runtime estimates it
	wire    *wireStats
}

func (t throughput) recordsPerSec() float64 { return float64(t.records) / t.elapsed.Seconds() }

// cpuPerRecord is the process's CPU time per record in nanoseconds: unlike the rates, it barely moves
// when other processes compete for the CPUs.
func (t throughput) cpuPerRecord() float64 { return float64(t.cpu) / float64(t.records) }

// gcPerRecord is the garbage collector's CPU time per record in nanoseconds, part of cpuPerRecord.
func (t throughput) gcPerRecord() float64 { return float64(t.gc) / float64(t.records) }

// gcTime returns the Go runtime's estimate of the CPU time its garbage collector has used (mark
// workers, assists and pauses).
func gcTime() time.Duration {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64 {
		return 0
	}
	return time.Duration(s[0].Value.Float64() * 1e9)
}

// cpuTime returns the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// mbPerSec counts record value bytes, in 10^6 bytes per second.
func (t throughput) mbPerSec(valueBytes int) float64 {
	return float64(t.records) * float64(valueBytes) / 1e6 / t.elapsed.Seconds()
}

// producer produces generated records and collects the first failure.
type producer struct {
	cl     *kgo.Client
	src    *recordSource
	wire   *wireStats
	failed atomic.Int64
	first  atomic.Pointer[error]
	acked  atomic.Pointer[progress.Meter] // of the produce call running, if any
}

func newProducer(cfg config, addr, topic string) (*producer, error) {
	wire := &wireStats{key: kmsg.Produce.Int16()}
	cl, err := kgo.NewClient(append(producerOpts(cfg, addr, topic), kgo.WithHooks(wire))...)
	if err != nil {
		return nil, err
	}
	return &producer{cl: cl, src: newRecordSource(cfg.valueBytes), wire: wire}, nil
}

func (p *producer) promise(_ *kgo.Record, err error) {
	p.acked.Load().Add(1)
	if err != nil {
		p.failed.Add(1)
		p.first.CompareAndSwap(nil, &err)
	}
}

// produce sends the records numbered [from, to) and waits until every one is acknowledged.
func (p *producer) produce(ctx context.Context, from, to int) error {
	acked := progress.Start(os.Stderr, "broker benchmark: produced", int64(to-from), progress.Every)
	defer acked.Stop()
	p.acked.Store(acked)
	defer p.acked.Store(nil)
	for i := from; i < to; i++ {
		p.cl.Produce(ctx, p.src.next(uint64(i), 0), p.promise)
	}
	return p.flush(ctx)
}

func (p *producer) flush(ctx context.Context) error {
	if err := p.cl.Flush(ctx); err != nil {
		return err
	}
	if n := p.failed.Load(); n > 0 {
		return fmt.Errorf("produce: %d records failed, the first with: %w", n, *p.first.Load())
	}
	return nil
}

// produceThroughput produces cfg.warmup records, then times cfg.records more: from the first Produce
// call until the last acknowledgement.
func produceThroughput(ctx context.Context, cfg config, addr, topic string) (throughput, error) {
	p, err := newProducer(cfg, addr, topic)
	if err != nil {
		return throughput{}, err
	}
	defer p.cl.Close()
	if err := p.produce(ctx, 0, cfg.warmup); err != nil {
		return throughput{}, err
	}
	p.wire.reset()
	start, cpu, gc := time.Now(), cpuTime(), gcTime()
	if err := p.produce(ctx, cfg.warmup, cfg.warmup+cfg.records); err != nil {
		return throughput{}, err
	}
	return throughput{records: cfg.records, elapsed: time.Since(start), cpu: cpuTime() - cpu, gc: gcTime() - gc, wire: p.wire}, nil
}

// consumeThroughput reads the n records of topic from the start, timed from creating the client until the
// last record is polled, and checks that each sequence number in [0, n) came exactly once.
func consumeThroughput(ctx context.Context, cfg config, addr, topic string, n int) (throughput, error) {
	wire := &wireStats{key: kmsg.Fetch.Int16()}
	start, cpu, gc := time.Now(), cpuTime(), gcTime()
	cl, err := kgo.NewClient(append(consumerOpts(addr, topic), kgo.WithHooks(wire))...)
	if err != nil {
		return throughput{}, err
	}
	defer cl.Close()
	seen := newSeqSet(n)
	polled := progress.Start(os.Stderr, "broker benchmark: consumed", int64(n), progress.Every)
	defer polled.Stop()
	err = consume(ctx, cl, seen, cfg.valueBytes, func(uint64, int64, int64) { polled.Add(1) })
	return throughput{records: n, elapsed: time.Since(start), cpu: cpuTime() - cpu, gc: gcTime() - gc, wire: wire}, err
}

// consume polls until seen is full, passing each record to fn (if not nil) with the time it was polled.
func consume(ctx context.Context, cl *kgo.Client, seen *seqSet, valueBytes int, fn func(seq uint64, sent, polled int64)) error {
	for !seen.full() {
		pctx, cancel := context.WithTimeout(ctx, idleTimeout)
		fs := cl.PollFetches(pctx)
		cancel()
		polled := now()
		for _, fe := range fs.Errors() {
			if errors.Is(fe.Err, context.DeadlineExceeded) && ctx.Err() == nil {
				return fmt.Errorf("consume: no record for %v after %d of %d", idleTimeout, seen.count, seen.n)
			}
			return fmt.Errorf("consume: %s[%d]: %w", fe.Topic, fe.Partition, fe.Err)
		}
		for it := fs.RecordIter(); !it.Done(); {
			r := it.Next()
			if len(r.Value) != valueBytes {
				return fmt.Errorf("consume: %s[%d]@%d: value of %d bytes, want %d", r.Topic, r.Partition, r.Offset, len(r.Value), valueBytes)
			}
			seq := binary.BigEndian.Uint64(r.Value)
			if err := seen.add(seq); err != nil {
				return fmt.Errorf("consume: %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
			}
			if fn != nil {
				fn(seq, int64(binary.BigEndian.Uint64(r.Value[8:])), polled)
			}
		}
	}
	return nil
}

// latencies are percentiles of produce→consume latency.
type latencies struct {
	p50, p99, p999 time.Duration
}

// latencyWarmup is how long the latency phase runs before it starts counting.
func latencyWarmup(cfg config) time.Duration { return min(time.Second, cfg.duration/5) }

// latency produces at cfg.rate records/s into a new one-partition topic for the warm-up and then
// cfg.duration, while a consumer reads them. A record's latency is from the moment it is handed to the
// producer to the moment the consumer's poll returns it; records sent during the warm-up are not counted.
func latency(ctx context.Context, cfg config, addr, topic string) (latencies, error) {
	if err := createTopic(ctx, addr, topic, 1); err != nil {
		return latencies{}, err
	}
	warm := int(float64(cfg.rate) * latencyWarmup(cfg).Seconds())
	n := warm + max(1, int(float64(cfg.rate)*cfg.duration.Seconds()))

	cons, err := kgo.NewClient(consumerOpts(addr, topic)...)
	if err != nil {
		return latencies{}, err
	}
	defer cons.Close()
	samples := make([]time.Duration, 0, n-warm)
	consumed := make(chan error, 1)
	go func() {
		consumed <- consume(ctx, cons, newSeqSet(n), cfg.valueBytes, func(seq uint64, sent, polled int64) {
			if seq >= uint64(warm) {
				samples = append(samples, time.Duration(polled-sent))
			}
		})
	}()

	p, err := newProducer(cfg, addr, topic)
	if err != nil {
		return latencies{}, err
	}
	defer p.cl.Close()
	start := time.Now()
	interval := float64(time.Second) / float64(cfg.rate)
	for i := 0; i < n; {
		due := min(n, int(float64(time.Since(start))/interval)+1)
		for ; i < due; i++ {
			p.cl.Produce(ctx, p.src.next(uint64(i), now()), p.promise)
		}
		if i < n {
			time.Sleep(time.Until(start.Add(time.Duration(float64(i) * interval))))
		}
	}
	if err := p.flush(ctx); err != nil {
		return latencies{}, err
	}
	if err := <-consumed; err != nil {
		return latencies{}, err
	}
	slices.Sort(samples)
	return latencies{p50: percentile(samples, 0.50), p99: percentile(samples, 0.99), p999: percentile(samples, 0.999)}, nil
}

// percentile returns the nearest-rank q-quantile of sorted.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, i)]
}

// wireStats counts one API's requests as a client saw them, to explain a throughput figure: how many
// requests it took, how large they were, and how long each waited for its response.
type wireStats struct {
	key                int16
	n, out, in, e2eSum atomic.Int64
}

func (w *wireStats) OnBrokerE2E(_ kgo.BrokerMetadata, key int16, e kgo.BrokerE2E) {
	if key != w.key || e.Err() != nil {
		return
	}
	w.n.Add(1)
	w.out.Add(int64(e.BytesWritten))
	w.in.Add(int64(e.BytesRead))
	w.e2eSum.Add(int64(e.DurationE2E()))
}

func (w *wireStats) reset() { w.n.Store(0); w.out.Store(0); w.in.Store(0); w.e2eSum.Store(0) }

func (w *wireStats) String() string {
	n := w.n.Load()
	if n == 0 {
		return "no requests"
	}
	return fmt.Sprintf("%d %s requests, %.0f KiB out and %.0f KiB in each, %.2f ms round trip",
		n, kmsg.NameForKey(w.key), float64(w.out.Load())/float64(n)/1024, float64(w.in.Load())/float64(n)/1024,
		float64(w.e2eSum.Load())/float64(n)/1e6)
}

// recordSource builds records in slabs, so that producing allocates once per slab rather than twice per
// record; a slab is freed once the client has released all of its records.
type recordSource struct {
	size   int
	filler []byte
	recs   []kgo.Record
	vals   []byte
}

const slabRecords = 4096

func newRecordSource(valueBytes int) *recordSource {
	r := rand.New(rand.NewPCG(1, 2))
	filler := make([]byte, valueBytes-valueHeader)
	for i := range filler {
		filler[i] = byte(r.Uint32())
	}
	return &recordSource{size: valueBytes, filler: filler}
}

func (s *recordSource) next(seq uint64, sent int64) *kgo.Record {
	if len(s.recs) == 0 {
		s.recs = make([]kgo.Record, slabRecords)
		s.vals = make([]byte, slabRecords*s.size)
	}
	r := &s.recs[0]
	s.recs = s.recs[1:]
	v := s.vals[:s.size:s.size]
	s.vals = s.vals[s.size:]
	binary.BigEndian.PutUint64(v, seq)
	binary.BigEndian.PutUint64(v[8:], uint64(sent))
	copy(v[valueHeader:], s.filler)
	r.Value = v
	return r
}

// seqSet records which sequence numbers in [0, n) a consumer has seen.
type seqSet struct {
	n, count int
	bits     []uint64
}

func newSeqSet(n int) *seqSet { return &seqSet{n: n, bits: make([]uint64, (n+63)/64)} }

func (s *seqSet) full() bool { return s.count == s.n }

func (s *seqSet) add(seq uint64) error {
	if seq >= uint64(s.n) {
		return fmt.Errorf("sequence number %d, want below %d", seq, s.n)
	}
	w, b := seq/64, uint64(1)<<(seq%64)
	if s.bits[w]&b != 0 {
		return fmt.Errorf("sequence number %d consumed twice", seq)
	}
	s.bits[w] |= b
	s.count++
	return nil
}
