// Command runtime measures the Seiche streams runtime against a hand-written franz-go loop doing the
// same work, in the same run, through the same broker:
//
//	consume → deserialize → filter (keep "click" events, half of them) → map (upper-case the value)
//	→ serialize → produce, committing offsets every commit interval after flushing the output
//	(at-least-once).
//
// The runtime also runs the same pipeline under exactly_once_v2 ("seiche-eos"): the output and the
// offsets commit in one transaction every commit interval, and its run is timed until every input
// offset is committed, which is when a read_committed reader has all the output (checked after).
// The table's last line is the ratio exactly-once ÷ at-least-once of the runtime.
//
// Both read the same pre-produced input topic with their own consumer group, one consumer (one stream
// thread) each, and write their own output topic. A run is timed from starting the application (or
// the loop's client: both pay the group join) until the output topic holds every expected record.
// Rounds alternate which goes first; the table shows medians and the ratio Seiche ÷ hand-written.
//
// By default the broker is Seiche's, started in this process on a temporary directory; -bootstrap
// measures against any Kafka-compatible cluster instead.
//
//	cd benchmarks && go run ./runtime
//	cd benchmarks && go run ./runtime -records 2000000 -partitions 8 -count 5
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/benchmarks/internal/progress"
	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

type config struct {
	records        int
	partitions     int
	valueBytes     int
	count          int
	commitInterval time.Duration
	bootstrap      string
	only           string
}

func main() {
	var cfg config
	var cpuprofile string
	flag.IntVar(&cfg.records, "records", 1_000_000, "input records")
	flag.IntVar(&cfg.partitions, "partitions", 4, "partitions of the input and output topics")
	flag.IntVar(&cfg.valueBytes, "value-bytes", 100, "bytes per input value")
	flag.IntVar(&cfg.count, "count", 3, "rounds per implementation; the table shows medians")
	flag.DurationVar(&cfg.commitInterval, "commit-interval", time.Second, "commit interval of both implementations")
	flag.StringVar(&cfg.bootstrap, "bootstrap", "", "measure against this cluster instead of an in-process Seiche broker")
	flag.StringVar(&cfg.only, "only", "", "run one implementation only: seiche or handwritten")
	flag.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	res, err := run(context.Background(), cfg, os.Stderr)
	if err != nil {
		fatal(err)
	}
	res.print(os.Stdout, cfg)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "runtime benchmark:", err)
	os.Exit(1)
}

// lastFirstOutput is when the last measured run's first output appeared, for the log.
var lastFirstOutput time.Duration

const (
	implSeiche      = "seiche"
	implSeicheEOS   = "seiche-eos"
	implHandwritten = "handwritten"
)

// results holds every round's duration per implementation.
type results struct {
	rounds map[string][]time.Duration
}

func (r results) median(impl string) time.Duration {
	d := slices.Clone(r.rounds[impl])
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return d[len(d)/2]
}

func (r results) print(w io.Writer, cfg config) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "implementation\tmedian time\trecords/s\tMB/s\t\n")
	rate := map[string]float64{}
	for _, impl := range []string{implHandwritten, implSeiche, implSeicheEOS} {
		d := r.median(impl)
		if d == 0 {
			continue
		}
		rate[impl] = float64(cfg.records) / d.Seconds()
		mb := float64(cfg.records*cfg.valueBytes) / d.Seconds() / 1e6
		fmt.Fprintf(tw, "%s\t%v\t%.0f\t%.1f\t\n", impl, d.Round(time.Millisecond), rate[impl], mb)
	}
	tw.Flush()
	if rate[implSeiche] > 0 && rate[implHandwritten] > 0 {
		fmt.Fprintf(w, "ratio seiche/handwritten (of the medians): %.2f\n", rate[implSeiche]/rate[implHandwritten])
		fmt.Fprintf(w, "ratio seiche/handwritten (median of the rounds' ratios): %.2f\n", r.pairedRatio(implSeiche, implHandwritten))
	}
	if rate[implSeicheEOS] > 0 && rate[implSeiche] > 0 {
		fmt.Fprintf(w, "ratio exactly_once_v2/at_least_once (seiche-eos/seiche, of the medians): %.2f\n", rate[implSeicheEOS]/rate[implSeiche])
		fmt.Fprintf(w, "ratio exactly_once_v2/at_least_once (median of the rounds' ratios): %.2f\n", r.pairedRatio(implSeicheEOS, implSeiche))
	}
}

