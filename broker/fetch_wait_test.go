package broker

import "testing"

// A long-polling fetch is signalled by appends to the partitions it reads, not by appends elsewhere,
// and a topic deletion signals every waiting fetch; a second signal before the fetch looks again
// coalesces into one.
func TestFetchWaiterSignals(t *testing.T) {
	tm := &topicManager{}
	tm.waiters.set = map[*fetchWaiter]struct{}{}
	a, b := &partition{topic: "a"}, &partition{topic: "b"}
	w := newFetchWaiter()
	tm.watch(w)
	a.watch(w)
	signalled := func() bool {
		select {
		case <-w.ch:
			return true
		default:
			return false
		}
	}

	b.appended()
	if signalled() {
		t.Fatal("an append to another partition woke the fetch")
	}
	a.appended()
	a.appended()
	if !signalled() {
		t.Fatal("an append to the fetch's partition did not wake it")
	}
	if signalled() {
		t.Fatal("two appends before the fetch looked again left two signals")
	}
	tm.wake()
	if !signalled() {
		t.Fatal("a topic deletion did not wake the fetch")
	}
	a.unwatch(w)
	tm.unwatch(w)
	a.appended()
	tm.wake()
	if signalled() {
		t.Fatal("a fetch that stopped waiting was still signalled")
	}
}
