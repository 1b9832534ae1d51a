package runtime

import (
	"fmt"
	"time"
)

// schedule is one punctuation: Kafka Streams' PunctuationSchedule.
type schedule struct {
	node      string
	interval  int64 // ms
	next      int64 // time it is due
	fn        Punctuator
	cancelled bool
}

func (s *schedule) Cancel() { s.cancelled = true }

// advance moves next past now, skipping missed intervals rather than firing them all.
func (s *schedule) advance(now int64) {
	next := s.next + s.interval
	if now >= next {
		missed := (now - s.next) / s.interval
		next = s.next + (missed+1)*s.interval
	}
	s.next = next
}

func (t *task) schedule(node string, interval time.Duration, typ PunctuationType, fn Punctuator) (Cancellable, error) {
	ms := interval.Milliseconds()
	if ms < 1 {
		return nil, fmt.Errorf("runtime: punctuation interval must be at least 1ms, got %v", interval)
	}
	if fn == nil {
		return nil, fmt.Errorf("runtime: nil punctuator")
	}
	s := &schedule{node: node, interval: ms, fn: fn}
	switch typ {
	case StreamTime:
		// Aligned to 0: fires as soon as there is data, as in Kafka Streams.
		s.next = 0
		t.streamPunct = append(t.streamPunct, s)
	case WallClockTime:
		s.next = t.wallClockTime() + ms
		t.wallPunct = append(t.wallPunct, s)
	default:
		return nil, fmt.Errorf("runtime: unknown punctuation type %d", typ)
	}
	return s, nil
}

// punctuateStreamTime runs every stream-time punctuation due at the current stream time.
func (t *task) punctuateStreamTime() error {
	if t.streamTime < 0 {
		return nil
	}
	return t.punctuate(&t.streamPunct, t.streamTime)
}

// punctuateWallClock runs every wall-clock punctuation due now.
func (t *task) punctuateWallClock() error {
	if len(t.wallPunct) == 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.punctuate(&t.wallPunct, t.wallClockTime())
}

// nextWallClock returns when the next wall-clock punctuation is due, ok false if none is scheduled.
func (t *task) nextWallClock() (next int64, ok bool) {
	for _, s := range t.wallPunct {
		if !s.cancelled && (!ok || s.next < next) {
			next, ok = s.next, true
		}
	}
	return next, ok
}

// punctuate runs the schedules of *list due at now. Punctuators may schedule more; those are
// appended to *list and first considered at the next call.
func (t *task) punctuate(list *[]*schedule, now int64) error {
	live := (*list)[:0]
	for _, s := range *list {
		if !s.cancelled {
			live = append(live, s)
		}
	}
	clear((*list)[len(live):])
	*list = live
	for i, n := 0, len(live); i < n; i++ {
		s := (*list)[i]
		if s.cancelled || s.next > now {
			continue
		}
		if err := t.runPunctuator(s, now); err != nil {
			return t.fail(err)
		}
		s.advance(now)
	}
	return nil
}

func (t *task) runPunctuator(s *schedule, now int64) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = t.processingError(t.node, newPanicError(p))
		}
	}()
	t.hasMeta = false
	t.node = s.node
	if err := s.fn(now); err != nil {
		if _, ok := asFailure(err); ok {
			return err
		}
		return t.processingError(s.node, fmt.Errorf("punctuator: %w", err))
	}
	return nil
}