// pairedRatio is the median over the rounds of impl's throughput ÷ base's. Each round runs both back
// to back, so its ratio is less exposed to a noisy machine than the ratio of the medians.
func (r results) pairedRatio(impl, base string) float64 {
	var paired []float64
	for i := range min(len(r.rounds[impl]), len(r.rounds[base])) {
		paired = append(paired, r.rounds[base][i].Seconds()/r.rounds[impl][i].Seconds())
	}
	slices.Sort(paired)
	return paired[len(paired)/2]
}

func run(ctx context.Context, cfg config, log io.Writer) (results, error) {
	res := results{rounds: map[string][]time.Duration{}}
	addr := cfg.bootstrap
	if addr == "" {
		dir, err := os.MkdirTemp("", "seiche-runtime-bench-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(dir)
		b, err := broker.New(broker.ListenAddr("127.0.0.1:0"), broker.DataDir(dir),
			broker.Logger(slog.New(slog.DiscardHandler)), broker.GroupInitialRebalanceDelay(0))
		if err != nil {
			return res, err
		}
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		defer func() { b.Close(); <-done }()
		addr = b.Addr()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(1<<20))
	if err != nil {
		return res, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	suffix := fmt.Sprint(time.Now().UnixNano())
	input := "bench-in-" + suffix
	if err := createTopic(ctx, adm, input, cfg.partitions); err != nil {
		return res, err
	}
	want, err := produceInput(ctx, cl, input, cfg)
	if err != nil {
		return res, err
	}
	impls := []string{implHandwritten, implSeiche, implSeicheEOS}
	if cfg.only != "" {
		impls = []string{cfg.only}
	}
	for round := range cfg.count {
		order := slices.Clone(impls)
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, impl := range order {
			name := fmt.Sprintf("%s-%s-%d", impl, suffix, round)
			output := "bench-out-" + name
			if err := createTopic(ctx, adm, output, cfg.partitions); err != nil {
				return res, err
			}
			var d time.Duration
			switch impl {
			case implSeiche:
				d, err = runSeiche(ctx, addr, adm, cfg, name, input, output, want, runtime.AtLeastOnce)
			case implSeicheEOS:
				d, err = runSeiche(ctx, addr, adm, cfg, name, input, output, want, runtime.ExactlyOnceV2)
			case implHandwritten:
				d, err = runHandwritten(ctx, addr, adm, cfg, name, input, output, want)
			default:
				err = fmt.Errorf("unknown implementation %q", impl)
			}
			if err != nil {
				return res, fmt.Errorf("%s round %d: %w", impl, round, err)
			}
			fmt.Fprintf(log, "round %d %-11s %v (%.0f records/s; first output after %v)\n", round, impl,
				d.Round(time.Millisecond), float64(cfg.records)/d.Seconds(), lastFirstOutput.Round(time.Millisecond))
			res.rounds[impl] = append(res.rounds[impl], d)
		}
	}
	return res, nil
}

func createTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int) error {
	_, err := adm.CreateTopic(ctx, int32(partitions), -1, nil, topic)
	return err
}

// produceInput writes the input: values "click|..." and "view|..." alternating, padded to
// value-bytes, keyed by one of 1000 users. It returns how many records the pipeline keeps.
func produceInput(ctx context.Context, cl *kgo.Client, topic string, cfg config) (int64, error) {
	pad := strings.Repeat("x", max(cfg.valueBytes-24, 0))
	var perr error
	var kept int64
	produced := progress.Start(os.Stderr, "runtime benchmark: producing input", int64(cfg.records), progress.Every)
	defer produced.Stop()
	for i := range cfg.records {
		kind := "view"
		if i%2 == 0 {
			kind = "click"
			kept++
		}
		v := fmt.Sprintf("%s|user-%04d|%s", kind, i%1000, pad)
		v = v[:min(len(v), cfg.valueBytes)]
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "user-%04d", i%1000), Value: []byte(v)}, func(_ *kgo.Record, err error) {
			produced.Add(1)
			if err != nil && perr == nil {
				perr = err
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return 0, err
	}
	return kept, perr
}

// The work both implementations do per record.
func keep(v string) bool        { return strings.HasPrefix(v, "click") }
func transform(v string) string { return strings.ToUpper(v) }
func pipeline() *dsl.Builder {
	b := dsl.NewBuilder()
	events := dsl.Source(b, "input", serde.String(), serde.String())
	clicks := events.Filter(func(_, v string) (bool, error) { return keep(v), nil })
	dsl.MapValues(clicks, func(_, v string) (string, error) { return transform(v), nil }).WithValueSerde(serde.String()).To("output")
	return b
}

func runSeiche(ctx context.Context, addr string, adm *kadm.Client, cfg config, name, input, output string, want int64, g runtime.Guarantee) (time.Duration, error) {
	b := dsl.NewBuilder()
	events := dsl.Source(b, input, serde.String(), serde.String())
	clicks := events.Filter(func(_, v string) (bool, error) { return keep(v), nil })
	dsl.MapValues(clicks, func(_, v string) (string, error) { return transform(v), nil }).WithValueSerde(serde.String()).To(output)
	topo, err := b.Build()
	if err != nil {
		return 0, err
	}
	start := time.Now()
	app, err := runtime.New(topo, runtime.ApplicationID(name), runtime.Bootstrap(addr), runtime.ProcessingGuarantee(g),
		runtime.CommitInterval(cfg.commitInterval), runtime.Logger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return 0, err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- app.Run(ctx) }()
	var d time.Duration
	if g == runtime.ExactlyOnceV2 {
		d, err = waitCommitted(ctx, adm, name, input, start, runErr)
	} else {
		d, err = waitOutput(ctx, adm, output, want, start, runErr)
	}
	app.Close()
	if err != nil {
		return 0, err
	}
	if g == runtime.ExactlyOnceV2 {
		if n, err := countCommitted(ctx, addr, output); err != nil || n != want {
			return 0, fmt.Errorf("read_committed output: %d records (%v), want %d", n, err, want)
		}
	}
	return d, checkCommitted(ctx, adm, name, input)
}

// waitCommitted returns the time from start until group has committed every offset of input: under
// exactly-once, when the output of all of it is committed too. It also notes when the group's first
// commit appeared (firstOutput).
func waitCommitted(ctx context.Context, adm *kadm.Client, group, input string, start time.Time, failed <-chan error) (time.Duration, error) {
	var first time.Duration
	for {
		select {
		case err := <-failed:
			return 0, fmt.Errorf("stopped early: %v", err)
		default:
		}
		lags, err := adm.Lag(ctx, group)
		if err != nil {
			return 0, err
		}
		if l, ok := lags[group]; ok && l.FetchErr == nil && l.DescribeErr == nil {
			parts, done := l.Lag[input], len(l.Lag[input]) > 0
			for _, p := range parts {
				if p.Commit.At > 0 && first == 0 {
					first = time.Since(start)
					lastFirstOutput = first
				}
				done = done && p.Err == nil && p.Commit.At >= 0 && p.Lag == 0
			}
			if done {
				return time.Since(start), nil
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// countCommitted reads topic with isolation read_committed up to its last stable offset and returns
// the number of records (transaction markers left out).
func countCommitted(ctx context.Context, addr, topic string) (int64, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords())
	if err != nil {
		return 0, err
	}
	defer cl.Close()
	lso, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err != nil {
		return 0, err
	}
	ends := map[int32]int64{}
	lso.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			ends[o.Partition] = o.Offset
		}
	})
	var n int64
	for len(ends) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return n, err
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset+1 >= ends[r.Partition] {
				delete(ends, r.Partition)
			}
			if !r.Attrs.IsControl() {
				n++
			}
		})
	}
	return n, nil
}

