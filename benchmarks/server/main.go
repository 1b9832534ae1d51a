// Command server measures Seiche's SQL server (package engine and its ksqlDB-shaped REST API) on a
// broker and an HTTP listener started in this process, each workload against a baseline measured in
// the same run:
//
//   - pull: key lookups (POST /query, `SELECT * FROM T WHERE K='k<i>';`) on a table materialized by a
//     CTAS, from concurrent HTTP/1.1 keep-alive clients, against a minimal net/http handler on its
//     own loopback listener that answers every request with the same fixed response (the HTTP
//     ceiling). Every answer is checked: one row, the right one.
//   - push: `SELECT * FROM S_<round> EMIT CHANGES;` read over /query-stream (delimited) while a
//     producer sends records stamped with their produce time at a fixed rate; latency is arrival at
//     the HTTP client minus produce time. The baseline is a franz-go consumer reading the same records
//     at the same time, straight from the broker.
//   - persistent: a CSAS filter + projection over JSON against the same logic written with package
//     dsl and run by runtime.New, on the same pre-produced input, timed until the output topic holds
//     every expected record. Both outputs must hold the same values.
//
// Run it from the benchmarks module:
//
//	cd benchmarks && go run ./server
//	cd benchmarks && go run ./server -phases pull -only seiche -cpuprofile cpu.out
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/engine"
)

type config struct {
	phases         []string
	count          int
	only           string // pull and persistent: run one side only ("seiche", or "ceiling" / "dsl")
	commitInterval time.Duration
	verify         bool // persistent: compare both outputs' values
	log            bool // the broker's, engine's and application's logs to stderr

	pullKeys     int
	pullClients  int
	pullWarmup   time.Duration
	pullDuration time.Duration

	pushRate     int
	pushWarmup   time.Duration
	pushDuration time.Duration
	linger       time.Duration

	records    int
	partitions int
}

func main() {
	var cfg config
	var phases, cpuprofile string
	flag.StringVar(&phases, "phases", "pull,push,persistent", "workloads to run, comma-separated")
	flag.IntVar(&cfg.count, "count", 3, "rounds of every workload (pull and persistent alternate which side goes first); the tables show medians")
	flag.StringVar(&cfg.only, "only", "", "run one side only: seiche, or the baseline (ceiling for pull, dsl for persistent)")
	flag.DurationVar(&cfg.commitInterval, "commit-interval", time.Second, "commit interval of the engine's queries and of the DSL application")
	flag.IntVar(&cfg.pullKeys, "keys", 10_000, "pull: keys of the materialized table")
	flag.IntVar(&cfg.pullClients, "clients", 16, "pull: concurrent HTTP/1.1 keep-alive clients")
	flag.DurationVar(&cfg.pullWarmup, "pull-warmup", time.Second, "pull: untimed load before each measurement")
	flag.DurationVar(&cfg.pullDuration, "pull-duration", 10*time.Second, "pull: timed load per side and round")
	flag.IntVar(&cfg.pushRate, "rate", 10_000, "push: records produced per second")
	flag.DurationVar(&cfg.pushWarmup, "push-warmup", 2*time.Second, "push: records produced this long after the first arrival are not counted")
	flag.DurationVar(&cfg.pushDuration, "push-duration", 10*time.Second, "push: how long the counted records are produced")
	flag.DurationVar(&cfg.linger, "linger", time.Millisecond, "push: producer linger")
	flag.IntVar(&cfg.records, "records", 500_000, "persistent: input records")
	flag.IntVar(&cfg.partitions, "partitions", 4, "persistent: partitions of the input and output topics")
	flag.BoolVar(&cfg.verify, "verify", true, "persistent: check that SQL and DSL wrote the same values (untimed)")
	flag.BoolVar(&cfg.log, "log", false, "write the broker's, the engine's and the DSL application's logs (debug level) to stderr")
	flag.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run (broker, engine and clients) to this file")
	flag.Parse()
	cfg.phases = strings.Split(phases, ",")
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fatal(err)
		}
		defer pprof.StopCPUProfile()
	}
	res, err := run(context.Background(), cfg, os.Stderr)
	if err != nil {
		pprof.StopCPUProfile()
		fatal(err)
	}
	res.print(os.Stdout)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "server benchmark:", err)
	os.Exit(1)
}

