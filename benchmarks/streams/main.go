// Command streams measures Seiche's stateful DSL against goka (github.com/lovoo/goka v1.1.17, the
// Go stream-processing library closest to it) doing the same stateful work in the same run,
// through the same broker:
//
//   - count: the number of records per key (dsl GroupByKey().Count(); goka: a group table of
//     int64 incremented in the input callback, goka's canonical example).
//   - window-count: the number of records per key and one-second tumbling window (dsl
//     WindowedBy(TumblingWindows).Count(); goka, which has no windows: a group-table value holding
//     the key's live windows and their counts, the ones past retention dropped).
//   - join: a stream-table join (dsl StreamTableJoin of the input with a table of one row per key)
//     written to an output topic; Seiche only, as a throughput figure.
//
// Each implementation reads the same pre-produced input topic with its own consumer group and keeps
// its state in its own store with a changelog topic (Seiche: Pebble, the store's changelog; goka:
// LevelDB, the group table topic). A run is timed from starting the application until its group
// has committed the whole input (both commit every -commit-interval), so both pay the group join.
// Rounds alternate which implementation goes first; the table shows medians and Seiche ÷ goka.
//
//	cd benchmarks && go run ./streams
//	cd benchmarks && go run ./streams -records 2000000 -keys 100000 -count 5
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/lovoo/goka/storage"
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
	keys           int
	partitions     int
	count          int
	commitInterval time.Duration
	window         time.Duration
	only           string
	workloads      string
}

