// Command wordcount counts the words of the lines written to a topic and writes every updated count
// to another: Kafka Streams' WordCountDemo written with the Seiche DSL.
//
//	go run ./examples/wordcount -bootstrap 127.0.0.1:9092 -in text-lines -out word-counts
//
// Both topics must exist (the output with as many partitions as you like); the repartition topic
// for the re-keying by word and the count store's changelog are created by the runtime.
package main

import (
	"context"
	"flag"
	"log"
	"os/signal"
	"strings"
	"syscall"
	"unicode"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

// Topology reads lines from in and writes (word, count) to out, every time a word's count changes
// (coalesced per commit by the record cache).
func Topology(in, out string) *dsl.Builder {
	b := dsl.NewBuilder()
	lines := dsl.Source(b, in, serde.String(), serde.String())
	words := dsl.FlatMapValues(lines, func(_ string, line string) ([]string, error) {
		return strings.FieldsFunc(strings.ToLower(line), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }), nil
	}, dsl.WithValueSerde(serde.String()))
	counts := dsl.GroupBy(words, func(_ string, word string) (string, error) { return word, nil }, dsl.WithKeySerde(serde.String())).
		Count(dsl.Materialized("word-counts"))
	counts.ToStream().To(out)
	return b
}

func main() {
	bootstrap := flag.String("bootstrap", "127.0.0.1:9092", "Kafka bootstrap servers")
	in := flag.String("in", "text-lines", "input topic of lines")
	out := flag.String("out", "word-counts", "output topic of (word, count)")
	stateDir := flag.String("state-dir", "", "state directory (default: $TMPDIR/seiche-streams)")
	flag.Parse()

	topo, err := Topology(*in, *out).Build()
	if err != nil {
		log.Fatal(err)
	}
	opts := []runtime.Opt{runtime.ApplicationID("wordcount"), runtime.Bootstrap(*bootstrap)}
	if *stateDir != "" {
		opts = append(opts, runtime.StateDir(*stateDir))
	}
	app, err := runtime.New(topo, opts...)
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx); err != nil {
		log.Fatal(err)
	}
}
