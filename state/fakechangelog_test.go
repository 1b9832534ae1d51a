package state

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// fakeChangelog is an in-memory Changelog: records get offsets when produced, and their done
// callbacks run at Flush, as a real producer's acks would.
type fakeChangelog struct {
	mu      sync.Mutex
	parts   map[string]*fakePartition // "topic/partition"
	pending []func()
	failing error
	created map[string]string // topic → configs, printed by the tests
}

type fakePartition struct {
	start, end int64
	recs       []ChangelogRecord // ascending offsets, possibly with gaps
}

func newFakeChangelog() *fakeChangelog {
	return &fakeChangelog{parts: map[string]*fakePartition{}, created: map[string]string{}}
}

func (f *fakeChangelog) part(topic string, p int32) *fakePartition {
	k := fmt.Sprintf("%s/%d", topic, p)
	fp := f.parts[k]
	if fp == nil {
		fp = &fakePartition{}
		f.parts[k] = fp
	}
	return fp
}

func (f *fakeChangelog) Produce(rec ChangelogRecord, done func(int64, error)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failing != nil {
		err := f.failing
		f.pending = append(f.pending, func() { done(-1, err) })
		return
	}
	fp := f.part(rec.Topic, rec.Partition)
	rec.Offset = fp.end
	fp.end++
	fp.recs = append(fp.recs, rec)
	off := rec.Offset
	f.pending = append(f.pending, func() { done(off, nil) })
}

func (f *fakeChangelog) Flush(ctx context.Context) error {
	f.mu.Lock()
	p := f.pending
	f.pending = nil
	f.mu.Unlock()
	for _, fn := range p {
		fn()
	}
	return nil
}

func (f *fakeChangelog) Offsets(ctx context.Context, topic string, partition int32) (int64, int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fp := f.part(topic, partition)
	return fp.start, fp.end, nil
}

func (f *fakeChangelog) Read(ctx context.Context, topic string, partition int32, from, end int64, fn func([]ChangelogRecord) error) error {
	f.mu.Lock()
	fp := f.part(topic, partition)
	var recs []ChangelogRecord
	for _, r := range fp.recs {
		if r.Offset >= from && r.Offset < end {
			recs = append(recs, r)
		}
	}
	f.mu.Unlock()
	// Deliver in batches of 3 so that batching and progress show in the tests.
	for len(recs) > 0 {
		n := min(3, len(recs))
		if err := fn(recs[:n]); err != nil {
			return err
		}
		recs = recs[n:]
	}
	return nil
}

func (f *fakeChangelog) EnsureTopic(ctx context.Context, topic string, partitions int32, configs map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var kv []string
	for k, v := range configs {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	if _, ok := f.created[topic]; !ok {
		f.created[topic] = fmt.Sprintf("partitions=%d %s", partitions, strings.Join(kv, " "))
	}
	return nil
}

// compact keeps the last record of each key, as log compaction would (tombstones included).
func (f *fakeChangelog) compact() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fp := range f.parts {
		last := map[string]int64{}
		for _, r := range fp.recs {
			last[string(r.Key)] = r.Offset
		}
		var kept []ChangelogRecord
		for _, r := range fp.recs {
			if last[string(r.Key)] == r.Offset {
				kept = append(kept, r)
			}
		}
		fp.recs = kept
	}
}

// truncate deletes records before offset, as DeleteRecords or retention would.
func (f *fakeChangelog) truncate(before int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, fp := range f.parts {
		var kept []ChangelogRecord
		for _, r := range fp.recs {
			if r.Offset >= before {
				kept = append(kept, r)
			}
		}
		fp.recs = kept
		fp.start = max(fp.start, before)
		fp.end = max(fp.end, fp.start)
	}
}

// recreate empties every partition and restarts offsets at 0 (topic deleted and recreated).
func (f *fakeChangelog) recreate() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.parts = map[string]*fakePartition{}
}

var errInjected = errors.New("injected produce failure")