func runHandwritten(ctx context.Context, addr string, adm *kadm.Client, cfg config, name, input, output string, want int64) (time.Duration, error) {
	start := time.Now()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(name), kgo.ConsumeTopics(input),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return 0, err
	}
	lctx, cancel := context.WithCancel(ctx)
	loopErr := make(chan error, 1)
	go func() { loopErr <- handwrittenLoop(lctx, cl, output, cfg.commitInterval) }()
	d, err := waitOutput(ctx, adm, output, want, start, loopErr)
	cancel()
	if lerr := <-loopErr; err == nil && lerr != nil {
		err = lerr
	}
	cl.Close()
	if err != nil {
		return 0, err
	}
	return d, checkCommitted(ctx, adm, name, input)
}

// handwrittenLoop is what one writes with franz-go alone: poll, filter, map, produce; every commit
// interval flush the output and commit what was polled. On the way out it commits once more.
func handwrittenLoop(ctx context.Context, cl *kgo.Client, output string, interval time.Duration) error {
	var perr error
	promise := func(_ *kgo.Record, err error) {
		if err != nil && perr == nil {
			perr = err
		}
	}
	commit := func(ctx context.Context) error {
		if err := cl.Flush(ctx); err != nil {
			return err
		}
		if perr != nil {
			return perr
		}
		return cl.CommitUncommittedOffsets(ctx)
	}
	next := time.Now().Add(interval)
	for {
		fs := cl.PollRecords(ctx, 1000)
		if ctx.Err() != nil {
			return commit(context.Background())
		}
		fs.EachRecord(func(r *kgo.Record) {
			k, v := string(r.Key), string(r.Value) // deserialize, as a typed pipeline does
			if !keep(v) {
				return
			}
			out := transform(v)
			cl.Produce(ctx, &kgo.Record{Topic: output, Key: []byte(k), Value: []byte(out), Timestamp: r.Timestamp}, promise)
		})
		if time.Now().After(next) {
			if err := commit(ctx); err != nil && ctx.Err() == nil {
				return err
			}
			next = time.Now().Add(interval)
		}
	}
}

