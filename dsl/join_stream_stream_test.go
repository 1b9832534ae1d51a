package dsl_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seichedb/seiche/dsl"
	"github.com/seichedb/seiche/dsl/dsltest"
	"github.com/seichedb/seiche/serde"
)

// KStream-KStream join semantics (developer guide dsl-api.html "KStream-KStream Join" table;
// KIP-633 grace and the spurious-result fix of KAFKA-10847): records join when their timestamps are
// within the join window, the later arrival triggering the result with the larger timestamp. Left
// and outer joins emit an unmatched record only when stream time passes its
// timestamp + after (before, for right records) + grace, never before a partner could still
// arrive; an unmatched record whose window is already closed on arrival is emitted at once.
func TestStreamStreamJoinSemantics(t *testing.T) {
	b := dsl.NewBuilder()
	l := dsl.Source(b, "left", serde.String(), serde.String())
	r := dsl.Source(b, "right", serde.String(), serde.String())
	w := dsl.JoinTimeDifference(10*time.Millisecond, 5*time.Millisecond)
	str := serde.String()
	dsl.StreamStreamJoin(l, r, func(_ string, a, b string) (string, error) { return a + "+" + b, nil }, w).WithValueSerde(str).To("inner")
	dsl.StreamStreamLeftJoin(l, r, func(_ string, a, b string, ok bool) (string, error) {
		if !ok {
			b = "null"
		}
		return a + "+" + b, nil
	}, w).WithValueSerde(str).To("leftjoin")
	dsl.StreamStreamOuterJoin(l, r, func(_ string, a string, okA bool, b string, okB bool) (string, error) {
		if !okA {
			a = "null"
		}
		if !okB {
			b = "null"
		}
		return a + "+" + b, nil
	}, w).WithValueSerde(str).To("outer")

	d := dsltest.New(t, b)
	left := dsltest.Input(d, "left", serde.String(), serde.String())
	right := dsltest.Input(d, "right", serde.String(), serde.String())
	left.PipeAt("a", "L0", at(0))   // unmatched for now: held, not emitted
	right.PipeAt("a", "R5", at(5))  // joins L0 (within 10ms)
	left.PipeAt("b", "Lb", at(20))  // held
	left.PipeAt("c", "Lc", at(21))  // held
	right.PipeAt("d", "Rd", at(40)) // stream time 40: Lb and Lc closed at 20+10+5 < 40 and 36 < 40
	left.PipeAt("e", "Le", at(30))  // out of order; its window closes at 45
	left.PipeAt("f", "Lf", at(50))  // emits Le; Rd (closes at 40+10+5=55) stays
	left.PipeAt("g", "Lg", at(60))  // emits Rd (outer); Lf closes at 65
	left.PipeAt("h", "Lh", at(1))   // window [0,11] long closed: emitted at once by left/outer joins
	right.PipeAt("g", "Rg", at(55)) // joins Lg (60-55 <= 10)

	type r3 = rec[string, string]
	checkRecs(t, "inner", dsltest.Output(d, "inner", serde.String(), serde.String()),
		r3{"a", "L0+R5", 5}, r3{"g", "Lg+Rg", 60})
	checkRecs(t, "left", dsltest.Output(d, "leftjoin", serde.String(), serde.String()),
		r3{"a", "L0+R5", 5}, r3{"b", "Lb+null", 20}, r3{"c", "Lc+null", 21}, r3{"e", "Le+null", 30},
		r3{"h", "Lh+null", 1}, r3{"g", "Lg+Rg", 60})
	checkRecs(t, "outer", dsltest.Output(d, "outer", serde.String(), serde.String()),
		r3{"a", "L0+R5", 5}, r3{"b", "Lb+null", 20}, r3{"c", "Lc+null", 21}, r3{"e", "Le+null", 30},
		r3{"d", "null+Rd", 40}, r3{"h", "Lh+null", 1}, r3{"g", "Lg+Rg", 60})
	if testing.Verbose() {
		fmt.Println(d.Describe())
	}
}

// Eager join windows are Kafka Streams' JoinWindows.of semantics before KIP-633 (the spurious
// left/outer-join results of KAFKA-10847, which ksqlDB keeps for joins without a GRACE PERIOD):
// a record that finds no partner on arrival is emitted at once with the other side absent, and a
// partner arriving later in the window emits the joined result too.
func TestStreamStreamJoinEagerSemantics(t *testing.T) {
	b := dsl.NewBuilder()
	l := dsl.Source(b, "left", serde.String(), serde.String())
	r := dsl.Source(b, "right", serde.String(), serde.String())
	w := dsl.LegacyJoinTimeDifference(10 * time.Millisecond)
	str := serde.String()
	orNull := func(v string, ok bool) string {
		if !ok {
			return "null"
		}
		return v
	}
	dsl.StreamStreamJoin(l, r, func(_ string, a, b string) (string, error) { return a + "+" + b, nil }, w).WithValueSerde(str).To("inner")
	dsl.StreamStreamLeftJoin(l, r, func(_ string, a, b string, ok bool) (string, error) {
		return a + "+" + orNull(b, ok), nil
	}, w).WithValueSerde(str).To("leftjoin")
	dsl.StreamStreamOuterJoin(l, r, func(_ string, a string, okA bool, b string, okB bool) (string, error) {
		return orNull(a, okA) + "+" + orNull(b, okB), nil
	}, w).WithValueSerde(str).To("outer")

	d := dsltest.New(t, b)
	left := dsltest.Input(d, "left", serde.String(), serde.String())
	right := dsltest.Input(d, "right", serde.String(), serde.String())
	left.PipeAt("a", "L0", at(0))   // no partner yet: left and outer emit L0+null now
	right.PipeAt("a", "R5", at(5))  // joins L0: every join emits L0+R5
	right.PipeAt("b", "Rb", at(30)) // no partner: outer emits null+Rb now
	left.PipeAt("b", "Lb", at(45))  // 15ms after Rb, outside the window: Lb+null
	left.PipeAt("c", "Lc", at(1))   // out of order, no partner: emitted at once

	type r3 = rec[string, string]
	checkRecs(t, "inner", dsltest.Output(d, "inner", serde.String(), serde.String()),
		r3{"a", "L0+R5", 5})
	checkRecs(t, "left", dsltest.Output(d, "leftjoin", serde.String(), serde.String()),
		r3{"a", "L0+null", 0}, r3{"a", "L0+R5", 5}, r3{"b", "Lb+null", 45}, r3{"c", "Lc+null", 1})
	checkRecs(t, "outer", dsltest.Output(d, "outer", serde.String(), serde.String()),
		r3{"a", "L0+null", 0}, r3{"a", "L0+R5", 5}, r3{"b", "null+Rb", 30}, r3{"b", "Lb+null", 45},
		r3{"c", "Lc+null", 1})
}
