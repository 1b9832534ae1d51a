package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/engine"
	"github.com/seichedb/seiche/internal/nexmark"
	"github.com/seichedb/seiche/internal/nexmark/gen"
	"github.com/seichedb/seiche/runtime"
)

// The smoke test's events: 20,000 at 1,000 events/s of event time, 20 seconds, so that the
// 10-second windows of q5 and q7 close.
const smokeEvents = 20_000

var smokeGen = gen.Config{EventsPerSecond: 1000}

// row is an output row as the plain-Go computation states it: column to int64, *big.Rat, float64
// or string.
type row map[string]any

// expected computes each query's result in plain Go from the generator's structs, in event order:
// for a stream the rows, for a table the last row per key.
func expected(query string, events []gen.Event) []row {
	var rows []row
	switch query {
	case "q0", "q1", "q2":
		for _, e := range events {
			if e.Kind != gen.KindBid {
				continue
			}
			b := e.Bid
			switch query {
			case "q0":
				rows = append(rows, row{"AUCTION": b.Auction, "BIDDER": b.Bidder, "PRICE": b.Price, "DATETIME": b.DateTime, "EXTRA": b.Extra})
			case "q1":
				rows = append(rows, row{"AUCTION": b.Auction, "BIDDER": b.Bidder, "PRICE": big.NewRat(b.Price*908, 1000), "DATETIME": b.DateTime, "EXTRA": b.Extra})
			case "q2":
				if b.Auction%123 == 0 {
					rows = append(rows, row{"AUCTION": b.Auction, "PRICE": b.Price})
				}
			}
		}
	case "q3":
		people := map[int64]*gen.Person{}
		for _, e := range events {
			switch e.Kind {
			case gen.KindPerson:
				people[e.Person.ID] = e.Person
			case gen.KindAuction:
				a := e.Auction
				p, ok := people[a.Seller]
				if ok && a.Category == 10 && slices.Contains([]string{"OR", "ID", "CA"}, p.State) {
					rows = append(rows, row{"NAME": p.Name, "CITY": p.City, "STATE": p.State, "ID": a.ID})
				}
			}
		}
	case "q4":
		auctions := map[int64]*gen.Auction{}
		final := map[int64]int64{}
		for _, e := range events {
			if e.Kind == gen.KindAuction {
				auctions[e.Auction.ID] = e.Auction
			}
		}
		for _, e := range events {
			if e.Kind != gen.KindBid {
				continue
			}
			a, ok := auctions[e.Bid.Auction]
			if ok && e.Bid.DateTime >= a.DateTime && e.Bid.DateTime <= a.Expires {
				final[a.ID] = max(final[a.ID], e.Bid.Price)
			}
		}
		sum, n := map[int64]int64{}, map[int64]int64{}
		for id, f := range final {
			sum[auctions[id].Category] += f
			n[auctions[id].Category]++
		}
		for c := range sum {
			rows = append(rows, row{"AVG": float64(sum[c]) / float64(n[c]), "CAT": c})
		}
	case "q5", "q7":
		maxTS := events[len(events)-1].Timestamp()
		size, advance := int64(10_000), int64(2_000)
		if query == "q7" {
			advance = size
		}
		counts := map[[2]int64]int64{} // window start, auction
		maxPrice := map[int64]int64{}
		for _, e := range events {
			if e.Kind != gen.KindBid {
				continue
			}
			ts := e.Bid.DateTime
			for s := ts - ts%advance; s > ts-size; s -= advance {
				counts[[2]int64{s, e.Bid.Auction}]++
				maxPrice[s] = max(maxPrice[s], e.Bid.Price)
			}
		}
		if query == "q5" {
			maxN := map[int64]int64{}
			for k, c := range counts {
				if k[0]+size <= maxTS {
					maxN[k[0]] = max(maxN[k[0]], c)
				}
			}
			for s, m := range maxN {
				rows = append(rows, row{"MAXN": m, "ST": s})
			}
			break
		}
		for _, e := range events {
			if e.Kind != gen.KindBid {
				continue
			}
			b := e.Bid
			s := b.DateTime - b.DateTime%size
			if s+size <= maxTS && b.Price == maxPrice[s] {
				rows = append(rows, row{"AUCTION": b.Auction, "BIDDER": b.Bidder, "DATETIME": b.DateTime, "EXTRA": b.Extra})
			}
		}
	case "q8":
		people := map[int64]*gen.Person{}
		for _, e := range events {
			if e.Kind == gen.KindPerson {
				people[e.Person.ID] = e.Person
			}
		}
		seen := map[[2]int64]bool{}
		for _, e := range events {
			if e.Kind != gen.KindAuction {
				continue
			}
			a := e.Auction
			p, ok := people[a.Seller]
			if !ok || p.DateTime/10_000 != a.DateTime/10_000 {
				continue
			}
			k := [2]int64{p.ID, p.DateTime / 10_000 * 10_000}
			if !seen[k] {
				seen[k] = true
				rows = append(rows, row{"NAME": p.Name, "PID": k[0], "ST": k[1]})
			}
		}
	default:
		panic("no plain-Go computation for " + query)
	}
	return rows
}

