package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// The persistent query and its input: JSON orders without a key, AMOUNT = i mod 100, so that
// AMOUNT > 10 keeps 89 in 100.
const (
	persistInput = "persist-in"
	ordersDDL    = "CREATE STREAM ORDERS (ID BIGINT, AMOUNT BIGINT) WITH (KAFKA_TOPIC='persist-in', VALUE_FORMAT='JSON');"
	csasFormat   = "CREATE STREAM %s WITH (KAFKA_TOPIC='%s') AS SELECT ID, AMOUNT*2 AS A FROM ORDERS WHERE AMOUNT > 10;"
)

func kept(records int) int {
	n := 0
	for i := range records {
		if i%100 > 10 {
			n++
		}
	}
	return n
}

// order and doubled are the DSL side's typed values: what a user of package dsl writes.
type order struct {
	ID     int64 `json:"ID"`
	AMOUNT int64 `json:"AMOUNT"`
}

type doubled struct {
	ID int64 `json:"ID"`
	A  int64 `json:"A"`
}

// dslTopology is the CSAS written with package dsl.
func dslTopology(output string) (*runtime.Topology, error) {
	b := dsl.NewBuilder()
	orders := dsl.Source(b, persistInput, serde.Bytes(), serde.JSON[order]())
	big := orders.Filter(func(_ []byte, o order) (bool, error) { return o.AMOUNT > 10, nil })
	dsl.MapValues(big, func(_ []byte, o order) (doubled, error) { return doubled{ID: o.ID, A: o.AMOUNT * 2}, nil }).WithValueSerde(serde.JSON[doubled]()).To(output)
	return b.Build()
}

// persistRound is one side's run in one round.
type persistRound struct {
	elapsed time.Duration
	cpu     time.Duration // the process's CPU time during the run
}

// runPersistent produces the input once, then runs the CSAS and the DSL application on it, cfg.count
// rounds each, each into an output topic of its own created beforehand. A run is timed from
// submitting the statement (or creating the application) until its output holds every expected
// record; both pay the group join. The query or application is stopped after each run.
func runPersistent(ctx context.Context, cfg config, v *env) (map[string][]persistRound, int, error) {
	if err := createTopic(ctx, v.adm, persistInput, cfg.partitions); err != nil {
		return nil, 0, err
	}
	var perr error
	var mu sync.Mutex
	for i := range cfg.records {
		r := &kgo.Record{Topic: persistInput, Value: fmt.Appendf(nil, `{"ID":%d,"AMOUNT":%d}`, i, i%100)}
		v.cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil && perr == nil {
				perr = err
			}
		})
	}
	if err := v.cl.Flush(ctx); err != nil {
		return nil, 0, err
	}
	if perr != nil {
		return nil, 0, perr
	}
	if _, err := v.ksql(ctx, ordersDDL); err != nil {
		return nil, 0, err
	}
	want := kept(cfg.records)

	res := map[string][]persistRound{}
	var reference map[string]int // the first output's values, with their counts
	var referenceTopic string
	for round := range cfg.count {
		for _, side := range sidesOf(round, []string{sideDSL, sideSeiche}, cfg.only) {
			output := fmt.Sprintf("persist-out-%s-%d", side, round)
			if err := createTopic(ctx, v.adm, output, cfg.partitions); err != nil {
				return nil, 0, err
			}
			var d time.Duration
			var err error
			cpu0 := cpuTime()
			switch side {
			case sideSeiche:
				d, err = runCSAS(ctx, v, fmt.Sprintf("OUT_%d", round), output, want)
			case sideDSL:
				d, err = runDSL(ctx, cfg, v, fmt.Sprintf("dsl-%d", round), output, want)
			default:
				err = fmt.Errorf("unknown side %q", side)
			}
			cpu := cpuTime() - cpu0
			if err != nil {
				return nil, 0, fmt.Errorf("%s round %d: %w", side, round, err)
			}
			fmt.Fprintf(v.log, "persistent round %d %-6s %d records in %v: %.0f records/s, %.0f CPU ns/record\n", round, side,
				cfg.records, d.Round(time.Millisecond), float64(cfg.records)/d.Seconds(), float64(cpu)/float64(cfg.records))
			res[side] = append(res[side], persistRound{elapsed: d, cpu: cpu})
			if !cfg.verify {
				continue
			}
			got, err := values(ctx, v, output, want)
			if err != nil {
				return nil, 0, err
			}
			if reference == nil {
				reference, referenceTopic = got, output
			} else if !maps.Equal(got, reference) {
				return nil, 0, fmt.Errorf("%s and %s hold different values", output, referenceTopic)
			}
		}
	}
	return res, want, nil
}

