package main

import (
	"bytes"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

func TestPageViewsPerRegion(t *testing.T) {
	d := dsltest.New(t, Topology("views", "profiles", "out"))
	views := dsltest.Input(d, "views", serde.String(), serde.JSON[PageView]())
	profiles := dsltest.Input(d, "profiles", serde.String(), serde.JSON[*Profile]())
	out := dsltest.Output(d, "out", dsl.TimeWindowedSerde(serde.String(), Window), serde.Int64())
	sec := func(s int64) time.Time { return time.UnixMilli(s * 1000) }

	profiles.PipeAt("ann", &Profile{Region: "eu"}, sec(0))
	profiles.PipeAt("bob", &Profile{Region: "us"}, sec(0))
	views.PipeAt("ann", PageView{Page: "/"}, sec(5))
	views.PipeAt("bob", PageView{Page: "/a"}, sec(20))
	views.PipeAt("cy", PageView{Page: "/b"}, sec(21)) // no profile: dropped by the inner join
	views.PipeAt("ann", PageView{Page: "/c"}, sec(59))
	profiles.PipeAt("ann", &Profile{Region: "us"}, sec(60)) // ann moves
	views.PipeAt("ann", PageView{Page: "/d"}, sec(65))
	views.PipeAt("bob", PageView{Page: "/e"}, sec(69)) // first-minute window closes at 60s+10s grace
	views.PipeAt("bob", PageView{Page: "/f"}, sec(50)) // within grace: counted in [0s,60s)
	views.PipeAt("bob", PageView{Page: "/g"}, sec(75))
	views.PipeAt("bob", PageView{Page: "/h"}, sec(30)) // after grace: dropped

	w := func(region string, min int64) dsl.Windowed[string] {
		return dsl.Windowed[string]{Key: region, Window: dsl.Window{Start: min * 60000, End: (min + 1) * 60000}}
	}
	want := []dsl.KeyValue[dsl.Windowed[string], int64]{
		{Key: w("eu", 0), Value: 1},
		{Key: w("us", 0), Value: 1},
		{Key: w("eu", 0), Value: 2},
		{Key: w("us", 1), Value: 1},
		{Key: w("us", 1), Value: 2},
		{Key: w("us", 0), Value: 2},
		{Key: w("us", 1), Value: 3},
	}
	if got := out.ReadKeyValues(); !slices.Equal(got, want) {
		t.Errorf("views per region:\n got  %v\n want %v", got, want)
	}
	if got := dsltest.DroppedRecords(d); got != 1 {
		t.Errorf("dropped records = %v, want 1 (the view past the grace period)", got)
	}
}

// TestDemo runs --demo as a user would, on a broker of its own, and checks what it prints.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := runDemo(t.Context(), &out, "", "views", "profiles", "out"); err != nil {
		t.Fatalf("demo: %v; output:\n%s", err, out.String())
	}
	for _, want := range []string{
		`(?m)^eu +\[\S+, \S+\) 2$`,
		`(?m)^us +\[\S+, \S+\) 2$`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
