package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"testing"

	"github.com/seichedb/seiche/internal/nexmark/gen"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/engine"
	"github.com/seichedb/seiche/runtime"
)

// smokeEvents is enough events for q2 to select a few dozen bids.
const smokeEvents = 20_000

// expected computes each query's output rows in plain Go, from the generator's structs rather than
// from their JSON: numbers as exact rationals, strings as they are.
func expected(query string, bids []gen.Bid) []map[string]any {
	var rows []map[string]any
	for _, b := range bids {
		switch query {
		case "q0":
			rows = append(rows, map[string]any{"AUCTION": rat(b.Auction, 1), "BIDDER": rat(b.Bidder, 1),
				"PRICE": rat(b.Price, 1), "DATETIME": rat(b.DateTime, 1), "EXTRA": b.Extra})
		case "q1":
			rows = append(rows, map[string]any{"AUCTION": rat(b.Auction, 1), "BIDDER": rat(b.Bidder, 1),
				"PRICE": rat(b.Price*908, 1000), "DATETIME": rat(b.DateTime, 1), "EXTRA": b.Extra})
		case "q2":
			if b.Auction%123 == 0 {
				rows = append(rows, map[string]any{"AUCTION": rat(b.Auction, 1), "PRICE": rat(b.Price, 1)})
			}
		}
	}
	return rows
}

func rat(a, b int64) *big.Rat { return big.NewRat(a, b) }

// decode reads a JSON object, its numbers as exact rationals.
func decode(v []byte) (map[string]any, error) {
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

func equalRow(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		switch x := x.(type) {
		case *big.Rat:
			y, ok := b[k].(*big.Rat)
			if !ok || x.Cmp(y) != 0 {
				return false
			}
		default:
			if b[k] != x {
				return false
			}
		}
	}
	return true
}

func check(t *testing.T, impl string, want []map[string]any, got []runtime.RawRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", impl, len(got), len(want))
	}
	for i, r := range got {
		row, err := decode(r.Value)
		if err != nil {
			t.Fatalf("%s: row %d %s: %v", impl, i, r.Value, err)
		}
		if !equalRow(row, want[i]) {
			t.Fatalf("%s: row %d is %s, want %v", impl, i, r.Value, want[i])
		}
	}
}

// TestQueries runs every query in SQL (on an engine.TestSession) and as a DSL program (on dsltest)
// over the same events, and checks both outputs against the plain-Go computation.
func TestQueries(t *testing.T) {
	g := gen.New(gen.Config{})
	var bids []gen.Bid
	for i := range int64(smokeEvents) {
		if e := g.Event(i); e.Kind == gen.KindBid {
			bids = append(bids, *e.Bid)
		}
	}
	recs := generateBids(g, smokeEvents)
	ctx := context.Background()
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			want := expected(q.name, bids)
			if len(want) == 0 {
				t.Fatal("the plain-Go computation selects nothing: too few events")
			}

			s := engine.NewTestSession(nil)
			defer s.Close()
			if err := s.CreateTopic("bid", 1); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Execute(ctx, bidDDL+"\n"+q.sql); err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if err := s.Pipe(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			check(t, "sql", want, s.Written(q.sink))

			d := dsltest.New(t, q.dsl()).Runtime()
			var got []runtime.RawRecord
			for _, r := range recs {
				if err := d.PipeInput(r.Topic, r.Key, r.Value, r.Timestamp); err != nil {
					t.Fatal(err)
				}
				for {
					out, ok := d.ReadOutput(q.sink)
					if !ok {
						break
					}
					got = append(got, out)
				}
			}
			check(t, "dsl", want, got)
			t.Logf("%d bids, %d rows", len(bids), len(want))
		})
	}
}

// TestRun runs the benchmark itself on a few events.
func TestRun(t *testing.T) {
	cfg := config{queries: []string{"q0", "q1", "q2"}, events: 2000, mode: "inprocess", count: 1}
	rs, err := run(context.Background(), cfg, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range cfg.queries {
		d, _ := rs.best(q, implDSL)
		for _, impl := range impls {
			r, ok := rs.best(q, impl)
			if !ok || r.outputs != d.outputs {
				t.Errorf("%s %s: %d outputs, the DSL %d", q, impl, r.outputs, d.outputs)
			}
		}
	}
	rs.print(io.Discard, cfg)
}