func main() {
	var cfg config
	flag.IntVar(&cfg.records, "records", 1_000_000, "input records")
	flag.IntVar(&cfg.keys, "keys", 10_000, "distinct keys")
	flag.IntVar(&cfg.partitions, "partitions", 4, "partitions of every topic")
	flag.IntVar(&cfg.count, "count", 3, "rounds per implementation; the table shows medians")
	flag.DurationVar(&cfg.commitInterval, "commit-interval", 200*time.Millisecond, "commit interval of both implementations (the timing granularity)")
	flag.DurationVar(&cfg.window, "window", time.Second, "tumbling window size of window-count (input records are 1 ms apart)")
	flag.StringVar(&cfg.only, "only", "", "run one implementation only: seiche or goka")
	flag.StringVar(&cfg.workloads, "workloads", "count,window-count,join", "workloads to run")
	flag.Int64Var(&cacheBytes, "cache-bytes", dsl.DefaultCacheBytes, "record cache of each Seiche store")
	flag.DurationVar(&retention, "retention", 0, "retention of Seiche's window store (0: the default, window size plus grace)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "streams:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	res, err := run(context.Background(), cfg, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "streams:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
	res.print(os.Stdout, cfg)
}

const (
	implSeiche = "seiche"
	implGoka   = "goka"
)

type results struct {
	rounds map[string][]time.Duration // "<workload>/<impl>"
	order  []string
}

func (r *results) add(key string, d time.Duration) {
	if _, ok := r.rounds[key]; !ok {
		r.order = append(r.order, key)
	}
	r.rounds[key] = append(r.rounds[key], d)
}

func (r results) median(key string) time.Duration {
	ds := slices.Clone(r.rounds[key])
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func (r results) print(w io.Writer, cfg config) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "workload\timplementation\tmedian time\trecords/s\tratio seiche/goka\n")
	for _, key := range r.order {
		d := r.median(key)
		wl, impl, _ := cut(key)
		ratio := ""
		if impl == implSeiche {
			if g := r.median(wl + "/" + implGoka); g > 0 {
				ratio = fmt.Sprintf("%.2f×", g.Seconds()/d.Seconds())
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%v\t%.0f\t%s\n", wl, impl, d.Round(time.Millisecond), float64(cfg.records)/d.Seconds(), ratio)
	}
	tw.Flush()
}

func cut(key string) (string, string, bool) {
	for i := range key {
		if key[i] == '/' {
			return key[:i], key[i+1:], true
		}
	}
	return key, "", false
}

func run(ctx context.Context, cfg config, log io.Writer) (results, error) {
	res := results{rounds: map[string][]time.Duration{}}
	dir, err := os.MkdirTemp("", "seiche-streams-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	b, err := broker.New(broker.ListenAddr("127.0.0.1:0"), broker.DataDir(dir+"/broker"),
		broker.Logger(slog.New(slog.DiscardHandler)), broker.GroupInitialRebalanceDelay(0))
	if err != nil {
		return res, err
	}
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	defer func() { b.Close(); <-done }()
	addr := b.Addr()

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(1<<20))
	if err != nil {
		return res, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
	input, profiles := "streams-in-"+suffix, "streams-profiles-"+suffix
	for _, t := range []string{input, profiles} {
		if _, err := adm.CreateTopic(ctx, int32(cfg.partitions), -1, nil, t); err != nil {
			return res, err
		}
	}
	if err := produceInput(ctx, cl, input, profiles, cfg); err != nil {
		return res, err
	}
	impls := []string{implGoka, implSeiche}
	if cfg.only != "" {
		impls = []string{cfg.only}
	}
	workloads := splitComma(cfg.workloads)
	for round := range cfg.count {
		for _, wl := range workloads {
			order := slices.Clone(impls)
			if round%2 == 1 {
				slices.Reverse(order)
			}
			for _, impl := range order {
				if wl == "join" && impl == implGoka {
					continue
				}
				name := fmt.Sprintf("%s-%s-%s-%d", wl, impl, suffix, round)
				var d time.Duration
				switch impl {
				case implSeiche:
					d, err = runSeiche(ctx, addr, adm, cfg, wl, name, input, profiles, dir)
				case implGoka:
					d, err = runGoka(ctx, addr, adm, cfg, wl, name, input, dir)
				}
				if err != nil {
					return res, fmt.Errorf("%s %s round %d: %w", wl, impl, round, err)
				}
				fmt.Fprintf(log, "round %d %-12s %-6s %v (%.0f records/s)\n", round, wl, impl, d.Round(time.Millisecond), float64(cfg.records)/d.Seconds())
				res.add(wl+"/"+impl, d)
			}
		}
	}
	return res, nil
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// produceInput writes cfg.records records keyed "k<i mod keys>" with an 8-byte value, 1 ms apart
// in event time, and one profile row per key.
func produceInput(ctx context.Context, cl *kgo.Client, input, profiles string, cfg config) error {
	base := time.Now().Add(-time.Duration(cfg.records) * time.Millisecond).Truncate(time.Second)
	errs := make(chan error, 1)
	produced := progress.Start(os.Stderr, "streams: producing input", int64(cfg.records+cfg.keys), progress.Every)
	defer produced.Stop()
	promise := func(_ *kgo.Record, err error) {
		produced.Add(1)
		if err != nil {
			select {
			case errs <- err:
			default:
			}
		}
	}
	for i := range cfg.keys {
		cl.Produce(ctx, &kgo.Record{Topic: profiles, Key: []byte("k" + strconv.Itoa(i)), Value: []byte("region-" + strconv.Itoa(i%16))}, promise)
	}
	for i := range cfg.records {
		v := binary.BigEndian.AppendUint64(nil, uint64(i))
		cl.Produce(ctx, &kgo.Record{Topic: input, Key: []byte("k" + strconv.Itoa(i%cfg.keys)), Value: v, Timestamp: base.Add(time.Duration(i) * time.Millisecond)}, promise)
	}
	if err := cl.Flush(ctx); err != nil {
		return err
	}
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

var (
	cacheBytes = int64(dsl.DefaultCacheBytes)
	retention  time.Duration
)

func runSeiche(ctx context.Context, addr string, adm *kadm.Client, cfg config, wl, name, input, profiles, dir string) (time.Duration, error) {
	b := dsl.NewBuilder()
	in := dsl.Source(b, input, serde.String(), serde.Bytes())
	out := "out-" + name
	if _, err := adm.CreateTopic(ctx, int32(cfg.partitions), -1, nil, out); err != nil {
		return 0, err
	}
	switch wl {
	case "count":
		in.GroupByKey().Count(dsl.Materialized("counts"), dsl.CacheBytes(cacheBytes)).ToStream().To(out)
	case "window-count":
		dsl.WindowedCount(in.GroupByKey().WindowedBy(dsl.TumblingWindows(cfg.window, 0)), dsl.Materialized("counts"), dsl.CacheBytes(cacheBytes),
			dsl.Retention(retention)).ToStream().To(out)
	case "join":
		table := dsl.TableSource(b, profiles, serde.String(), serde.String(), dsl.Materialized("profiles"))
		dsl.StreamTableJoin(in, table, func(_ string, v []byte, region string) (string, error) { return region, nil }).WithValueSerde(serde.String()).To(out)
	default:
		return 0, fmt.Errorf("unknown workload %q", wl)
	}
	topo, err := b.Build()
	if err != nil {
		return 0, err
	}
	app, err := runtime.New(topo, runtime.ApplicationID(name), runtime.Bootstrap(addr), runtime.StateDir(dir+"/seiche-state"),
		runtime.CommitInterval(cfg.commitInterval), runtime.Logger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return 0, err
	}
	start := time.Now()
	failed := make(chan error, 1)
	go func() { failed <- app.Run(ctx) }()
	defer app.Close()
	topics := []string{input}
	if wl == "join" {
		topics = append(topics, profiles)
	}
	return waitCommitted(ctx, adm, name, topics, start, failed)
}

// runGoka runs the goka processor of wl until its group has committed the input.
func runGoka(ctx context.Context, addr string, adm *kadm.Client, cfg config, wl, name, input, dir string) (time.Duration, error) {
	scfg := goka.DefaultConfig()
	scfg.Consumer.Offsets.Initial = sarama.OffsetOldest // read the pre-produced input, like Seiche
	scfg.Consumer.Offsets.AutoCommit.Interval = cfg.commitInterval
	goka.ReplaceGlobalConfig(scfg)
	tmc := goka.NewTopicManagerConfig()
	tmc.Table.Replication = 1
	tmc.Stream.Replication = 1

	var edge goka.Edge
	switch wl {
	case "count":
		edge = goka.Input(goka.Stream(input), new(codec.Bytes), func(gctx goka.Context, _ any) {
			var n int64
			if v := gctx.Value(); v != nil {
				n = v.(int64)
			}
			gctx.SetValue(n + 1)
		})
	case "window-count":
		size := cfg.window.Milliseconds()
		edge = goka.Input(goka.Stream(input), new(codec.Bytes), func(gctx goka.Context, _ any) {
			var ws windows
			if v := gctx.Value(); v != nil {
				ws = v.(windows)
			}
			ts := gctx.Timestamp().UnixMilli()
			start := ts - ts%size
			ws = ws.add(start, ts-size) // retention: one window back, as Seiche's size + grace 0
			gctx.SetValue(ws)
		})
	default:
		return 0, fmt.Errorf("goka has no %s workload", wl)
	}
	var persist goka.Edge = goka.Persist(new(codec.Int64))
	if wl == "window-count" {
		persist = goka.Persist(windowsCodec{})
	}
	g := goka.DefineGroup(goka.Group(name), edge, persist)
	p, err := goka.NewProcessor([]string{addr}, g,
		goka.WithTopicManagerBuilder(goka.TopicManagerBuilderWithTopicManagerConfig(tmc)),
		goka.WithStorageBuilder(storage.DefaultBuilder(dir+"/goka-state")),
		goka.WithLogger(nopLogger{}))
	if err != nil {
		return 0, err
	}
	start := time.Now()
	rctx, cancel := context.WithCancel(ctx)
	failed := make(chan error, 1)
	go func() { failed <- p.Run(rctx) }()
	defer func() { cancel(); <-failed }()
	return waitCommitted(ctx, adm, name, []string{input}, start, failed)
}

// windows are a goka window-count value: (start, count) pairs of the key's live windows.
type windows []int64

func (ws windows) add(start, expireBefore int64) windows {
	out := ws[:0]
	found := false
	for i := 0; i+1 < len(ws); i += 2 {
		if ws[i] <= expireBefore {
			continue
		}
		if ws[i] == start {
			ws[i+1]++
			found = true
		}
		out = append(out, ws[i], ws[i+1])
	}
	if !found {
		out = append(out, start, 1)
	}
	return out
}

type windowsCodec struct{}

func (windowsCodec) Encode(v any) ([]byte, error) {
	ws := v.(windows)
	out := make([]byte, 0, 8*len(ws))
	for _, x := range ws {
		out = binary.BigEndian.AppendUint64(out, uint64(x))
	}
	return out, nil
}

func (windowsCodec) Decode(b []byte) (any, error) {
	if len(b)%8 != 0 {
		return nil, errors.New("windows: bad length")
	}
	ws := make(windows, len(b)/8)
	for i := range ws {
		ws[i] = int64(binary.BigEndian.Uint64(b[8*i:]))
	}
	return ws, nil
}

type nopLogger struct{}

func (nopLogger) Print(...any)                      {}
func (nopLogger) Println(...any)                    {}
func (nopLogger) Printf(string, ...any)             {}
func (nopLogger) Debugf(string, ...any)             {}
func (nopLogger) PrefixedLogger(string) goka.Logger { return nopLogger{} }

// waitCommitted polls the group's committed offsets until they reach the end of every topic.
func waitCommitted(ctx context.Context, adm *kadm.Client, group string, topics []string, start time.Time, failed <-chan error) (time.Duration, error) {
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return 0, err
	}
	want := map[string]map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if want[o.Topic] == nil {
			want[o.Topic] = map[int32]int64{}
		}
		want[o.Topic][o.Partition] = o.Offset
	})
	var total int64
	for _, parts := range want {
		for _, end := range parts {
			total += end
		}
	}
	committed := progress.Start(os.Stderr, "streams: "+group+" committed", total, progress.Every)
	defer committed.Stop()
	deadline := time.Now().Add(10 * time.Minute)
	for {
		select {
		case err := <-failed:
			if err == nil {
				err = errors.New("stopped before committing the input")
			}
			return 0, err
		default:
		}
		offs, err := adm.FetchOffsets(ctx, group)
		if err == nil {
			ok := true
			var done int64
			for t, parts := range want {
				for p, end := range parts {
					o, found := offs.Lookup(t, p)
					if end > 0 && (!found || o.At < end) {
						ok = false
					}
					if found {
						done += min(max(o.At, 0), end)
					}
				}
			}
			committed.Set(done)
			if ok {
				return time.Since(start), nil
			}
		}
		if time.Now().After(deadline) {
			return 0, errors.New("input not committed within 10 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
