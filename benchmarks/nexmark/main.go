// Command nexmark runs the Nexmark queries on Seiche (package internal/nexmark, which `seiche bench
// nexmark` runs too) and, through the broker, beside the baseline Seiche is measured against: a
// hand-written franz-go consume → compute → produce loop for q0–q2, the ceiling of what a client
// of the same broker does with the same computation.
//
//	go run ./nexmark -query q0,q1,q2 -events 1000000 -mode broker -count 2
//	go run ./nexmark -query q5 -events 1000000 -mode inprocess
//
// The table gives each implementation's events/s per core and its ratio to the hand-written loop
// (broker mode) or to the DSL program (in process).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/seichedb/seiche/internal/nexmark"
)

func main() {
	var cfg nexmark.Config
	var qs, only, cpuprofile string
	flag.StringVar(&qs, "query", "q0,q1,q2", "comma-separated queries to run")
	flag.Int64Var(&cfg.Events, "events", 1_000_000, "Nexmark events to generate (people, auctions and bids 1:3:46)")
	flag.StringVar(&cfg.Mode, "mode", nexmark.ModeInProcess, "where the queries run: inprocess, broker or server")
	flag.IntVar(&cfg.Count, "count", 1, "rounds per implementation; the table shows the round with the least CPU")
	flag.StringVar(&only, "only", "", "comma-separated implementations to run: sql, sql-topology, dsl, handwritten")
	flag.IntVar(&cfg.Partitions, "partitions", 1, "partitions of the topics (broker and server modes)")
	flag.StringVar(&cfg.Seiche, "seiche", "", "the seiche binary the server mode starts")
	flag.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the timed parts to this file")
	flag.Parse()
	cfg.Queries = strings.Split(qs, ",")
	if only != "" {
		cfg.Only = strings.Split(only, ",")
	}
	cfg.Log = os.Stderr
	cfg.Extra = []nexmark.Impl{handwritten}
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			fatal(err)
		}
		defer f.Close()
		cfg.Profile = f
	}
	rs, err := nexmark.Run(context.Background(), cfg)
	if err != nil {
		fatal(err)
	}
	rs.Print(os.Stdout, cfg.Queries, implHandwritten, nexmark.ImplDSL)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "nexmark:", err)
	os.Exit(1)
}