// results holds every phase's figures.
type results struct {
	pull       map[string][]pullRound // by side: "seiche", "ceiling"
	push       *pushResult
	persistent map[string][]persistRound // by side: "seiche", "dsl"
	records    int                       // persistent input records
	kept       int                       // persistent output records
}

// env is what every phase runs against: one broker, one engine, its REST API.
type env struct {
	addr    string // the broker
	url     string // the REST API
	cl      *kgo.Client
	adm     *kadm.Client
	dir     string
	log     io.Writer
	started time.Time
}

func run(ctx context.Context, cfg config, log io.Writer) (res results, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dir, err := os.MkdirTemp("", "seiche-server-bench-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)

	b, err := broker.New(broker.ListenAddr("127.0.0.1:0"), broker.DataDir(filepath.Join(dir, "broker")),
		broker.Logger(cfg.logger()), broker.GroupInitialRebalanceDelay(0))
	if err != nil {
		return res, err
	}
	brokerDone := make(chan error, 1)
	go func() { brokerDone <- b.Run(ctx) }()
	defer func() { b.Close(); <-brokerDone }()

	e, err := engine.New(engine.Bootstrap(b.Addr()), engine.DataDir(filepath.Join(dir, "engine")),
		engine.CommitInterval(cfg.commitInterval), engine.Logger(cfg.logger()),
		engine.Properties(map[string]string{"auto.offset.reset": "earliest"}))
	if err != nil {
		return res, err
	}
	engineCtx, stopEngine := context.WithCancel(ctx)
	engineDone := make(chan error, 1)
	go func() { engineDone <- e.Run(engineCtx) }()
	defer func() {
		stopEngine()
		if rerr := <-engineDone; err == nil && rerr != nil {
			err = fmt.Errorf("engine: %w", rerr)
		}
		e.Close()
	}()
	select {
	case <-e.Ready():
	case rerr := <-engineDone:
		engineDone <- rerr
		return res, fmt.Errorf("engine stopped before it was ready: %v", rerr)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	api := engine.NewAPI(e)
	apiDone := make(chan error, 1)
	go func() { apiDone <- api.Serve(engineCtx, ln) }()
	defer func() { stopEngine(); <-apiDone }()

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(1<<20))
	if err != nil {
		return res, err
	}
	defer cl.Close()
	v := &env{addr: b.Addr(), url: "http://" + ln.Addr().String(), cl: cl, adm: kadm.NewClient(cl), dir: dir, log: log}

	for _, phase := range cfg.phases {
		start := time.Now()
		switch strings.TrimSpace(phase) {
		case "pull":
			res.pull, err = runPull(ctx, cfg, v)
		case "push":
			res.push, err = runPush(ctx, cfg, v)
		case "persistent":
			res.records = cfg.records
			res.persistent, res.kept, err = runPersistent(ctx, cfg, v)
		default:
			err = fmt.Errorf("unknown phase %q", phase)
		}
		if err != nil {
			return res, fmt.Errorf("%s: %w", phase, err)
		}
		fmt.Fprintf(log, "%s took %v\n", phase, time.Since(start).Round(time.Millisecond))
	}
	return res, nil
}

func (r results) print(w io.Writer) {
	if len(r.pull) > 0 {
		r.printPull(w)
	}
	if r.push != nil {
		r.push.print(w)
	}
	if len(r.persistent) > 0 {
		r.printPersistent(w)
	}
}

// median returns the median of xs (the upper one of an even count).
func median[T int | int64 | float64 | time.Duration](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// logger is the broker's, the engine's and the DSL application's logger: it discards, unless -log.
func (c config) logger() *slog.Logger {
	if c.log {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// sidesOf returns the sides of a round: rounds alternate which goes first.
func sidesOf(round int, sides []string, only string) []string {
	if only != "" {
		return []string{only}
	}
	s := slices.Clone(sides)
	if round%2 == 1 {
		slices.Reverse(s)
	}
	return s
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/1e6) }

// cpuTime returns the process's user plus system CPU time: broker, engine and clients together.
// Unlike the rates it barely moves when other processes compete for the CPUs.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
