package state

import (
	"sync"
	"sync/atomic"
)

// logLayer writes every change to the layer below and produces it to the store's changelog. It
// tracks the highest offset acknowledged, which the task's commit records as the store's checkpoint.
type logLayer struct {
	lower     layer
	s         *storeBase
	w         ChangelogWriter
	topic     string
	partition int32
	done      func(int64, error)

	acked    atomic.Int64 // highest acknowledged offset, -1 for none
	produced int64        // records produced since the last task flush; owner goroutine only

	mu struct {
		sync.Mutex
		err error // first produce error since the last reset
	}
}

func newLogLayer(lower layer, s *storeBase, w ChangelogWriter, topic string, partition int32, checkpoint int64) *logLayer {
	l := &logLayer{lower: lower, s: s, w: w, topic: topic, partition: partition}
	l.acked.Store(checkpoint)
	l.done = func(off int64, err error) {
		if err != nil {
			l.mu.Lock()
			if l.mu.err == nil {
				l.mu.err = err
			}
			l.mu.Unlock()
			return
		}
		for {
			cur := l.acked.Load()
			if off <= cur || l.acked.CompareAndSwap(cur, off) {
				return
			}
		}
	}
	return l
}

func (l *logLayer) failure() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.mu.err != nil {
		return &ChangelogError{Store: l.s.name, Topic: l.topic, Err: l.mu.err}
	}
	return nil
}

func (l *logLayer) reset(checkpoint int64) {
	l.mu.Lock()
	l.mu.err = nil
	l.mu.Unlock()
	l.acked.Store(checkpoint)
	l.produced = 0
}

func (l *logLayer) get(k []byte) ([]byte, bool, error) { return l.lower.get(k) }

func (l *logLayer) set(k, v []byte) error {
	if err := l.failure(); err != nil {
		return err
	}
	if err := l.lower.set(k, v); err != nil {
		return err
	}
	return l.produce(k, cloneNonNil(v))
}

func (l *logLayer) del(k []byte) error {
	if err := l.failure(); err != nil {
		return err
	}
	if err := l.lower.del(k); err != nil {
		return err
	}
	return l.produce(k, nil)
}

func (l *logLayer) produce(phys, value []byte) error {
	key, err := l.s.impl.changelogKey(phys)
	if err != nil {
		return err
	}
	l.produced++
	l.w.Produce(ChangelogRecord{
		Topic:     l.topic,
		Partition: l.partition,
		Key:       key,
		Value:     value,
		Timestamp: l.s.impl.recordTimestamp(phys, value),
	}, l.done)
	return nil
}

func (l *logLayer) deleteRange(lo, hi []byte) error { return l.lower.deleteRange(lo, hi) }

func (l *logLayer) iter(lo, hi []byte, reverse bool) (rawIter, error) {
	return l.lower.iter(lo, hi, reverse)
}
