package main

import (
	"bytes"
	"regexp"
	"slices"
	"testing"

	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

func TestRouting(t *testing.T) {
	d := dsltest.New(t, Topology())
	events := dsltest.Input(d, EventsTopic, serde.String(), serde.JSON[Event]())
	events.Pipe("ann", Event{Type: "click", User: "ann", Page: "/home"})
	events.Pipe("ann", Event{Type: "purchase", User: "ann", Amount: 42.5})
	events.Pipe("bob", Event{Type: "view", User: "bob", Page: "/pricing"})
	events.Pipe("bob", Event{Type: "purchase", User: "bob"}) // no amount: dropped
	events.Pipe("cy", Event{Type: "click", User: "cy", Page: "/docs"})
	// A malformed event is skipped (and logged), not fatal.
	if err := d.Runtime().PipeInput(EventsTopic, []byte("dan"), []byte("{not json"), 0); err != nil {
		t.Fatalf("malformed event: %v", err)
	}

	clicks := dsltest.Output(d, ClicksTopic, serde.String(), serde.JSON[Event]()).ReadValues()
	if got := pages(clicks); !slices.Equal(got, []string{"/home", "/docs"}) {
		t.Errorf("clicks = %v", got)
	}
	purchases := dsltest.Output(d, PurchasesTopic, serde.String(), serde.JSON[Event]()).ReadKeyValues()
	if len(purchases) != 1 || purchases[0].Key != "ann" || purchases[0].Value.Amount != 42.5 {
		t.Errorf("purchases = %+v", purchases)
	}
	other := dsltest.Output(d, OtherTopic, serde.String(), serde.JSON[Event]()).ReadValues()
	if len(other) != 1 || other[0].Type != "view" {
		t.Errorf("other events = %+v", other)
	}
}

func pages(es []Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Page)
	}
	return out
}

// TestDemo runs --demo as a user would, on a broker of its own, and checks what it prints.
func TestDemo(t *testing.T) {
	var out bytes.Buffer
	if err := runDemo(t.Context(), &out, ""); err != nil {
		t.Fatalf("demo: %v; output:\n%s", err, out.String())
	}
	for _, want := range []string{
		`(?m)^clicks +ann +\{"type":"click","user":"ann","page":"/home"\}$`,
		`(?m)^clicks +cy `,
		`(?m)^purchases +ann +\{"type":"purchase","user":"ann","amount":42.5\}$`,
		`(?m)^other-events +bob `,
		`demo: 4 output records`,
	} {
		if !regexp.MustCompile(want).MatchString(out.String()) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}