// runCSAS submits the CSAS through /ksql, waits for its output, and terminates it.
func runCSAS(ctx context.Context, v *env, sink, output string, want int) (time.Duration, error) {
	start := time.Now()
	ents, err := v.ksql(ctx, fmt.Sprintf(csasFormat, sink, output))
	if err != nil {
		return 0, err
	}
	id, err := queryID(ents)
	if err != nil {
		return 0, err
	}
	d, err := waitOutput(ctx, v.adm, output, int64(want), start, nil)
	if _, terr := v.ksql(ctx, "TERMINATE "+id+";"); err == nil {
		err = terr
	}
	return d, err
}

// runDSL runs the DSL application with the engine's settings for a query (one stream thread, the
// same commit interval, earliest offsets) until its output is complete.
func runDSL(ctx context.Context, cfg config, v *env, appID, output string, want int) (time.Duration, error) {
	topo, err := dslTopology(output)
	if err != nil {
		return 0, err
	}
	stateDir := filepath.Join(v.dir, "dsl", appID)
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return 0, err
	}
	start := time.Now()
	app, err := runtime.New(topo, runtime.ApplicationID(appID), runtime.Bootstrap(v.addr), runtime.StateDir(stateDir),
		runtime.CommitInterval(cfg.commitInterval), runtime.Logger(cfg.logger()),
		runtime.ClientOpts(kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())))
	if err != nil {
		return 0, err
	}
	runErr := make(chan error, 1)
	go func() { runErr <- app.Run(ctx) }()
	d, err := waitOutput(ctx, v.adm, output, int64(want), start, runErr)
	app.Close()
	return d, err
}

// values reads topic's records and returns each value with how many records carry it.
func values(ctx context.Context, v *env, topic string, want int) (map[string]int, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(v.addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out := map[string]int{}
	for n := 0; n < want; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("reading %s: %d of %d records: %w", topic, n, want, err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			out[string(r.Value)]++
			n++
		})
	}
	return out, nil
}

func (r results) printPersistent(w io.Writer) {
	fmt.Fprintf(w, "\npersistent: CSAS filter + projection, %d JSON records in, %d out\n", r.records, r.kept)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "side\tmedian time\trecords/s\tCPU ns/record\t\n")
	rate, cpu := map[string]float64{}, map[string]float64{}
	for _, side := range []string{sideDSL, sideSeiche} {
		rs := r.persistent[side]
		if len(rs) == 0 {
			continue
		}
		var ds []time.Duration
		var cpus []float64
		for _, x := range rs {
			ds, cpus = append(ds, x.elapsed), append(cpus, float64(x.cpu)/float64(r.records))
		}
		d := median(ds)
		rate[side], cpu[side] = float64(r.records)/d.Seconds(), median(cpus)
		fmt.Fprintf(tw, "%s\t%v\t%.0f\t%.0f\t\n", side, d.Round(time.Millisecond), rate[side], cpu[side])
	}
	tw.Flush()
	if rate[sideDSL] > 0 && rate[sideSeiche] > 0 {
		var paired []float64
		ds, ss := r.persistent[sideDSL], r.persistent[sideSeiche]
		for i := range min(len(ds), len(ss)) {
			paired = append(paired, ds[i].elapsed.Seconds()/ss[i].elapsed.Seconds())
		}
		fmt.Fprintf(w, "ratio sql/dsl: %.2f of the medians, %.2f median of the rounds' ratios, %.2f by CPU per record (dsl/sql) (goal >= 0.9)\n",
			rate[sideSeiche]/rate[sideDSL], median(paired), cpu[sideDSL]/cpu[sideSeiche])
	}
}
