package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	sideSeiche  = "seiche"
	sideCeiling = "ceiling"
	sideDSL     = "dsl"
)

// pullRound is one side's figures in one round.
type pullRound struct {
	requests int
	elapsed  time.Duration
	cpu      time.Duration // the process's CPU time during the timed window
	p50, p99 time.Duration
}

func (r pullRound) rate() float64 { return float64(r.requests) / r.elapsed.Seconds() }

// cpuPerLookup is the process's CPU time per lookup in microseconds: server and clients.
func (r pullRound) cpuPerLookup() float64 { return float64(r.cpu) / 1e3 / float64(r.requests) }

// pullCase is what a lookup of one key sends and must find in the answer.
type pullCase struct {
	body []byte // the /query request
	row  []byte // the answer's one row, as the server writes it
}

// runPull materializes a table of cfg.pullKeys keys with a CTAS, checks a few lookups, then runs the
// lookup load against the engine and against the ceiling handler, cfg.count rounds each.
func runPull(ctx context.Context, cfg config, v *env) (map[string][]pullRound, error) {
	n := cfg.pullKeys
	if err := createTopic(ctx, v.adm, "pull-src", 4); err != nil {
		return nil, err
	}
	var perr error
	var mu sync.Mutex
	for i := range n {
		r := &kgo.Record{Topic: "pull-src", Key: fmt.Appendf(nil, "k%d", i), Value: fmt.Appendf(nil, `{"NAME":"name-%d","N":%d}`, i, i)}
		v.cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			mu.Lock()
			defer mu.Unlock()
			if err != nil && perr == nil {
				perr = err
			}
		})
	}
	if err := v.cl.Flush(ctx); err != nil {
		return nil, err
	}
	if perr != nil {
		return nil, perr
	}
	if _, err := v.ksql(ctx, "CREATE TABLE T_SRC (K STRING PRIMARY KEY, NAME STRING, N BIGINT) WITH (KAFKA_TOPIC='pull-src', VALUE_FORMAT='JSON');"+
		" CREATE TABLE T AS SELECT * FROM T_SRC;"); err != nil {
		return nil, err
	}
	// The table is ready when a scan finds every key.
	start := time.Now()
	var seen int
	if err := checkFor(ctx, 2*time.Minute, 100*time.Millisecond, func() (bool, error) {
		rows, err := v.pullRows(ctx, "SELECT * FROM T;")
		seen = len(rows)
		return seen == n, err
	}); err != nil {
		return nil, fmt.Errorf("waiting for T to hold %d keys (it has %d): %w", n, seen, err)
	}
	fmt.Fprintf(v.log, "pull: T materialized %d keys in %v\n", n, time.Since(start).Round(time.Millisecond))

	cases := make([]pullCase, n)
	for i := range n {
		cases[i] = pullCase{
			body: fmt.Appendf(nil, `{"ksql":"SELECT * FROM T WHERE K='k%d';","streamsProperties":{}}`, i),
			row:  fmt.Appendf(nil, `{"row":{"columns":["k%d","name-%d",%d]}}`, i, i, i),
		}
	}
	// A few lookups through the full JSON decoder, and a key that is not there.
	for _, i := range []int{0, n / 2, n - 1} {
		rows, err := v.pullRows(ctx, fmt.Sprintf("SELECT * FROM T WHERE K='k%d';", i))
		if err != nil {
			return nil, err
		}
		if want := fmt.Sprintf(`["k%d","name-%d",%d]`, i, i, i); len(rows) != 1 || string(rows[0]) != want {
			return nil, fmt.Errorf("lookup of k%d answered %s, want one row %s", i, rows, want)
		}
	}
	if rows, err := v.pullRows(ctx, "SELECT * FROM T WHERE K='missing';"); err != nil || len(rows) != 0 {
		return nil, fmt.Errorf("lookup of a missing key answered %s, %v; want no row", rows, err)
	}

	// The ceiling answers every request with the engine's own answer for k0, byte for byte.
	fixed, err := answer(ctx, v.url, cases[0].body)
	if err != nil {
		return nil, err
	}
	ceiling, stopCeiling, err := serveCeiling(fixed)
	if err != nil {
		return nil, err
	}
	defer stopCeiling()

	res := map[string][]pullRound{}
	for round := range cfg.count {
		for _, side := range sidesOf(round, []string{sideCeiling, sideSeiche}, cfg.only) {
			var r pullRound
			switch side {
			case sideSeiche:
				r, err = pullLoad(ctx, cfg, v.url, cases, false)
			case sideCeiling:
				r, err = pullLoad(ctx, cfg, ceiling, cases, true)
			default:
				err = fmt.Errorf("unknown side %q", side)
			}
			if err != nil {
				return nil, fmt.Errorf("%s round %d: %w", side, round, err)
			}
			fmt.Fprintf(v.log, "pull round %d %-7s %d lookups in %v: %.0f/s, p50 %s ms, p99 %s ms, %.0f CPU µs/lookup\n", round, side,
				r.requests, r.elapsed.Round(time.Millisecond), r.rate(), ms(r.p50), ms(r.p99), r.cpuPerLookup())
			res[side] = append(res[side], r)
		}
	}
	return res, nil
}