// waitOutput returns the time from start until topic holds want records. It also notes when the
// first output appeared (firstOutput), to tell start-up from throughput.
func waitOutput(ctx context.Context, adm *kadm.Client, topic string, want int64, start time.Time, failed <-chan error) (time.Duration, error) {
	var first time.Duration
	written := progress.Start(os.Stderr, "runtime benchmark: output "+topic, want, progress.Every)
	defer written.Stop()
	for {
		select {
		case err := <-failed:
			return 0, fmt.Errorf("stopped early: %v", err)
		default:
		}
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return 0, err
		}
		var n int64
		ends.Each(func(o kadm.ListedOffset) { n += o.Offset })
		written.Set(n)
		if n > 0 && first == 0 {
			first = time.Since(start)
			lastFirstOutput = first
		}
		if n >= want {
			if n > want {
				return 0, fmt.Errorf("output has %d records, want %d", n, want)
			}
			return time.Since(start), nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// checkCommitted checks that the group committed every input offset when it stopped.
func checkCommitted(ctx context.Context, adm *kadm.Client, group, input string) error {
	lags, err := adm.Lag(ctx, group)
	if err != nil {
		return err
	}
	l, ok := lags[group]
	if !ok || l.FetchErr != nil {
		return errors.New("no committed offsets")
	}
	if total := l.Lag.TotalByTopic()[input].Lag; total != 0 {
		return fmt.Errorf("group %s stopped with lag %d", group, total)
	}
	return nil
}
