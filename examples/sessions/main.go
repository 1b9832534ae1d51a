// Command sessions counts the events of each user activity session: a user's events belong to one
// session until the user is inactive for longer than the gap (Kafka Streams' session windows).
// Each update of a session is written to the output topic keyed by user and session (Kafka
// Streams' SessionWindowedSerde: user, session end, session start) with the event count as JSON,
// and a null (tombstone) for a session merged into a larger one.
//
//	go run ./examples/sessions -bootstrap 127.0.0.1:9092 -in user-events -out user-sessions
package main

import (
	"context"
	"flag"
	"log"
	"os/signal"
	"syscall"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// Gap is the inactivity that ends a session; Grace how long late events still count.
const (
	Gap   = 30 * time.Minute
	Grace = 5 * time.Minute
)

// Topology counts the events of each session of each user (records of in are keyed by user).
func Topology(in, out string) *dsl.Builder {
	b := dsl.NewBuilder()
	events := dsl.Source(b, in, serde.String(), serde.String())
	counts := dsl.SessionWindowedBy(events.GroupByKey(), dsl.SessionWindows{Gap: Gap, Grace: Grace}).
		Count(dsl.Materialized("user-sessions"))
	// *int64 so that a merged-away session is written as a null.
	dsl.MapTableValues(counts, func(_ dsl.Windowed[string], n int64) (*int64, error) { return &n, nil },
		dsl.WithValueSerde(serde.JSON[*int64]())).ToStream().To(out)
	return b
}

func main() {
	bootstrap := flag.String("bootstrap", "127.0.0.1:9092", "Kafka bootstrap servers")
	in := flag.String("in", "user-events", "input topic of events keyed by user")
	out := flag.String("out", "user-sessions", "output topic of event counts per session")
	flag.Parse()

	topo, err := Topology(*in, *out).Build()
	if err != nil {
		log.Fatal(err)
	}
	app, err := runtime.New(topo, runtime.ApplicationID("sessions"), runtime.Bootstrap(*bootstrap))
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