// canonical writes a row with its columns sorted and its numbers exact: an integer as itself, any
// other number to nine significant digits (a DOUBLE average need not match to the last bit).
func canonical(r row) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		var v string
		switch x := r[k].(type) {
		case int64:
			v = strconv.FormatInt(x, 10)
		case float64:
			v = number(new(big.Rat).SetFloat64(x))
		case *big.Rat:
			v = number(x)
		default:
			v = fmt.Sprintf("%q", x)
		}
		fmt.Fprintf(&b, "%s=%s ", k, v)
	}
	return b.String()
}

func number(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', 9, 64)
}

// decode reads an output value, its numbers as exact rationals.
func decode(v []byte) (row, error) {
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, err
	}
	for k, x := range m {
		if n, ok := x.(json.Number); ok {
			r, ok := new(big.Rat).SetString(n.String())
			if !ok {
				return nil, fmt.Errorf("%s: bad number %s", k, n)
			}
			m[k] = r
		}
	}
	return m, nil
}

// check compares what an implementation wrote with the expected rows, as multisets: for a table
// the last row written per key.
func check(t *testing.T, impl string, q nexmark.Query, want []row, got []runtime.RawRecord) {
	t.Helper()
	if q.Table {
		last := map[string]runtime.RawRecord{}
		var keys []string
		for _, r := range got {
			if _, ok := last[string(r.Key)]; !ok {
				keys = append(keys, string(r.Key))
			}
			last[string(r.Key)] = r
		}
		got = got[:0:0]
		for _, k := range keys {
			got = append(got, last[k])
		}
	}
	var g, w []string
	for i, r := range got {
		d, err := decode(r.Value)
		if err != nil {
			t.Fatalf("%s: row %d %s: %v", impl, i, r.Value, err)
		}
		g = append(g, canonical(d))
	}
	for _, r := range want {
		w = append(w, canonical(r))
	}
	sort.Strings(g)
	sort.Strings(w)
	if len(g) != len(w) {
		t.Fatalf("%s: %d rows, want %d", impl, len(g), len(w))
	}
	for i := range g {
		if g[i] != w[i] {
			t.Fatalf("%s: row %s, want %s", impl, g[i], w[i])
		}
	}
}

// TestQueries runs every query in SQL (on an engine.TestSession) and, where it has one, as a DSL
// program (on dsltest) over the same events, and checks both results against the plain-Go
// computation.
func TestQueries(t *testing.T) {
	g := gen.New(smokeGen)
	events := make([]gen.Event, smokeEvents)
	for i := range events {
		events[i] = g.Event(int64(i))
	}
	all := nexmark.Generate(g, smokeEvents, nexmark.Topics)
	ctx := context.Background()
	for _, q := range nexmark.Queries {
		t.Run(q.Name, func(t *testing.T) {
			want := expected(q.Name, events)
			if len(want) == 0 {
				t.Fatal("the plain-Go computation has no rows: too few events")
			}
			var in []runtime.RawRecord
			for _, r := range all {
				if slices.Contains(q.Reads, r.Topic) {
					in = append(in, r)
				}
			}

			s := engine.NewTestSession(nil)
			defer s.Close()
			for _, topic := range nexmark.Topics {
				if err := s.CreateTopic(topic, 1); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Execute(ctx, nexmark.DDL+q.SQL); err != nil {
				t.Fatal(err)
			}
			for _, r := range in {
				if err := s.Pipe(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			check(t, "sql", q, want, s.Written(q.Output()))

			if q.DSL != nil {
				d := dsltest.New(t, q.DSL()).Runtime()
				var got []runtime.RawRecord
				for _, r := range in {
					if err := d.PipeInput(r.Topic, r.Key, r.Value, r.Timestamp); err != nil {
						t.Fatal(err)
					}
					for _, sink := range q.Sinks {
						for {
							out, ok := d.ReadOutput(sink)
							if !ok {
								break
							}
							if sink == q.Output() {
								got = append(got, out)
							}
						}
					}
				}
				check(t, "dsl", q, want, got)
			}
			t.Logf("%d events, %d rows", smokeEvents, len(want))
		})
	}
}

// TestRun runs the benchmark itself, in process and through a broker with the hand-written loop,
// on a few events, and checks every implementation wrote as many rows.
func TestRun(t *testing.T) {
	for _, mode := range []string{nexmark.ModeInProcess, nexmark.ModeBroker} {
		cfg := nexmark.Config{Queries: []string{"q0", "q2"}, Events: 3000, Mode: mode, Extra: []nexmark.Impl{handwritten}}
		rs, err := nexmark.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range cfg.Queries {
			base, _ := rs.Best(q, nexmark.ImplDSL)
			n := 0
			for _, r := range rs {
				if r.Query == q {
					n++
					if r.Outputs != base.Outputs || r.Outputs == 0 {
						t.Errorf("%s %s %s: %d outputs, the DSL %d", mode, q, r.Impl, r.Outputs, base.Outputs)
					}
				}
			}
			if want := map[string]int{nexmark.ModeInProcess: 3, nexmark.ModeBroker: 3}[mode]; n != want {
				t.Errorf("%s %s: %d implementations ran, want %d", mode, q, n, want)
			}
		}
	}
}
