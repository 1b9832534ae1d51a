package main

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/runtime"
	"github.com/seichedb/seiche/serde"
)

func TestEnrich(t *testing.T) {
	d := dsltest.New(t, Topology(), runtime.ProcessingLogTopic("processing-log"))
	views := dsltest.Input(d, ViewsTopic, serde.String(), serde.JSON[PageView]())
	arrival := time.UnixMilli(5_000_000)
	views.PipeAt("ann", PageView{URL: "https://www.example.com/docs/intro", UserAgent: "Mozilla/5.0 (iPhone) Mobile", Time: 1_000}, arrival)
	views.PipeAt("bot", PageView{URL: "https://www.example.com/", UserAgent: "Googlebot/2.1", Time: 2_000}, arrival)
	views.PipeAt("bob", PageView{URL: "https://shop.example.org/", UserAgent: "Mozilla/5.0 (X11)", Time: 3_000}, arrival)
	views.PipeAt("eve", PageView{URL: "::not a url", Time: 4_000}, arrival)

	out := dsltest.Output(d, OutputTopic, serde.String(), serde.JSON[EnrichedView]()).ReadRecords()
	if len(out) != 2 {
		t.Fatalf("got %d views, want 2: %+v", len(out), out)
	}
	want := []runtime.Record[string, EnrichedView]{
		{Key: "example.com", Value: EnrichedView{User: "ann", Site: "example.com", Section: "docs", Path: "/docs/intro", Device: "mobile", Time: 1_000}, Timestamp: 1_000},
		{Key: "shop.example.org", Value: EnrichedView{User: "bob", Site: "shop.example.org", Section: "home", Path: "/", Device: "desktop", Time: 3_000}, Timestamp: 3_000},
	}
	for i := range want {
		if out[i].Key != want[i].Key || out[i].Value != want[i].Value || out[i].Timestamp != want[i].Timestamp {
			t.Errorf("view %d = %+v, want %+v", i, out[i], want[i])
		}
	}
	// The bad URL went to the processing log instead of stopping the application.
	log := dsltest.Output(d, "processing-log", serde.String(), serde.JSON[runtime.ProcessingLogEntry]()).ReadValues()
	if len(log) != 1 || log[0].Type != "PROCESSING_ERROR" || log[0].Offset != 3 {
		t.Errorf("processing log = %+v", log)
	}
}

// TestDemo runs --demo as a user would, on a broker of its own, and checks what it prints.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := runDemo(t.Context(), &out, ""); err != nil {
		t.Fatalf("demo: %v; output:\n%s", err, out.String())
	}
	for _, want := range []string{
		`(?m)^example.com +\{"user":"ann","site":"example.com","section":"docs","path":"/docs/intro","device":"mobile",`,
		`(?m)^shop.example.org +\{"user":"bob",`,
		`demo: 2 output records`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