// answer sends one /query request and returns the response body.
func answer(ctx context.Context, url string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/query", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("POST /query: %s: %s", resp.Status, out)
	}
	return out, err
}

// serveCeiling serves the HTTP ceiling on a loopback listener of its own: a net/http handler that
// reads the request and answers fixed, the least any HTTP/1.1 server in Go does per lookup.
func serveCeiling(fixed []byte) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixed)
	}), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { srv.Close(); <-done }, nil
}

// pullLoad runs cfg.pullClients clients, each with its own keep-alive connection, sending lookups of
// random keys back to back for the warm-up and then the timed duration. Every answer must be one row:
// the key's, or with fixed set (the ceiling) k0's.
func pullLoad(ctx context.Context, cfg config, url string, cases []pullCase, fixed bool) (pullRound, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: cfg.pullClients, MaxConnsPerHost: cfg.pullClients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	begin := time.Now()
	from := begin.Add(cfg.pullWarmup)
	until := from.Add(cfg.pullDuration)
	lats := make([][]time.Duration, cfg.pullClients)
	errs := make(chan error, cfg.pullClients)
	var wg sync.WaitGroup
	for c := range cfg.pullClients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), uint64(begin.UnixNano())))
			var buf bytes.Buffer
			for {
				i := rng.IntN(len(cases))
				t0 := time.Now()
				if t0.After(until) {
					return
				}
				want := cases[i].row
				if fixed {
					want = cases[0].row
				}
				if err := lookup(ctx, hc, url, cases[i].body, want, &buf); err != nil {
					errs <- err
					cancel()
					return
				}
				if t1 := time.Now(); !t0.Before(from) && !t1.After(until) {
					lats[c] = append(lats[c], t1.Sub(t0))
				}
			}
		})
	}
	// The CPU time of the timed window, read by a goroutine of its own at its start and end.
	var cpu time.Duration
	wg.Go(func() {
		select {
		case <-time.After(time.Until(from)):
		case <-ctx.Done():
			return
		}
		c0 := cpuTime()
		select {
		case <-time.After(time.Until(until)):
		case <-ctx.Done():
			return
		}
		cpu = cpuTime() - c0
	})
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return pullRound{}, err
	}
	all := slices.Concat(lats...)
	if len(all) == 0 {
		return pullRound{}, errors.New("no lookup completed in the timed window")
	}
	slices.Sort(all)
	return pullRound{requests: len(all), elapsed: cfg.pullDuration, cpu: cpu, p50: percentile(all, 0.50), p99: percentile(all, 0.99)}, nil
}

var (
	rowMarker    = []byte(`{"row":`)
	headerPrefix = []byte(`[{"header":`)
)

// lookup sends one /query request and checks that the answer is a header and exactly the row want.
func lookup(ctx context.Context, hc *http.Client, url string, body, want []byte, buf *bytes.Buffer) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/query", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	got := buf.Bytes()
	if resp.StatusCode != http.StatusOK || !bytes.HasPrefix(got, headerPrefix) || bytes.Count(got, rowMarker) != 1 || !bytes.Contains(got, want) {
		return fmt.Errorf("%s answered %s %q, want the one row %s", body, resp.Status, got, want)
	}
	return nil
}

// percentile returns the nearest-rank q-quantile of sorted.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[min(len(sorted)-1, max(0, i))]
}

func (r results) printPull(w io.Writer) {
	fmt.Fprintf(w, "\npull: key lookups over HTTP/1.1 keep-alive\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "side\tlookups/s\tp50 ms\tp99 ms\tCPU µs/lookup\t\n")
	rate := map[string]float64{}
	for _, side := range []string{sideCeiling, sideSeiche} {
		rs := r.pull[side]
		if len(rs) == 0 {
			continue
		}
		var rates, cpus []float64
		var p50s, p99s []time.Duration
		for _, x := range rs {
			rates, cpus = append(rates, x.rate()), append(cpus, x.cpuPerLookup())
			p50s, p99s = append(p50s, x.p50), append(p99s, x.p99)
		}
		rate[side] = median(rates)
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%.0f\t\n", side, rate[side], ms(median(p50s)), ms(median(p99s)), median(cpus))
	}
	tw.Flush()
	if rate[sideCeiling] > 0 && rate[sideSeiche] > 0 {
		fmt.Fprintf(w, "ratio seiche/ceiling (of the medians): %.3f (goal >= 0.5; p99 goal < 5 ms)\n", rate[sideSeiche]/rate[sideCeiling])
	}
}
