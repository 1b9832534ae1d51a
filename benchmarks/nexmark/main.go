// Command nexmark runs Nexmark queries on Seiche, written in SQL and as Go DSL programs, on the same
// generated events in the same run, and reports events/s and events/s per core for each:
//
//	go run ./nexmark -query q1 -events 1000000 -mode inprocess
//
// Mode inprocess runs with no broker: the SQL query on an engine.TestSession (the server's own
// statement path, each persistent query on a synchronous runtime.TestDriver), the DSL program on a
// runtime.TestDriver, and, to tell the engine's session bookkeeping from the query itself, the SQL
// query's compiled topology on a bare runtime.TestDriver ("sql-topology").
//
// Events are generated (by package gen, on all cores) before the timed part and piped one by one.
// "events" counts every Nexmark event, people and auctions too, as the published figures do; the
// queries here read only the bid topic, so only the bids (46 in 50) are piped. CPU time is the
// process's user plus system time (getrusage) over the timed part, so events/s/core is what one
// core does, however loaded the machine is.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	goruntime "runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/seichedb/seiche/internal/nexmark/gen"
	"github.com/seichedb/seiche/engine"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/sql/analyzer"
	"github.com/seichedb/seiche/sql/planner"
)

type config struct {
	queries []string
	events  int64
	mode    string
	count   int
	only    string // one implementation only, when set
}

const (
	implSQL         = "sql"
	implSQLTopology = "sql-topology"
	implDSL         = "dsl"
)

var impls = []string{implSQL, implSQLTopology, implDSL}

func main() {
	var cfg config
	var qs, cpuprofile string
	flag.StringVar(&qs, "query", "q0,q1,q2", "comma-separated queries to run: q0, q1, q2")
	flag.Int64Var(&cfg.events, "events", 1_000_000, "Nexmark events to generate (bids are 46 in 50)")
	flag.StringVar(&cfg.mode, "mode", "inprocess", "where the queries run: inprocess (no broker)")
	flag.IntVar(&cfg.count, "count", 1, "rounds per implementation; the table shows the best")
	flag.StringVar(&cfg.only, "only", "", "run one implementation only: sql, sql-topology or dsl")
	flag.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the timed parts to this file")
	flag.Parse()
	cfg.queries = strings.Split(qs, ",")
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "nexmark:", err)
			os.Exit(1)
		}
		defer f.Close()
		profiling = f
	}
	res, err := run(context.Background(), cfg, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nexmark:", err)
		os.Exit(1)
	}
	res.print(os.Stdout, cfg)
}

// profiling, when set, receives a CPU profile of the timed parts only.
var profiling io.Writer

type result struct {
	query, impl string
	events      int64 // all Nexmark events the bids piped stand for
	bids        int64
	outputs     int64
	wall, cpu   time.Duration
}

func (r result) perSecond() float64 { return float64(r.events) / r.wall.Seconds() }
func (r result) perCore() float64   { return float64(r.events) / r.cpu.Seconds() }

type results []result

// best returns the round of query and impl with the lowest CPU time.
func (rs results) best(query, impl string) (result, bool) {
	var b result
	found := false
	for _, r := range rs {
		if r.query == query && r.impl == impl && (!found || r.cpu < b.cpu) {
			b, found = r, true
		}
	}
	return b, found
}

