// Command wordcount counts the words of the lines written to a topic and writes every updated count
// to another: Kafka Streams' WordCountDemo written with the Seiche DSL.
//
//	go run ./examples/wordcount --demo
//
// --demo starts a broker in the process, writes three lines and prints the counts. Against a running
// server (`go run . server`), with the topics created first (the output with as many partitions as
// you like; the repartition topic for the re-keying by word and the count store's changelog are
// created by the runtime):
//
//	go run . topics create text-lines
//	go run . topics create word-counts
//	go run ./examples/wordcount --bootstrap 127.0.0.1:9092 --in text-lines --out word-counts
//	go run . consume word-counts --from-beginning --format kv --value-format long
//
// Counts reach the output topic when the application commits: updates to a word wait in the count
// store's record cache until then and coalesce, as in Kafka Streams, whose commit.interval.ms is
// 30 s. --commit-interval sets it (the demo uses half a second).
package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/examples/internal/demo"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// Topology reads lines from in and writes (word, count) to out, every time a word's count changes
// (coalesced per commit by the record cache). Every step keeps the string keys and values, so the
// chain needs no serdes beyond the source's; Count's are its own.
func Topology(in, out string) *dsl.Builder {
	b := dsl.NewBuilder()
	dsl.Source(b, in, serde.String(), serde.String()).
		FlatMapValues(words).
		GroupBy(func(_, word string) (string, error) { return word, nil }).
		Count(dsl.Materialized("word-counts")).
		ToStream().
		To(out)
	return b
}

// words splits a line into its lower-cased words.
func words(_, line string) ([]string, error) {
	return strings.FieldsFunc(strings.ToLower(line), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), nil
}

func main() {
	bootstrap := flag.String("bootstrap", "127.0.0.1:9092", "Kafka bootstrap servers")
	in := flag.String("in", "text-lines", "input topic of lines")
	out := flag.String("out", "word-counts", "output topic of (word, count)")
	stateDir := flag.String("state-dir", "", "state directory (default: $TMPDIR/seiche-streams)")
	commit := flag.Duration("commit-interval", 30*time.Second, "commit.interval.ms: how often counts are committed and written out")
	demoRun := flag.Bool("demo", false, "count the words of sample lines and print the counts (on a broker of its own unless --bootstrap is given)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var err error
	if *demoRun {
		err = runDemo(ctx, os.Stdout, demo.Given("bootstrap"), *in, *out)
	} else {
		err = run(ctx, *bootstrap, *in, *out, *stateDir, *commit)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "wordcount:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bootstrap, in, out, stateDir string, commit time.Duration) error {
	topo, err := Topology(in, out).Build()
	if err != nil {
		return err
	}
	opts := []runtime.Opt{runtime.ApplicationID("wordcount"), runtime.Bootstrap(bootstrap), runtime.CommitInterval(commit)}
	if stateDir != "" {
		opts = append(opts, runtime.StateDir(stateDir))
	}
	app, err := runtime.New(topo, opts...)
	if err != nil {
		return err
	}
	defer app.Close()
	return app.Run(ctx)
}

// runDemo counts the words of three lines written to in against bootstrap ("": a broker of its own) and prints
// each count written as "word count".
func runDemo(ctx context.Context, w io.Writer, bootstrap, in, out string) error {
	topo, err := Topology(in, out).Build()
	if err != nil {
		return err
	}
	var input []*kgo.Record
	for _, line := range []string{"Hello Kafka Streams", "All streams lead to Kafka", "Join Kafka Summit"} {
		input = append(input, &kgo.Record{Topic: in, Value: []byte(line)})
	}
	return demo.Run(ctx, w, bootstrap, demo.Demo{
		ApplicationID: "wordcount-demo",
		Topology:      topo,
		Topics:        []string{in, out},
		Input:         input,
		Output:        []string{out},
		Format: func(r *kgo.Record) string {
			if len(r.Value) != 8 {
				return fmt.Sprintf("%-8s %x", r.Key, r.Value)
			}
			return fmt.Sprintf("%-8s %d", r.Key, int64(binary.BigEndian.Uint64(r.Value)))
		},
	})
}
