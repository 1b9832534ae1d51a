package main

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

func TestUserSessions(t *testing.T) {
	d := dsltest.New(t, Topology("events", "sessions"))
	in := dsltest.Input(d, "events", serde.String(), serde.String())
	out := dsltest.Output(d, "sessions", dsl.SessionWindowedSerde(serde.String()), serde.JSON[*int64]())
	m := func(min int64) time.Time { return time.UnixMilli(min * 60000) }

	in.PipeAt("ann", "login", m(0))
	in.PipeAt("ann", "click", m(10))
	in.PipeAt("bob", "login", m(12))
	in.PipeAt("ann", "click", m(55)) // 45 minutes idle: a new session
	// Late, and within the gap of both of ann's sessions; but stream time (55m) is past the first's
	// end + gap + grace (10+30+5 = 45m): it is closed, as in Kafka Streams and ksqlDB, and the click
	// joins the second only.
	in.PipeAt("ann", "click", m(32))

	var got []string
	for _, r := range out.ReadRecords() {
		v := "null"
		if r.Value != nil {
			v = fmt.Sprint(*r.Value)
		}
		got = append(got, fmt.Sprintf("%s [%dm,%dm]=%s", r.Key.Key, r.Key.Window.Start/60000, r.Key.Window.End/60000, v))
	}
	want := []string{
		"ann [0m,0m]=1",
		"ann [0m,0m]=null", "ann [0m,10m]=2",
		"bob [12m,12m]=1",
		"ann [55m,55m]=1",
		"ann [55m,55m]=null", "ann [32m,55m]=2",
	}
	if !slices.Equal(got, want) {
		t.Errorf("sessions:\n got  %q\n want %q", got, want)
	}
}

// TestDemo runs --demo as a user would, on a broker of its own, and checks what it prints.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := runDemo(t.Context(), &out, "", "events", "sessions"); err != nil {
		t.Fatalf("demo: %v; output:\n%s", err, out.String())
	}
	for _, want := range []string{
		`(?m)^ann \[\d\d:\d\d, \d\d:\d\d\] 2$`,
		`(?m)^bob \[\d\d:\d\d, \d\d:\d\d\] 2$`,
		`(?m)^ann \[(\d\d:\d\d), (\d\d:\d\d)\] 1$`,
		`(?m)^bob \[(\d\d:\d\d), (\d\d:\d\d)\] 1$`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