func run(ctx context.Context, cfg config, log io.Writer) (results, error) {
	if cfg.mode != "inprocess" {
		return nil, fmt.Errorf("mode %q: only inprocess is implemented", cfg.mode)
	}
	if cfg.only != "" && !slices.Contains(impls, cfg.only) {
		return nil, fmt.Errorf("unknown implementation %q", cfg.only)
	}
	for _, name := range cfg.queries {
		if _, ok := queryNamed(name); !ok {
			return nil, fmt.Errorf("unknown query %q", name)
		}
	}
	start := time.Now()
	recs := generateBids(gen.New(gen.Config{}), cfg.events)
	fmt.Fprintf(log, "generated %d events (%d bids) in %v\n", cfg.events, len(recs), time.Since(start).Round(time.Millisecond))
	if profiling != nil {
		if err := pprof.StartCPUProfile(profiling); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	var rs results
	for round := range max(cfg.count, 1) {
		for _, name := range cfg.queries {
			q, _ := queryNamed(name)
			order := slices.Clone(impls)
			if round%2 == 1 {
				slices.Reverse(order)
			}
			for _, impl := range order {
				if cfg.only != "" && impl != cfg.only {
					continue
				}
				r, err := measure(ctx, q, impl, recs)
				if err != nil {
					return nil, fmt.Errorf("%s %s: %w", q.name, impl, err)
				}
				r.events = cfg.events
				fmt.Fprintf(log, "round %d %s %-12s %8.0f events/s %8.0f events/s/core, %d outputs\n",
					round+1, q.name, impl, r.perSecond(), r.perCore(), r.outputs)
				rs = append(rs, r)
			}
		}
	}
	return rs, nil
}

// generateBids returns the bids among events [0, n) as records of the bid topic, generated on all
// cores.
func generateBids(g *gen.Generator, n int64) []runtime.RawRecord {
	workers := int64(goruntime.GOMAXPROCS(0))
	parts := make([][]runtime.RawRecord, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			lo, hi := n*w/workers, n*(w+1)/workers
			for i := lo; i < hi; i++ {
				if g.KindOf(i) != gen.KindBid {
					continue
				}
				e := g.Event(i)
				parts[w] = append(parts[w], runtime.RawRecord{Topic: "bid", Value: e.JSON(), Timestamp: e.Timestamp()})
			}
		})
	}
	wg.Wait()
	return slices.Concat(parts...)
}

// measure runs q on recs with impl and times the piping.
func measure(ctx context.Context, q query, impl string, recs []runtime.RawRecord) (result, error) {
	r := result{query: q.name, impl: impl, bids: int64(len(recs))}
	var pipe func(runtime.RawRecord) error
	var outputs func() int64
	switch impl {
	case implSQL:
		s := engine.NewTestSession(nil)
		defer s.Close()
		if err := s.CreateTopic("bid", 1); err != nil {
			return r, err
		}
		if _, err := s.Execute(ctx, bidDDL+"\n"+q.sql); err != nil {
			return r, err
		}
		pipe = func(rec runtime.RawRecord) error { return s.Pipe(ctx, rec) }
		outputs = func() int64 { return int64(len(s.Written(q.sink))) }
	case implSQLTopology, implDSL:
		var topo *runtime.Topology
		var err error
		if impl == implDSL {
			topo, err = q.topology()
		} else {
			topo, err = planner.Compile(analyzer.NewMetastore(), bidDDL+"\n"+q.sql)
		}
		if err != nil {
			return r, err
		}
		d, err := runtime.NewTestDriver(topo)
		if err != nil {
			return r, err
		}
		defer d.Close()
		var n int64
		pipe = func(rec runtime.RawRecord) error {
			if err := d.PipeInput(rec.Topic, rec.Key, rec.Value, rec.Timestamp); err != nil {
				return err
			}
			for {
				if _, ok := d.ReadOutput(q.sink); !ok {
					return nil
				}
				n++
			}
		}
		outputs = func() int64 { return n }
	default:
		return r, fmt.Errorf("unknown implementation %q", impl)
	}
	goruntime.GC()
	cpu0, t0 := cpuTime(), time.Now()
	for _, rec := range recs {
		if err := pipe(rec); err != nil {
			return r, err
		}
	}
	r.wall, r.cpu = time.Since(t0), cpuTime()-cpu0
	r.outputs = outputs()
	return r, nil
}

// cpuTime returns the process's user plus system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func (rs results) print(w io.Writer, cfg config) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "query\timpl\tevents/s\tevents/s/core\tbids/s/core\toutputs\tvs dsl (per core)\t\n")
	for _, name := range cfg.queries {
		d, ok := rs.best(name, implDSL)
		if !ok {
			d = result{events: 1, cpu: 1} // no baseline: the ratio column is meaningless
		}
		for _, impl := range impls {
			r, ok := rs.best(name, impl)
			if !ok {
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%.0f\t%d\t%.2f\t\n", name, impl, r.perSecond(), r.perCore(),
				float64(r.bids)/r.cpu.Seconds(), r.outputs, r.perCore()/d.perCore())
		}
	}
	tw.Flush()
}
