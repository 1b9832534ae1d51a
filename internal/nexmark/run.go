package nexmark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/pprof"
	"slices"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/seichedb/seiche/internal/nexmark/gen"
)

// Modes are where the queries run.
const (
	// ModeInProcess runs with no broker: the SQL on an engine.TestSession, the SQL's compiled
	// topology and the DSL program on a runtime.TestDriver.
	ModeInProcess = "inprocess"
	// ModeBroker loads the events into a Seiche broker in this process, over the network, while
	// the SQL's topology and the DSL program run on it as runtime applications.
	ModeBroker = "broker"
	// ModeServer deploys the SQL as a persistent query to a `seiche server` child process and
	// produces the events to its broker.
	ModeServer = "server"
)

// Seiche's implementations; Config.Extra adds others.
const (
	ImplSQL         = "sql"
	ImplSQLTopology = "sql-topology"
	ImplDSL         = "dsl"
)

// Config says what Run measures. The zero value of a field takes the default in parentheses.
type Config struct {
	// Queries to run, by name (q0, q1, q2).
	Queries []string
	// Events is how many Nexmark events to generate (1,000,000).
	Events int64
	// Mode is ModeInProcess, ModeBroker or ModeServer (ModeInProcess).
	Mode string
	// Count is the rounds per implementation; rounds alternate the order (1).
	Count int
	// Only, when set, restricts the run to these implementations.
	Only []string
	// Partitions of the input topics in the broker and server modes (1).
	Partitions int
	// Seiche is the seiche binary the server mode starts.
	Seiche string
	// Generator is the generator's configuration (the standard's).
	Generator gen.Config
	// Log receives a progress line while a measurement runs, and one line per measurement.
	Log io.Writer
	// Profile, when set, receives a CPU profile of the timed parts.
	Profile io.Writer
	// Extra implementations, run in the broker mode beside Seiche's.
	Extra []Impl
}

// Impl is an implementation of queries that reads the input topics of a broker and writes a
// query's output topic, outside Seiche's runtime: a baseline such as a hand-written client loop.
type Impl struct {
	Name string
	// Supports says whether the implementation has query q.
	Supports func(q Query) bool
	// Start starts q against the broker at t.Addr, consuming t.Inputs with consumer group t.Group
	// and committing what it has written (the measurement ends when the group has committed every
	// input record); it runs until ctx is done, then returns.
	Start func(ctx context.Context, q Query, t Target) error
}

// Target is where an Impl runs.
type Target struct {
	Addr   string
	Group  string
	Inputs []string
	Output string
}

