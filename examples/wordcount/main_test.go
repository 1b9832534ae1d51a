package main

import (
	"bytes"
	"regexp"
	"slices"
	"testing"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

func TestWordCount(t *testing.T) {
	d := dsltest.New(t, Topology("lines", "counts"))
	in := dsltest.Input(d, "lines", serde.String(), serde.String())
	out := dsltest.Output(d, "counts", serde.String(), serde.Int64())

	in.Pipe("", "Hello Kafka Streams")
	in.Pipe("", "All streams lead to Kafka")
	in.Pipe("", "Join Kafka Summit")

	want := []dsl.KeyValue[string, int64]{
		{Key: "hello", Value: 1}, {Key: "kafka", Value: 1}, {Key: "streams", Value: 1},
		{Key: "all", Value: 1}, {Key: "streams", Value: 2}, {Key: "lead", Value: 1}, {Key: "to", Value: 1}, {Key: "kafka", Value: 2},
		{Key: "join", Value: 1}, {Key: "kafka", Value: 3}, {Key: "summit", Value: 1},
	}
	if got := out.ReadKeyValues(); !slices.Equal(got, want) {
		t.Errorf("counts:\n got  %v\n want %v", got, want)
	}
	store := dsltest.TimestampedKeyValueStore(d, "word-counts", serde.String(), serde.Int64())
	if n, ok, err := store.Get("kafka"); err != nil || !ok || n.Value != 3 {
		t.Errorf("store word-counts[kafka] = %+v %v %v, want 3", n, ok, err)
	}
}

// TestDemo runs --demo as a user would, on a broker of its own, and checks what it prints.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := runDemo(t.Context(), &out, "", "lines", "counts"); err != nil {
		t.Fatalf("demo: %v; output:\n%s", err, out.String())
	}
	for _, want := range []string{
		`(?m)^kafka +3$`,
		`(?m)^streams +2$`,
		`(?m)^summit +1$`,
		`(?m)^hello +1$`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
