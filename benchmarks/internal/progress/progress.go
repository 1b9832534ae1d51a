// Package progress keeps a long benchmark run from being silent: a Meter prints one line to a
// writer (the programs use stderr, so results on stdout stay clean) every interval while a
// measurement runs, with the records done of the total and the rate so far:
//
//	streams: seiche/count: 412000/1000000 records (41%), 205341 records/s, 2s
//
// A run shorter than the interval prints nothing. The meter only reads a counter: the code
// being measured adds to it (Add) or a poll sets it (Set), so it costs the measurement one
// atomic operation.
package progress

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Every is the interval the benchmark programs report at.
const Every = 2 * time.Second

// Meter reports the progress of one measurement. Add and Set are safe for concurrent use.
type Meter struct {
	w       io.Writer
	label   string
	total   int64
	start   time.Time
	done    atomic.Int64
	stop    chan struct{}
	stopped sync.Once
	wg      sync.WaitGroup
	printed bool // only the reporting goroutine touches it until Stop has joined it
}

// Start starts reporting on w every interval until Stop. total is the number of records the
// measurement is done at (0 if unknown: the line then has no total and percentage).
func Start(w io.Writer, label string, total int64, every time.Duration) *Meter {
	m := &Meter{w: w, label: label, total: total, start: time.Now(), stop: make(chan struct{})}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case now := <-t.C:
				fmt.Fprintln(m.w, Line(m.label, m.done.Load(), m.total, now.Sub(m.start)))
				m.printed = true
			}
		}
	}()
	return m
}

// Add counts n more records done. On a nil Meter it does nothing, so code that reports only
// sometimes need not check.
func (m *Meter) Add(n int64) {
	if m != nil {
		m.done.Add(n)
	}
}

// Set says that n records are done, for a count read by polling.
func (m *Meter) Set(n int64) { m.done.Store(n) }

// Stop ends the reports and waits for the reporting goroutine. If it printed any line, Stop
// prints a last one, so a long run's output ends with where it stopped. Stop is idempotent.
func (m *Meter) Stop() {
	m.stopped.Do(func() {
		close(m.stop)
		m.wg.Wait()
		if m.printed {
			fmt.Fprintln(m.w, Line(m.label, m.done.Load(), m.total, time.Since(m.start)))
		}
	})
}

// Line formats one progress line.
func Line(label string, done, total int64, elapsed time.Duration) string {
	rate := int64(0)
	if elapsed > 0 {
		rate = int64(float64(done) / elapsed.Seconds())
	}
	el := elapsed.Round(time.Second)
	if total > 0 {
		return fmt.Sprintf("%s: %d/%d records (%d%%), %d records/s, %v", label, done, total, done*100/total, rate, el)
	}
	return fmt.Sprintf("%s: %d records, %d records/s, %v", label, done, rate, el)
}
