// Command sessions counts the events of each user activity session: a user's events belong to one
// session until the user is inactive for longer than the gap (Kafka Streams' session windows).
// Each update of a session is written to the output topic keyed by user and session (Kafka
// Streams' SessionWindowedSerde: user, session end, session start) with the event count as JSON,
// and a null (tombstone) for a session merged into a larger one.
//
//	go run ./examples/sessions --demo
//
// --demo starts a broker in the process, writes an hour of sample events and prints the sessions
// (add --bootstrap 127.0.0.1:9092 to use a running server instead). Against a server:
//
//	go run ./examples/sessions --bootstrap 127.0.0.1:9092 --in user-events --out user-sessions
//
// Counts reach the output topic when the application commits: updates to a session wait in the
// store's record cache until then and coalesce (so a session merged away before a commit may never
// be written), as in Kafka Streams, whose commit.interval.ms is 30 s. --commit-interval sets it
// (the demo uses half a second).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/examples/internal/demo"
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
	sessions := dsl.Source(b, in, serde.String(), serde.String()).
		GroupByKey().
		SessionWindowedBy(dsl.SessionWindows{Gap: Gap, Grace: Grace})
	counts := dsl.WindowedCount(sessions, dsl.Materialized("user-sessions"))
	// *int64 so that a merged-away session is written as a null.
	dsl.MapTableValues(counts, func(_ dsl.Windowed[string], n int64) (*int64, error) { return &n, nil }).
		WithValueSerde(serde.JSON[*int64]()).
		ToStream().
		To(out)
	return b
}

func main() {
	bootstrap := flag.String("bootstrap", "127.0.0.1:9092", "Kafka bootstrap servers")
	in := flag.String("in", "user-events", "input topic of events keyed by user")
	out := flag.String("out", "user-sessions", "output topic of event counts per session")
	commit := flag.Duration("commit-interval", 30*time.Second, "commit.interval.ms: how often counts are committed and written out")
	demoRun := flag.Bool("demo", false, "count the sessions of sample events and print them (on a broker of its own unless --bootstrap is given)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	if *demoRun {
		err = runDemo(ctx, os.Stdout, demo.Given("bootstrap"), *in, *out)
	} else {
		err = run(ctx, *bootstrap, *in, *out, *commit)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sessions:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bootstrap, in, out string, commit time.Duration) error {
	topo, err := Topology(in, out).Build()
	if err != nil {
		return err
	}
	app, err := runtime.New(topo, runtime.ApplicationID("sessions"), runtime.Bootstrap(bootstrap), runtime.CommitInterval(commit))
	if err != nil {
		return err
	}
	defer app.Close()
	return app.Run(ctx)
}

// runDemo counts the sessions of an hour of sample events against bootstrap ("": a broker of its
// own) and prints each session written as "user [start, end] count" ("merged" for a tombstone).
func runDemo(ctx context.Context, w io.Writer, bootstrap, in, out string) error {
	topo, err := Topology(in, out).Build()
	if err != nil {
		return err
	}
	start := time.Now().Add(-time.Hour).Truncate(time.Minute)
	var input []*kgo.Record
	for _, e := range []struct {
		user, event string
		min         int
	}{
		{"ann", "login", 0}, {"ann", "click", 10}, {"bob", "login", 12}, {"bob", "click", 20},
		{"ann", "click", 55}, // 45 minutes after ann's last event: a new session
		{"bob", "click", 58}, // and bob's too
	} {
		input = append(input, &kgo.Record{Topic: in, Key: []byte(e.user), Value: []byte(e.event),
			Timestamp: start.Add(time.Duration(e.min) * time.Minute)})
	}
	sessions, counts := dsl.SessionWindowedSerde(serde.String()), serde.JSON[*int64]()
	return demo.Run(ctx, w, bootstrap, demo.Demo{
		ApplicationID: "sessions-demo",
		Topology:      topo,
		Topics:        []string{in, out},
		Input:         input,
		Output:        []string{out},
		Format: func(r *kgo.Record) string {
			k, err := sessions.Deserialize(r.Key)
			n, err2 := counts.Deserialize(r.Value)
			if err != nil || err2 != nil {
				return fmt.Sprintf("%x %x", r.Key, r.Value)
			}
			count := "merged"
			if n != nil {
				count = fmt.Sprint(*n)
			}
			return fmt.Sprintf("%-3s [%s, %s] %s", k.Key, time.UnixMilli(k.Window.Start).Format("15:04"),
				time.UnixMilli(k.Window.End).Format("15:04"), count)
		},
	})
}
