// Command broker measures the Seiche broker against franz-go's kfake, both started in this process, with
// the same franz-go clients and the same workload in the same run:
//
//   - produce throughput (acks=all, idempotent) into 1 and 8 partitions;
//   - consume throughput, reading everything produced from the start;
//   - produce→consume latency (p50, p99, p99.9) at a fixed record rate.
//
// It prints one table with Seiche's figure, kfake's figure and their ratio on every line, each the median
// of -count rounds that alternate which broker goes first. Seiche keeps its logs in a temporary directory
// and fsyncs before answering an acks=all produce; kfake keeps everything in memory and never fsyncs.
// A last column, the client ceiling, is the same producer into a kfake that discards what it is sent:
// with the clients in the same process as the broker, no broker can beat it.
//
// Every produced record carries a sequence number, and each consume phase checks that every record came
// back exactly once, so the figures are of work actually done.
//
// Run it from the benchmarks module:
//
//	cd benchmarks && go run ./broker
//	cd benchmarks && go run ./broker -only seiche -cpuprofile seiche.pprof
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// config is one run's workload; the flags fill it in.
type config struct {
	records     int           // records per produce measurement
	warmup      int           // records produced before each measurement, not timed
	valueBytes  int           // record value size
	partitions  []int         // one produce and one consume measurement per entry
	rate        int           // records/s in the latency phase
	duration    time.Duration // length of the latency phase, after its warm-up
	linger      time.Duration // producer linger
	leaderAcks  bool          // acks=1 instead of acks=all, to see what waiting for fsync costs
	targets     []string      // "seiche", "kfake"
	dir         string        // parent of Seiche's temporary data directory; "" is os.TempDir
	count       int           // rounds; the table shows each figure's median
	ceiling     bool          // also measure produce into a kfake that discards records
	ballast     bool          // hold, while measuring Seiche, a heap ballast the size of the data kfake would hold
	onlyProduce bool          // measure produce only: no consume and no latency phase
}

const (
	targetSeiche  = "seiche"
	targetKfake   = "kfake"
	targetCeiling = "ceiling" // kfake discarding every produced record: what the producer alone can do
)

func main() {
	var (
		cfg        config
		parts      string
		only       string
		cpuprofile string
		memprofile string
		acks       string
	)
	flag.IntVar(&cfg.records, "records", 2_000_000, "records per produce measurement")
	flag.IntVar(&cfg.warmup, "warmup", -1, "records produced and not timed before each measurement (default records/10)")
	flag.IntVar(&cfg.valueBytes, "value-bytes", 100, "bytes per record value (at least 16)")
	flag.StringVar(&parts, "partitions", "1,8", "comma-separated partition counts to measure")
	flag.IntVar(&cfg.rate, "rate", 10_000, "records/s produced in the latency phase")
	flag.DurationVar(&cfg.duration, "duration", 5*time.Second, "length of the latency phase (plus up to 1s warm-up)")
	flag.DurationVar(&cfg.linger, "linger", time.Millisecond, "producer linger")
	flag.IntVar(&cfg.count, "count", 3, "rounds per broker, alternating which broker goes first; the table shows medians")
	flag.StringVar(&acks, "acks", "all", "producer acks: all (the benchmark) or 1 (diagnostic: Seiche then acks before its fsync)")
	flag.BoolVar(&cfg.ceiling, "ceiling", true, "also measure produce into a kfake that discards records (the client's own ceiling)")
	flag.BoolVar(&cfg.ballast, "ballast", true, "while measuring Seiche, keep a heap ballast as large as the record data kfake keeps in the heap, so that the clients' garbage collector runs as often against both")
	flag.StringVar(&only, "only", "", "run against one broker only: seiche or kfake")
	flag.StringVar(&cfg.dir, "dir", "", "directory for Seiche's temporary data directory (default the system temp dir)")
	flag.BoolVar(&cfg.onlyProduce, "produce-only", false, "measure produce only (no consume, no latency phase), for example to profile it")
	flag.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run (broker and clients) to this file")
	flag.StringVar(&memprofile, "memprofile", "", "write an allocation profile of the whole run to this file")
	flag.Parse()

	var err error
	if cfg.partitions, err = parseInts(parts); err != nil {
		fatal(fmt.Errorf("-partitions: %w", err))
	}
	switch only {
	case "":
		cfg.targets = []string{targetSeiche, targetKfake}
	case targetSeiche, targetKfake:
		cfg.targets = []string{only}
	default:
		fatal(fmt.Errorf("-only: want seiche or kfake, got %q", only))
	}
	switch acks {
	case "all", "-1":
	case "1":
		cfg.leaderAcks = true
	default:
		fatal(fmt.Errorf("-acks: want all or 1, got %q", acks))
	}
	if cfg.warmup < 0 {
		cfg.warmup = cfg.records / 10
	}
	if err := cfg.validate(); err != nil {
		fatal(err)
	}

	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	printHeader(os.Stdout, cfg)
	res, err := run(ctx, cfg, os.Stderr)
	if err != nil {
		stop()
		pprof.StopCPUProfile()
		fatal(err)
	}
	printTable(os.Stdout, cfg, res)
	if memprofile != "" {
		f, err := os.Create(memprofile)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			fatal(err)
		}
	}
}

