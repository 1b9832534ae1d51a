package dsl

import (
	"fmt"
	"time"
)

// TimeWindows are fixed-size windows: tumbling when Advance equals Size, hopping (overlapping)
// when Advance is smaller (Kafka Streams' TimeWindows). Windows are aligned to the epoch: a record
// at t is in every window [start, start+Size) with start a multiple of Advance and start <= t <
// start+Size. A window accepts records until stream time reaches its end plus Grace (KIP-633: the
// grace period is explicit, there is no 24-hour default); later records are dropped and counted in
// the dropped-records metric.
type TimeWindows struct {
	Size, Advance, Grace time.Duration
}

// TumblingWindows returns non-overlapping windows of size (TimeWindows.ofSizeAndGrace).
func TumblingWindows(size, grace time.Duration) TimeWindows {
	return TimeWindows{Size: size, Advance: size, Grace: grace}
}

// HoppingWindows returns windows of size starting every advance (ofSizeAndGrace(...).advanceBy).
func HoppingWindows(size, advance, grace time.Duration) TimeWindows {
	return TimeWindows{Size: size, Advance: advance, Grace: grace}
}

func (w TimeWindows) validate() error {
	if w.Size <= 0 || w.Advance <= 0 || w.Advance > w.Size || w.Grace < 0 {
		return fmt.Errorf("time windows need 0 < advance (%v) <= size (%v) and grace (%v) >= 0", w.Advance, w.Size, w.Grace)
	}
	if w.Size%time.Millisecond != 0 || w.Advance%time.Millisecond != 0 {
		return fmt.Errorf("time windows are in whole milliseconds")
	}
	return nil
}

// windowsFor returns the windows containing ts, by ascending start (TimeWindows.windowsFor).
func (w TimeWindows) windowsFor(ts int64) []Window {
	size, adv := w.Size.Milliseconds(), w.Advance.Milliseconds()
	start := max(0, ts-size+adv) / adv * adv
	var out []Window
	for ; start <= ts; start += adv {
		out = append(out, Window{Start: start, End: start + size})
	}
	return out
}

// SlidingWindows are windows of a fixed time difference that slide continuously with the records
// (Kafka Streams' SlidingWindows, KIP-450): each window [start, end] (both inclusive) has
// end - start = TimeDifference, and windows exist only where a record starts or ends one, so
// every distinct set of records within TimeDifference of each other has one window.
type SlidingWindows struct {
	TimeDifference, Grace time.Duration
}

// SessionWindows group a key's records into sessions of activity separated by at least Gap of
// inactivity (Kafka Streams' SessionWindows): a record within Gap of a session joins it, and one
// that bridges two sessions merges them. Sessions are [start, end] with both ends inclusive. A
// session accepts records until stream time passes its end plus Gap plus Grace.
type SessionWindows struct {
	Gap, Grace time.Duration
}

// JoinWindows bound a stream-stream join (Kafka Streams' JoinWindows): a record at t joins the
// other side's records in [t-Before, t+After]. Grace is how long after a window closes (stream
// time past t+After) out-of-order records are still joined; left and outer joins emit a record
// that found no partner only when its window closed plus grace (KIP-633), never spuriously.
//
// Eager selects the join semantics before KIP-633 (Kafka Streams' deprecated JoinWindows.of,
// which disables the spurious-result fix of KAFKA-10847): a left or outer join emits a record
// that found no partner at once, with the other side absent, and a partner arriving later in the
// window emits the joined result as well. ksqlDB joins without a GRACE PERIOD behave this way.
type JoinWindows struct {
	Before, After, Grace time.Duration
	Eager                bool
}

// JoinTimeDifference returns symmetric join windows: [t-d, t+d] (JoinWindows.ofTimeDifferenceAndGrace).
func JoinTimeDifference(d, grace time.Duration) JoinWindows {
	return JoinWindows{Before: d, After: d, Grace: grace}
}

// LegacyJoinTimeDifference returns symmetric eager join windows with the default grace of the
// deprecated API: 24 hours less the window size, at least zero (JoinWindows.of).
func LegacyJoinTimeDifference(d time.Duration) JoinWindows {
	return JoinWindows{Before: d, After: d, Grace: max(24*time.Hour-2*d, 0), Eager: true}
}
