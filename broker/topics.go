package broker

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/seichedb/seiche/broker/internal/storage"
)

// topic is one topic's metadata and partitions. Its fields are replaced, never mutated, under
// topicManager.mu, so a *topic read under the lock may be used after it is released.
type topic struct {
	name       string
	id         [16]byte
	own        map[string]string // configs set on the topic itself
	config     topicConfig
	partitions []*partition
	metrics    *topicMetrics
}

// partition is one topic-partition: its log and the signal that wakes fetches waiting for data.
type partition struct {
	topic string
	index int32
	log   *storage.Log
	// metrics are the topic's counters, resolved once so that Produce and Fetch add without a lookup.
	metrics *topicMetrics

	// waiters are the long-polling fetches reading this partition, signalled when it gets new data.
	waiters struct {
		sync.Mutex
		set map[*fetchWaiter]struct{}
	}
}

// fetchWaiter wakes one long-polling fetch: the partitions it reads signal it on append, and topic
// deletions signal every waiter.
type fetchWaiter struct{ ch chan struct{} }

func newFetchWaiter() *fetchWaiter { return &fetchWaiter{ch: make(chan struct{}, 1)} }

func (w *fetchWaiter) signal() {
	select {
	case w.ch <- struct{}{}:
	default: // already signalled and not yet consumed
	}
}

// watch makes p signal w on every append until unwatch.
func (p *partition) watch(w *fetchWaiter) {
	p.waiters.Lock()
	if p.waiters.set == nil {
		p.waiters.set = map[*fetchWaiter]struct{}{}
	}
	p.waiters.set[w] = struct{}{}
	p.waiters.Unlock()
}

func (p *partition) unwatch(w *fetchWaiter) {
	p.waiters.Lock()
	delete(p.waiters.set, w)
	p.waiters.Unlock()
}

// appended wakes the fetches waiting for this partition's data.
func (p *partition) appended() {
	p.waiters.Lock()
	for w := range p.waiters.set {
		w.signal()
	}
	p.waiters.Unlock()
}

// topicRecord is a topic's persisted form under "t/<name>".
type topicRecord struct {
	ID         [16]byte          `json:"id"`
	Partitions int32             `json:"partitions"`
	Configs    map[string]string `json:"configs,omitempty"`
}

// topicManager owns topic metadata and the partition logs.
type topicManager struct {
	b   *Broker
	dir string

	mu struct {
		sync.RWMutex
		topics map[string]*topic
		byID   map[[16]byte]*topic
	}

	// waiters are every long-polling fetch, woken when a topic is deleted.
	waiters struct {
		sync.Mutex
		set map[*fetchWaiter]struct{}
	}
}

// maxPartitions bounds one topic's partition count: each partition is a directory with open files.
const maxPartitions = 10000

func topicKey(name string) []byte { return append([]byte("t/"), name...) }

func openTopics(b *Broker, dir string) (*topicManager, error) {
	tm := &topicManager{b: b, dir: dir}
	tm.mu.topics = make(map[string]*topic)
	tm.mu.byID = make(map[[16]byte]*topic)
	tm.waiters.set = map[*fetchWaiter]struct{}{}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("broker: logs directory: %w", err)
	}
	it, err := b.meta.NewIter(&pebble.IterOptions{LowerBound: []byte("t/"), UpperBound: []byte("t0")})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		name := string(it.Key()[2:])
		var rec topicRecord
		if err := json.Unmarshal(it.Value(), &rec); err != nil {
			return nil, fmt.Errorf("broker: topic %q metadata: %w", name, err)
		}
		t := &topic{name: name, id: rec.ID, own: rec.Configs, metrics: b.metrics.topic(name)}
		t.config = effectiveConfig(b.cfg.topicDefaults, t.own)
		for p := int32(0); p < rec.Partitions; p++ {
			part, err := tm.openPartition(t, p)
			if err != nil {
				tm.close()
				return nil, err
			}
			t.partitions = append(t.partitions, part)
		}
		tm.mu.topics[name] = t
		tm.mu.byID[t.id] = t
	}
	return tm, it.Error()
}