func (c *config) validate() error {
	switch {
	case c.count < 1:
		return fmt.Errorf("-count must be positive")
	case c.records < 1:
		return fmt.Errorf("-records must be positive")
	case c.valueBytes < valueHeader:
		return fmt.Errorf("-value-bytes must be at least %d", valueHeader)
	case len(c.partitions) == 0:
		return fmt.Errorf("-partitions: none given")
	case c.rate < 1:
		return fmt.Errorf("-rate must be positive")
	case c.duration <= 0:
		return fmt.Errorf("-duration must be positive")
	}
	for _, p := range c.partitions {
		if p < 1 {
			return fmt.Errorf("-partitions: %d is not a partition count", p)
		}
	}
	return nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "broker benchmark:", err)
	os.Exit(1)
}

// metric is one line of the table.
type metric struct {
	workload string
	unit     string
	value    float64 // the median over the rounds
	spread   float64 // half the range over the rounds, relative to the median
}

// run measures every target in cfg.targets (and the client ceiling, if cfg.ceiling) cfg.count times,
// alternating the order, and returns each one's median of every metric. Progress goes to log.
func run(ctx context.Context, cfg config, log io.Writer) (map[string][]metric, error) {
	names := slices.Clone(cfg.targets)
	if cfg.ceiling {
		names = append(names, targetCeiling)
	}
	rounds := make(map[string][][]metric)
	for r := range cfg.count {
		order := slices.Clone(names)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for _, name := range order {
			runtime.GC() // do not bill one target for the other's garbage
			t, err := start(ctx, name, cfg.dir)
			if err != nil {
				return nil, err
			}
			// The clients' goroutines carry the profiler label target=<name> (the broker's carry
			// broker=<name> as well): go tool pprof -tags splits a profile by target and by side.
			var ms []metric
			pprof.Do(ctx, pprof.Labels("target", name), func(ctx context.Context) {
				ms, err = measure(ctx, cfg, t, fmt.Sprintf("%s, round %d/%d", name, r+1, cfg.count), log)
			})
			if cerr := t.close(); err == nil && cerr != nil {
				err = fmt.Errorf("close: %w", cerr)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			rounds[name] = append(rounds[name], ms)
		}
	}
	out := make(map[string][]metric)
	for name, rs := range rounds {
		med := slices.Clone(rs[0])
		for i := range med {
			vs := make([]float64, len(rs))
			for j, ms := range rs {
				vs[j] = ms[i].value
			}
			med[i].value = median(vs)
			if med[i].value > 0 {
				med[i].spread = (vs[len(vs)-1] - vs[0]) / 2 / med[i].value
			}
		}
		out[name] = med
	}
	return out, nil
}

func median(vs []float64) float64 {
	slices.Sort(vs)
	if len(vs)%2 == 0 {
		return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
	}
	return vs[len(vs)/2]
}

// measure runs the whole workload once against one broker, logging each figure as it is measured. Against
// the ceiling, which stores nothing, it measures produce only.
//
// kfake keeps every produced batch in this process's heap, Seiche keeps them in files. Go sizes its heap
// goal from the live heap, so against kfake the clients' garbage collector runs rarely (every few hundred
// MB allocated) and against Seiche often (every few MB): a difference of the benchmark's setup, not of the
// brokers. With cfg.ballast, a Seiche round therefore holds an untouched (noscan, never paged in) byte
// slice as large as the batches it has been sent, which is what kfake would hold.
func measure(ctx context.Context, cfg config, t *target, round string, log io.Writer) ([]metric, error) {
	var ms []metric
	var ballast [][]byte
	defer runtime.KeepAlive(&ballast)
	for _, p := range cfg.partitions {
		topic := fmt.Sprintf("bench-%dp", p)
		if err := createTopic(ctx, t.addr, topic, p); err != nil {
			return nil, err
		}
		name := fmt.Sprintf("%d partition", p)
		if p > 1 {
			name += "s"
		}
		prod, err := produceThroughput(ctx, cfg, t.addr, topic)
		if err != nil {
			return nil, fmt.Errorf("produce, %s: %w", name, err)
		}
		fmt.Fprintf(log, "%s: produce, %s: %s records/s, %.0f CPU ns/record, %.0f of them GC (%v)\n", round, name, groupThousands(int64(prod.recordsPerSec())), prod.cpuPerRecord(), prod.gcPerRecord(), prod.wire)
		ms = append(ms,
			metric{workload: "produce, " + name, unit: "records/s", value: prod.recordsPerSec()},
			metric{workload: "produce, " + name, unit: "MB/s", value: prod.mbPerSec(cfg.valueBytes)},
			metric{workload: "produce, " + name, unit: cpuUnit, value: prod.cpuPerRecord()},
		)
		if t.name == targetCeiling {
			continue
		}
		if cfg.ballast && t.name == targetSeiche && prod.wire.n.Load() > 0 {
			// The timed records' request bytes, scaled to the warm-up records too.
			n := float64(prod.wire.out.Load()) * float64(cfg.warmup+cfg.records) / float64(cfg.records)
			ballast = append(ballast, make([]byte, int(n)))
		}
		if cfg.onlyProduce {
			continue
		}
		cons, err := consumeThroughput(ctx, cfg, t.addr, topic, cfg.warmup+cfg.records)
		if err != nil {
			return nil, fmt.Errorf("consume, %s: %w", name, err)
		}
		fmt.Fprintf(log, "%s: consume, %s: %s records/s, %.0f CPU ns/record, %.0f of them GC (%v)\n", round, name, groupThousands(int64(cons.recordsPerSec())), cons.cpuPerRecord(), cons.gcPerRecord(), cons.wire)
		ms = append(ms,
			metric{workload: "consume, " + name, unit: "records/s", value: cons.recordsPerSec()},
			metric{workload: "consume, " + name, unit: "MB/s", value: cons.mbPerSec(cfg.valueBytes)},
			metric{workload: "consume, " + name, unit: cpuUnit, value: cons.cpuPerRecord()},
		)
	}
	if t.name == targetCeiling || cfg.onlyProduce {
		return ms, nil
	}
	lat, err := latency(ctx, cfg, t.addr, "bench-latency")
	if err != nil {
		return nil, fmt.Errorf("latency: %w", err)
	}
	fmt.Fprintf(log, "%s: latency at %d records/s: p50 %v, p99 %v, p99.9 %v\n", round, cfg.rate, lat.p50, lat.p99, lat.p999)
	w := fmt.Sprintf("latency, %d records/s, 1 partition", cfg.rate)
	ms = append(ms,
		metric{workload: w, unit: "p50 ms", value: ms64(lat.p50)},
		metric{workload: w, unit: "p99 ms", value: ms64(lat.p99)},
		metric{workload: w, unit: "p99.9 ms", value: ms64(lat.p999)},
	)
	return ms, nil
}

// cpuUnit is the metric of the process's CPU time (broker and clients together) per record.
const cpuUnit = "CPU ns/record"

func ms64(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func printHeader(w io.Writer, cfg config) {
	fmt.Fprintf(w, "# broker benchmark, %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(w, "# %s, %d CPUs (GOMAXPROCS %d), %s %s/%s\n", cpuModel(), runtime.NumCPU(), runtime.GOMAXPROCS(0),
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
	acks := "acks=all, idempotent"
	if cfg.leaderAcks {
		acks = "acks=1 (not the benchmark's setting), not idempotent"
	}
	fmt.Fprintf(w, "# produce: %d records of %d bytes per measurement after %d warm-up; %s, linger %v, no compression\n",
		cfg.records, cfg.valueBytes, cfg.warmup, acks, cfg.linger)
	fmt.Fprintf(w, "# median of %d round(s) per broker, alternating which broker goes first; ±: half the range over the rounds\n", cfg.count)
	fmt.Fprintf(w, "# latency: %d records/s for %v after a warm-up of %v\n", cfg.rate, cfg.duration, latencyWarmup(cfg))
	fmt.Fprintf(w, "# seiche fsyncs before acking (data in a temp dir); kfake is in memory and never fsyncs\n")
	if cfg.ballast {
		fmt.Fprintf(w, "# seiche rounds hold a heap ballast the size of the batches produced (kfake holds them in the heap)\n")
	}
	fmt.Fprintf(w, "# ratio is seiche/kfake: above 1 is better for throughput, below 1 is better for latency and CPU\n")
	if cfg.ceiling {
		fmt.Fprintf(w, "# client ceiling: the same producer into a kfake that discards every record (BlackholeProduce)\n")
	}
}

// printTable writes the metrics as a table with one column per target, the seiche/kfake ratio when both
// ran, and the client ceiling's produce figures when it ran.
func printTable(w io.Writer, cfg config, res map[string][]metric) {
	first := res[cfg.targets[0]]
	lw, mw := len("workload"), len("metric")
	for _, m := range first {
		lw, mw = max(lw, len(m.workload)), max(mw, len(m.unit))
	}
	find := func(name string, m metric) (metric, bool) {
		for _, o := range res[name] {
			if o.workload == m.workload && o.unit == m.unit {
				return o, true
			}
		}
		return metric{}, false
	}
	value := func(name string, m metric) (float64, bool) {
		o, ok := find(name, m)
		return o.value, ok
	}
	cell := func(name string, m metric) string {
		o, ok := find(name, m)
		if !ok {
			return "-"
		}
		if cfg.count == 1 {
			return formatValue(o.unit, o.value)
		}
		return fmt.Sprintf("%s ±%.0f%%", formatValue(o.unit, o.value), o.spread*100)
	}
	both := len(cfg.targets) == 2
	_, ceiling := res[targetCeiling]

	// tabwriter right-aligns every column; the text columns are padded here so that they read left-aligned.
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%-*s  %-*s\t", lw, "workload", mw, "metric")
	for _, name := range cfg.targets {
		fmt.Fprintf(tw, "%s\t", name)
	}
	if both {
		fmt.Fprint(tw, "seiche/kfake\t")
	}
	if ceiling {
		fmt.Fprint(tw, "client ceiling\t")
	}
	fmt.Fprintln(tw)
	for _, m := range first {
		fmt.Fprintf(tw, "%-*s  %-*s\t", lw, m.workload, mw, m.unit)
		for _, name := range cfg.targets {
			fmt.Fprintf(tw, "%s\t", cell(name, m))
		}
		if both {
			s, _ := value(targetSeiche, m)
			k, _ := value(targetKfake, m)
			ratio := "-"
			if k > 0 {
				ratio = fmt.Sprintf("%.2f×", s/k)
			}
			fmt.Fprintf(tw, "%s\t", ratio)
		}
		if ceiling {
			fmt.Fprintf(tw, "%s\t", cell(targetCeiling, m))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

func formatValue(unit string, v float64) string {
	if unit == "records/s" || unit == cpuUnit {
		return groupThousands(int64(v + 0.5))
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or GOARCH where there is none.
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}
