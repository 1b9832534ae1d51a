package progress

import (
	"strings"
	"testing"
	"time"
)

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{412000, 1000000, 2 * time.Second, "q: 412000/1000000 records (41%), 206000 records/s, 2s"},
		{5, 0, time.Second, "q: 5 records, 5 records/s, 1s"},
		{0, 10, 0, "q: 0/10 records (0%), 0 records/s, 0s"},
	} {
		if got := Line("q", tc.done, tc.total, tc.elapsed); got != tc.want {
			t.Errorf("Line(%d, %d, %v) = %q, want %q", tc.done, tc.total, tc.elapsed, got, tc.want)
		}
	}
}

// lines is a writer that hands each line written to the test. Its buffer is far larger than the
// lines a meter ticking every 10ms can write in the moments the test does not read.
type lines chan string

func (l lines) Write(p []byte) (int, error) {
	l <- string(p)
	return len(p), nil
}

// A meter reports while it runs and ends with a last line; Stop joins its goroutine, so nothing
// is written after it returns, and a second Stop does nothing.
func TestMeterReportsUntilStopped(t *testing.T) {
	out := make(lines, 4096)
	m := Start(out, "run", 100, 10*time.Millisecond)
	m.Add(40)
	for l := range out {
		if strings.HasPrefix(l, "run: 40/100 records (40%)") {
			break
		}
	}
	m.Set(100)
	m.Stop()
	m.Stop()
	var last string
	for len(out) > 0 {
		last = <-out
	}
	if !strings.HasPrefix(last, "run: 100/100 records (100%)") {
		t.Errorf("last line %q, want the final count", last)
	}
}

// A run shorter than the interval prints nothing.
func TestShortRunIsQuiet(t *testing.T) {
	out := make(lines, 1)
	m := Start(out, "run", 10, time.Hour)
	m.Add(10)
	m.Stop()
	if len(out) != 0 {
		t.Errorf("short run printed %q", <-out)
	}
}