func (tm *topicManager) partitionDir(topic string, p int32) string {
	return filepath.Join(tm.dir, topic+"-"+strconv.Itoa(int(p)))
}

func (tm *topicManager) openPartition(t *topic, p int32) (*partition, error) {
	l, err := storage.Open(tm.partitionDir(t.name, p), t.config.storage(), storage.Options{
		Logger: tm.b.logger.With("topic", t.name, "partition", p),
	})
	if err != nil {
		return nil, fmt.Errorf("broker: open partition %s-%d: %w", t.name, p, err)
	}
	return &partition{topic: t.name, index: p, log: l, metrics: t.metrics}, nil
}

func (tm *topicManager) close() error {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	var errs []error
	for _, t := range tm.mu.topics {
		for _, p := range t.partitions {
			errs = append(errs, p.log.Close())
		}
	}
	return errors.Join(errs...)
}

// get returns the topic named name, or nil.
func (tm *topicManager) get(name string) *topic {
	tm.mu.RLock()
	defer tm.mu.RUnlock()
	return tm.mu.topics[name]
}

// getByID returns the topic with the given ID, or nil.
func (tm *topicManager) getByID(id [16]byte) *topic {
	tm.mu.RLock()
	defer tm.mu.RUnlock()
	return tm.mu.byID[id]
}

// partition returns the partition, or nil if the topic or partition does not exist.
func (tm *topicManager) partition(name string, p int32) *partition {
	t := tm.get(name)
	if t == nil || p < 0 || int(p) >= len(t.partitions) {
		return nil
	}
	return t.partitions[p]
}

func (tm *topicManager) partitionExists(name string, p int32) bool {
	return tm.partition(name, p) != nil
}

// all returns every topic sorted by name.
func (tm *topicManager) all() []*topic {
	tm.mu.RLock()
	out := slices.Collect(maps.Values(tm.mu.topics))
	tm.mu.RUnlock()
	slices.SortFunc(out, func(a, b *topic) int {
		if a.name < b.name {
			return -1
		}
		if a.name > b.name {
			return 1
		}
		return 0
	})
	return out
}

var legalTopicName = regexp.MustCompile(`^[a-zA-Z0-9._-]+$`)

// validTopicName applies Kafka's topic name rules.
func validTopicName(name string) error {
	switch {
	case name == "":
		return errors.New("topic name is empty")
	case name == "." || name == "..":
		return fmt.Errorf("topic name cannot be %q", name)
	case len(name) > 249:
		return fmt.Errorf("topic name is longer than 249 characters")
	case !legalTopicName.MatchString(name):
		return fmt.Errorf("topic name %q contains characters other than ASCII alphanumerics, '.', '_' and '-'", name)
	}
	return nil
}

