// Command routing is a stateless Seiche streams application: it reads click-stream events from the
// "events" topic and routes them by type, into "clicks", "purchases" (only those with an amount) and
// "other-events"; events that are not valid JSON are skipped and logged to the processing log.
//
//	go run ./examples/routing --demo
//
// --demo starts a broker in the process, produces a few sample events and prints what the
// application writes. Against a running server (`go run . server`), with the output watched by
// `go run . consume purchases --from-beginning`:
//
//	go run ./examples/routing --bootstrap 127.0.0.1:9092 --demo
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/examples/internal/demo"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// Event is one click-stream event.
type Event struct {
	Type   string  `json:"type"` // "click", "purchase", "view", ...
	User   string  `json:"user"`
	Page   string  `json:"page,omitempty"`
	Amount float64 `json:"amount,omitempty"`
}

// Topics the application reads and writes.
const (
	EventsTopic    = "events"
	ClicksTopic    = "clicks"
	PurchasesTopic = "purchases"
	OtherTopic     = "other-events"
)

// Topology returns the application's topology: events split by type, each branch to its topic.
func Topology() *dsl.Builder {
	b := dsl.NewBuilder()
	events := dsl.Source(b, EventsTopic, serde.String(), serde.JSON[Event]())
	byType := events.Split(dsl.Named("route-"))
	byType.Branch(isType("click"), dsl.Named("clicks")).To(ClicksTopic)
	byType.Branch(isType("purchase"), dsl.Named("purchases")).
		Filter(func(_ string, e Event) (bool, error) { return e.Amount > 0, nil }).
		To(PurchasesTopic)
	byType.Default(dsl.Named("other")).To(OtherTopic)
	return b
}

func isType(t string) func(string, Event) (bool, error) {
	return func(_ string, e Event) (bool, error) { return e.Type == t, nil }
}

func main() {
	bootstrap := flag.String("bootstrap", "127.0.0.1:9092", "Kafka bootstrap address")
	appID := flag.String("application-id", "routing", "application id (consumer group, internal topic prefix)")
	demoRun := flag.Bool("demo", false, "produce sample events and print the output (on a broker of its own unless --bootstrap is given)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *demoRun {
		err = runDemo(ctx, os.Stdout, demo.Given("bootstrap"))
	} else {
		err = run(ctx, *bootstrap, *appID)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "routing:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bootstrap, appID string) error {
	if err := ensureTopics(ctx, bootstrap, EventsTopic, ClicksTopic, PurchasesTopic, OtherTopic); err != nil {
		return err
	}
	topo, err := Topology().Build()
	if err != nil {
		return err
	}
	fmt.Print(topo.Describe())
	app, err := runtime.New(topo, runtime.ApplicationID(appID), runtime.Bootstrap(bootstrap),
		runtime.CommitInterval(time.Second), runtime.Logger(slog.Default()))
	if err != nil {
		return err
	}
	defer app.Close()
	slog.Info("routing: running; Ctrl-C to stop", "bootstrap", bootstrap)
	return app.Run(ctx)
}

// runDemo runs the application on sample events against bootstrap ("": a broker of its own) and
// prints each routed event as "topic key value".
func runDemo(ctx context.Context, w io.Writer, bootstrap string) error {
	topo, err := Topology().Build()
	if err != nil {
		return err
	}
	ser := serde.JSON[Event]()
	var input []*kgo.Record
	for _, e := range []Event{
		{Type: "click", User: "ann", Page: "/home"},
		{Type: "purchase", User: "ann", Amount: 42.5},
		{Type: "view", User: "bob", Page: "/pricing"},
		{Type: "purchase", User: "bob", Amount: 0},
		{Type: "click", User: "cy", Page: "/docs"},
	} {
		v, err := ser.Serialize(e)
		if err != nil {
			return err
		}
		input = append(input, &kgo.Record{Topic: EventsTopic, Key: []byte(e.User), Value: v})
	}
	return demo.Run(ctx, w, bootstrap, demo.Demo{
		ApplicationID: "routing-demo",
		Topology:      topo,
		Topics:        []string{EventsTopic, ClicksTopic, PurchasesTopic, OtherTopic},
		Partitions:    3,
		Input:         input,
		Output:        []string{ClicksTopic, PurchasesTopic, OtherTopic},
		Format: func(r *kgo.Record) string {
			return fmt.Sprintf("%-12s %-4s %s", r.Topic, r.Key, r.Value)
		},
	})
}

// ensureTopics creates the topics the application uses unless they exist.
func ensureTopics(ctx context.Context, bootstrap string, topics ...string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		return err
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopics(ctx, 3, -1, nil, topics...)
	if err != nil {
		return err
	}
	for _, r := range resp {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("create topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}