func (c *Config) fill() error {
	if len(c.Queries) == 0 {
		c.Queries = []string{"q0", "q1", "q2"}
	}
	c.Events = cmpOr(c.Events, 1_000_000)
	c.Mode = cmpOr(c.Mode, ModeInProcess)
	c.Count = max(c.Count, 1)
	c.Partitions = max(c.Partitions, 1)
	if c.Log == nil {
		c.Log = io.Discard
	}
	for _, name := range c.Queries {
		if _, ok := QueryNamed(name); !ok {
			return fmt.Errorf("nexmark: unknown query %q", name)
		}
	}
	known := c.impls()
	for _, o := range c.Only {
		if !slices.Contains(known, o) {
			return fmt.Errorf("nexmark: no implementation %q in mode %s (there are %v)", o, c.Mode, known)
		}
	}
	switch c.Mode {
	case ModeInProcess, ModeBroker:
	case ModeServer:
		if c.Seiche == "" {
			return errors.New("nexmark: the server mode needs the seiche binary")
		}
	default:
		return fmt.Errorf("nexmark: unknown mode %q (inprocess, broker or server)", c.Mode)
	}
	return nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// impls are the implementations the mode runs.
func (c *Config) impls() []string {
	switch c.Mode {
	case ModeBroker:
		out := []string{ImplSQLTopology, ImplDSL}
		for _, x := range c.Extra {
			out = append(out, x.Name)
		}
		return out
	case ModeServer:
		return []string{ImplSQL}
	default:
		return []string{ImplSQL, ImplSQLTopology, ImplDSL}
	}
}

// Result is one measurement.
type Result struct {
	Query, Impl, Mode string
	// Events is every Nexmark event generated; Inputs the records of the topics the query reads.
	Events, Inputs int64
	Outputs        int64
	Wall, CPU      time.Duration
	// CPUOf says whose CPU time CPU is.
	CPUOf string
	// Latency percentiles from an input record's production to its output's arrival (broker and
	// server modes).
	P50, P99 time.Duration
}

// PerSecond is events per wall-clock second.
func (r Result) PerSecond() float64 { return float64(r.Events) / r.Wall.Seconds() }

// PerCore is events per CPU second: what one core does, however loaded the machine is.
func (r Result) PerCore() float64 { return float64(r.Events) / r.CPU.Seconds() }

// CPUPerMillion is CPU seconds per million events.
func (r Result) CPUPerMillion() float64 { return r.CPU.Seconds() * 1e6 / float64(r.Events) }

// Results are a run's measurements.
type Results []Result

// Best returns the round of query and impl with the least CPU time.
func (rs Results) Best(query, impl string) (Result, bool) {
	var b Result
	found := false
	for _, r := range rs {
		if r.Query == query && r.Impl == impl && (!found || r.CPU < b.CPU) {
			b, found = r, true
		}
	}
	return b, found
}

// Run generates the events and measures each query with each implementation of the mode, Count
// rounds, alternating the order.
func Run(ctx context.Context, cfg Config) (Results, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	var topics []string
	for _, name := range cfg.Queries {
		q, _ := QueryNamed(name)
		for _, t := range q.Reads {
			if !slices.Contains(topics, t) {
				topics = append(topics, t)
			}
		}
	}
	start := time.Now()
	g := gen.New(cfg.Generator)
	// Packed, the events kept for every round cost the measured code's garbage collections nothing.
	recs := pack(Generate(g, cfg.Events, topics))
	defer recs.free()
	fmt.Fprintf(cfg.Log, "generated %d events (%d records of %v) in %v\n", cfg.Events, recs.Len(), topics,
		time.Since(start).Round(time.Millisecond))
	if cfg.Profile != nil {
		if err := pprof.StartCPUProfile(cfg.Profile); err != nil {
			return nil, err
		}
		defer pprof.StopCPUProfile()
	}
	inputs := map[string]packedRecords{}
	for _, name := range cfg.Queries {
		q, _ := QueryNamed(name)
		in := recs.only(q.Reads)
		defer in.free() // before recs.free, deferred earlier
		inputs[name] = in
	}
	var rs Results
	for round := range cfg.Count {
		for _, name := range cfg.Queries {
			q, _ := QueryNamed(name)
			in := inputs[name]
			order := cfg.impls()
			if round%2 == 1 {
				slices.Reverse(order)
			}
			for _, impl := range order {
				if len(cfg.Only) > 0 && !slices.Contains(cfg.Only, impl) {
					continue
				}
				var r Result
				var err error
				switch cfg.Mode {
				case ModeInProcess:
					if impl == ImplDSL && q.DSL == nil {
						continue
					}
					r, err = measureInProcess(ctx, cfg, q, impl, in)
				case ModeBroker:
					x, ok := cfg.extra(impl)
					if (impl == ImplDSL && q.DSL == nil) || (ok && !x.Supports(q)) {
						continue
					}
					r, err = measureBroker(ctx, cfg, q, impl, in.unpack())
				case ModeServer:
					r, err = measureServer(ctx, cfg, q, in.unpack())
				}
				if err != nil {
					return rs, fmt.Errorf("nexmark: %s %s (%s): %w", q.Name, impl, cfg.Mode, err)
				}
				r.Query, r.Impl, r.Mode, r.Events, r.Inputs = q.Name, impl, cfg.Mode, cfg.Events, int64(in.Len())
				fmt.Fprintf(cfg.Log, "round %d %s %-14s %9.0f events/s %9.0f events/s/core %6.2f cpu-s/M events, %d outputs%s\n",
					round+1, q.Name, impl, r.PerSecond(), r.PerCore(), r.CPUPerMillion(), r.Outputs, r.latency())
				rs = append(rs, r)
			}
		}
	}
	return rs, nil
}

func (c *Config) extra(name string) (Impl, bool) {
	for _, x := range c.Extra {
		if x.Name == name {
			return x, true
		}
	}
	return Impl{}, false
}

func (r Result) latency() string {
	if r.P50 == 0 && r.P99 == 0 {
		return ""
	}
	return fmt.Sprintf(", latency p50 %v p99 %v", r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond))
}

// Print writes a table of each query and implementation's best round, with the ratio of its
// events/s/core to the baseline implementation's (the first of baselines that ran).
func (rs Results) Print(w io.Writer, queries []string, baselines ...string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "query\timpl\tmode\tevents/s\tevents/s/core\tcpu-s/M events\toutputs\tp50\tp99\tvs baseline\tbaseline\t\n")
	var impls []string
	for _, r := range rs {
		if !slices.Contains(impls, r.Impl) {
			impls = append(impls, r.Impl)
		}
	}
	sort.Strings(impls)
	for _, name := range queries {
		var base Result
		var baseName string
		for _, b := range baselines {
			if r, ok := rs.Best(name, b); ok {
				base, baseName = r, b
				break
			}
		}
		for _, impl := range impls {
			r, ok := rs.Best(name, impl)
			if !ok {
				continue
			}
			ratio := "-"
			if baseName != "" {
				ratio = fmt.Sprintf("%.2f", r.PerCore()/base.PerCore())
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%.0f\t%.2f\t%d\t%v\t%v\t%s\t%s\t\n", name, impl, r.Mode, r.PerSecond(),
				r.PerCore(), r.CPUPerMillion(), r.Outputs, r.P50.Round(time.Millisecond), r.P99.Round(time.Millisecond), ratio, baseName)
		}
	}
	tw.Flush()
}