// create creates a topic. With validateOnly it checks everything and changes nothing.
func (tm *topicManager) create(name string, partitions int32, configs map[string]string, validateOnly bool) (*topic, error) {
	if err := validTopicName(name); err != nil {
		return nil, kerrWithMessage{kerr.InvalidTopicException, err.Error()}
	}
	if isInternalTopic(name) {
		return nil, kerrWithMessage{kerr.TopicAlreadyExists, fmt.Sprintf("%q is an internal topic", name)}
	}
	if partitions < 1 || partitions > maxPartitions {
		return nil, kerrWithMessage{kerr.InvalidPartitions, fmt.Sprintf("number of partitions must be between 1 and %d", maxPartitions)}
	}
	for k, v := range configs {
		if err := validateTopicConfig(k, v); err != nil {
			return nil, kerrWithMessage{kerr.InvalidConfig, err.Error()}
		}
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if _, ok := tm.mu.topics[name]; ok {
		return nil, kerrWithMessage{kerr.TopicAlreadyExists, fmt.Sprintf("topic %q already exists", name)}
	}
	t := &topic{name: name, own: configs}
	rand.Read(t.id[:])
	t.config = effectiveConfig(tm.b.cfg.topicDefaults, configs)
	if validateOnly {
		return t, nil
	}
	t.metrics = tm.b.metrics.topic(name)
	for p := int32(0); p < partitions; p++ {
		// A directory left by a topic of the same name that was deleted while the broker was down
		// would resurrect old data; remove it.
		os.RemoveAll(tm.partitionDir(name, p))
		part, err := tm.openPartition(t, p)
		if err != nil {
			for _, done := range t.partitions {
				done.log.Remove()
			}
			tm.b.metrics.forgetTopic(name)
			return nil, err
		}
		t.partitions = append(t.partitions, part)
	}
	if err := tm.persistLocked(t); err != nil {
		for _, done := range t.partitions {
			done.log.Remove()
		}
		tm.b.metrics.forgetTopic(name)
		return nil, err
	}
	tm.mu.topics[name] = t
	tm.mu.byID[t.id] = t
	tm.b.logger.Info("created topic", "topic", name, "partitions", partitions, "configs", configs)
	return t, nil
}

// REQUIRES: tm.mu is held.
func (tm *topicManager) persistLocked(t *topic) error {
	v, err := json.Marshal(topicRecord{ID: t.id, Partitions: int32(len(t.partitions)), Configs: t.own})
	if err != nil {
		return err
	}
	if err := tm.b.meta.Set(topicKey(t.name), v, pebble.Sync); err != nil {
		return fmt.Errorf("broker: persist topic %q: %w", t.name, err)
	}
	return nil
}

// remove deletes a topic, its data and its committed offsets.
func (tm *topicManager) remove(name string) error {
	tm.mu.Lock()
	t, ok := tm.mu.topics[name]
	if !ok {
		tm.mu.Unlock()
		return kerrWithMessage{kerr.UnknownTopicOrPartition, fmt.Sprintf("topic %q does not exist", name)}
	}
	if err := tm.b.meta.Delete(topicKey(name), pebble.Sync); err != nil {
		tm.mu.Unlock()
		return fmt.Errorf("broker: delete topic %q: %w", name, err)
	}
	delete(tm.mu.topics, name)
	delete(tm.mu.byID, t.id)
	// Under the lock, so that a topic of the same name created right after gets fresh series.
	tm.b.metrics.forgetTopic(name)
	tm.mu.Unlock()

	var errs []error
	for _, p := range t.partitions {
		errs = append(errs, p.log.Remove())
	}
	errs = append(errs, tm.b.groups.DeleteTopicOffsets(name), tm.b.shares.DeleteTopic(t.id))
	tm.b.logger.Info("deleted topic", "topic", name)
	tm.wake()
	return errors.Join(errs...)
}

// addPartitions grows a topic to count partitions.
func (tm *topicManager) addPartitions(name string, count int32, validateOnly bool) error {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	t, ok := tm.mu.topics[name]
	if !ok {
		return kerrWithMessage{kerr.UnknownTopicOrPartition, fmt.Sprintf("topic %q does not exist", name)}
	}
	if count > maxPartitions {
		return kerrWithMessage{kerr.InvalidPartitions, fmt.Sprintf("a topic can have at most %d partitions", maxPartitions)}
	}
	if int(count) <= len(t.partitions) {
		return kerrWithMessage{kerr.InvalidPartitions, fmt.Sprintf("topic %q has %d partitions; the new count must be larger, got %d", name, len(t.partitions), count)}
	}
	if validateOnly {
		return nil
	}
	nt := *t
	nt.partitions = slices.Clone(t.partitions)
	for p := int32(len(t.partitions)); p < count; p++ {
		os.RemoveAll(tm.partitionDir(name, p))
		part, err := tm.openPartition(&nt, p)
		if err != nil {
			for _, added := range nt.partitions[len(t.partitions):] {
				added.log.Remove()
			}
			return err
		}
		nt.partitions = append(nt.partitions, part)
	}
	if err := tm.persistLocked(&nt); err != nil {
		return err
	}
	tm.mu.topics[name] = &nt
	tm.mu.byID[nt.id] = &nt
	tm.b.logger.Info("added partitions", "topic", name, "partitions", count)
	return nil
}

// setConfigs replaces a topic's own configs.
func (tm *topicManager) setConfigs(name string, configs map[string]string, validateOnly bool) error {
	for k, v := range configs {
		if err := validateTopicConfig(k, v); err != nil {
			return kerrWithMessage{kerr.InvalidConfig, err.Error()}
		}
	}
	tm.mu.Lock()
	defer tm.mu.Unlock()
	t, ok := tm.mu.topics[name]
	if !ok {
		return kerrWithMessage{kerr.UnknownTopicOrPartition, fmt.Sprintf("topic %q does not exist", name)}
	}
	if validateOnly {
		return nil
	}
	nt := *t
	nt.own = configs
	nt.config = effectiveConfig(tm.b.cfg.topicDefaults, configs)
	if err := tm.persistLocked(&nt); err != nil {
		return err
	}
	sc := nt.config.storage()
	for _, p := range nt.partitions {
		p.log.SetConfig(sc)
	}
	tm.mu.topics[name] = &nt
	tm.mu.byID[nt.id] = &nt
	return nil
}

// wake wakes every waiting fetch (a topic went away under some of them).
func (tm *topicManager) wake() {
	tm.waiters.Lock()
	for w := range tm.waiters.set {
		w.signal()
	}
	tm.waiters.Unlock()
}

func (tm *topicManager) watch(w *fetchWaiter) {
	tm.waiters.Lock()
	tm.waiters.set[w] = struct{}{}
	tm.waiters.Unlock()
}

func (tm *topicManager) unwatch(w *fetchWaiter) {
	tm.waiters.Lock()
	delete(tm.waiters.set, w)
	tm.waiters.Unlock()
}

// maintain runs retention and compaction over every partition.
func (tm *topicManager) maintain(ctx context.Context) {
	for _, t := range tm.all() {
		for _, p := range t.partitions {
			if ctx.Err() != nil {
				return
			}
			start := time.Now()
			if t.config.deletes() {
				if n, err := p.log.EnforceRetention(); err != nil {
					if !errors.Is(err, storage.ErrClosed) {
						tm.b.logger.Error("retention failed", "topic", t.name, "partition", p.index, "err", err)
					}
				} else if n > 0 {
					tm.b.logger.Info("retention deleted segments", "topic", t.name, "partition", p.index, "segments", n, "log_start_offset", p.log.StartOffset())
				}
			}
			if t.config.compact() {
				st, err := p.log.Clean()
				if err != nil {
					if !errors.Is(err, storage.ErrClosed) {
						tm.b.logger.Error("compaction failed", "topic", t.name, "partition", p.index, "err", err)
					}
				} else if st.SegmentsCleaned > 0 {
					tm.b.logger.Info("compacted", "topic", t.name, "partition", p.index, "segments", st.SegmentsCleaned,
						"bytes_before", st.BytesBefore, "bytes_after", st.BytesAfter, "removed", st.RecordsRemoved, "took", time.Since(start))
				}
			}
		}
	}
}

// kerrWithMessage is an error with a Kafka error code and a message for the response's ErrorMessage.
type kerrWithMessage struct {
	code *kerr.Error
	msg  string
}

func (e kerrWithMessage) Error() string { return e.msg }

// errCode maps an error to a Kafka error code and message.
func errCode(err error) (int16, *string) {
	if err == nil {
		return 0, nil
	}
	var km kerrWithMessage
	if errors.As(err, &km) {
		return km.code.Code, &km.msg
	}
	var ic *errInvalidConfig
	msg := err.Error()
	if errors.As(err, &ic) {
		return kerr.InvalidConfig.Code, &msg
	}
	return kerr.UnknownServerError.Code, &msg
}
