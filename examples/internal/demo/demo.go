// Package demo is what the examples' --demo flag shares: a broker in the process when the user named
// none, the sample input produced, the application run, and its output printed as it arrives, so that
// `go run ./examples/<name> --demo` shows a result within seconds with nothing else running.
//
// It is scaffolding for the examples, not a Seiche API: an application of your own needs none of it.
//
// The demo runs the application with a short commit interval (CommitInterval). An aggregation's
// updates wait in its store's record cache until the task commits, as in Kafka Streams (where
// commit.interval.ms is 30 s under at-least-once and the cache is cache.max.bytes.buffering): with
// the default, a count appears on the output topic up to 30 s after its input.
package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/broker"
	"github.com/seichedb/seiche/runtime"
)

// CommitInterval is the demos' commit.interval.ms: how often cached aggregation updates reach the
// output topic.
const CommitInterval = 500 * time.Millisecond

// Default timings of Run.
const (
	// Idle is how long Run waits after the last output record before it ends the demo.
	Idle = 3 * time.Second
	// FirstOutput bounds the wait for the first output record.
	FirstOutput = 30 * time.Second
)

// Demo describes one example's demo.
type Demo struct {
	// ApplicationID is the application's id (its consumer group and the prefix of its internal topics).
	ApplicationID string
	// Topology is the application to run.
	Topology *runtime.Topology
	// Topics are created with Partitions partitions (default 1) unless they exist: the application's
	// input and output topics. The runtime creates its internal topics itself.
	Topics     []string
	Partitions int32
	// Input is produced before the application starts.
	Input []*kgo.Record
	// Later, if any, is produced once Ready(app) returns true: input that must reach the application
	// after Input was processed (the runtime does not order records of different topics by time).
	Later []*kgo.Record
	Ready func(*runtime.App) bool
	// Output are the topics printed, from their end when the demo starts; Format renders one record.
	Output []string
	Format func(*kgo.Record) string
}

// Run runs d against bootstrap, or against a broker started in this process on a free port (data in
// a temporary directory, removed at the end) when bootstrap is "". It prints each output record to w
// as it arrives and returns once no output has come for Idle, or when ctx is done (nil then). It
// fails when no output arrives within FirstOutput.
func Run(ctx context.Context, w io.Writer, bootstrap string, d Demo) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var stateDir string
	if bootstrap == "" {
		dir, err := os.MkdirTemp("", "seiche-demo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		stateDir = filepath.Join(dir, "streams")
		b, err := broker.New(broker.ListenAddr("127.0.0.1:0"), broker.DataDir(filepath.Join(dir, "broker")),
			broker.GroupInitialRebalanceDelay(0), broker.Logger(logger))
		if err != nil {
			return err
		}
		brokerDone := make(chan error, 1)
		go func() { brokerDone <- b.Run(ctx) }()
		defer func() {
			cancel()
			if berr := <-brokerDone; err == nil {
				err = berr
			}
		}()
		bootstrap = b.Addr()
		fmt.Fprintf(w, "demo: broker started in this process at %s\n", bootstrap)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if err := createTopics(ctx, adm, max(d.Partitions, 1), d.Topics); err != nil {
		return err
	}
	ends, err := adm.ListEndOffsets(ctx, d.Output...)
	if err != nil {
		return fmt.Errorf("demo: end offsets of %v: %w", d.Output, err)
	}
	if err := produce(ctx, cl, d.Input); err != nil {
		return err
	}

	opts := []runtime.Opt{runtime.ApplicationID(d.ApplicationID), runtime.Bootstrap(bootstrap),
		runtime.CommitInterval(CommitInterval), runtime.Logger(logger)}
	if stateDir != "" {
		opts = append(opts, runtime.StateDir(stateDir))
	}
	app, err := runtime.New(d.Topology, opts...)
	if err != nil {
		return err
	}
	defer app.Close()
	appCtx, stopApp := context.WithCancel(ctx)
	appDone := make(chan error, 1)
	go func() { appDone <- app.Run(appCtx) }()
	defer func() {
		stopApp()
		if aerr := <-appDone; err == nil && aerr != nil && !errors.Is(aerr, context.Canceled) {
			err = aerr
		}
	}()

	if len(d.Later) > 0 {
		if err := waitFor(ctx, appDone, func() bool { return d.Ready == nil || d.Ready(app) }); err != nil {
			return err
		}
		if err := produce(ctx, cl, d.Later); err != nil {
			return err
		}
	}
	return printOutput(ctx, w, bootstrap, ends, appDone, d.Format)
}

func createTopics(ctx context.Context, adm *kadm.Client, partitions int32, topics []string) error {
	resp, err := adm.CreateTopics(ctx, partitions, -1, nil, topics...)
	if err != nil {
		return fmt.Errorf("demo: create topics: %w", err)
	}
	for _, r := range resp {
		if r.Err != nil && !errors.Is(r.Err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("demo: create topic %s: %w", r.Topic, r.Err)
		}
	}
	return nil
}

func produce(ctx context.Context, cl *kgo.Client, recs []*kgo.Record) error {
	if len(recs) == 0 {
		return nil
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("demo: produce the sample input: %w", err)
	}
	return nil
}

// waitFor polls ready until it returns true, the application stops, or ctx is done.
func waitFor(ctx context.Context, appDone <-chan error, ready func() bool) error {
	deadline := time.After(FirstOutput)
	for !ready() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-appDone:
			return fmt.Errorf("demo: the application stopped: %v", err)
		case <-deadline:
			return fmt.Errorf("demo: the application was not ready within %v", FirstOutput)
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil
}

// printOutput consumes the output topics from ends and prints each record until Idle passes without one.
func printOutput(ctx context.Context, w io.Writer, bootstrap string, ends kadm.ListedOffsets, appDone <-chan error,
	format func(*kgo.Record) string) error {
	from := make(map[string]map[int32]kgo.Offset)
	ends.Each(func(o kadm.ListedOffset) {
		if from[o.Topic] == nil {
			from[o.Topic] = make(map[int32]kgo.Offset)
		}
		from[o.Topic][o.Partition] = kgo.NewOffset().At(o.Offset)
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumePartitions(from))
	if err != nil {
		return err
	}
	defer cl.Close()
	wait, printed := FirstOutput, 0
	for {
		pollCtx, cancel := context.WithTimeout(ctx, wait)
		fetches := cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		select {
		case err := <-appDone:
			return fmt.Errorf("demo: the application stopped: %v", err)
		default:
		}
		for _, fe := range fetches.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) {
				return fmt.Errorf("demo: consume %s: %w", fe.Topic, fe.Err)
			}
		}
		if fetches.NumRecords() == 0 {
			if printed == 0 {
				return fmt.Errorf("demo: no output within %v", FirstOutput)
			}
			fmt.Fprintf(w, "demo: %d output records; no more for %v, stopping\n", printed, Idle)
			return nil
		}
		fetches.EachRecord(func(r *kgo.Record) {
			fmt.Fprintln(w, format(r))
			printed++
		})
		wait = Idle
	}
}

// Given returns the value of the command-line flag name if it was set on the command line, else "":
// `--demo` alone runs against a broker of its own, `--demo --bootstrap host:port` against that one.
func Given(name string) string {
	v := ""
	flag.Visit(func(f *flag.Flag) {
		if f.Name == name {
			v = f.Value.String()
		}
	})
	return v
}
