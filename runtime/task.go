package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/state"
)

// shared is what every task of an application instance shares. It is read-only once built.
type shared struct {
	appID    string
	logger   *slog.Logger
	onDeser  ErrorHandler
	onProc   ErrorHandler
	plog     processingLog
	now      func() time.Time
	internal map[string]bool // undecorated internal topic names
	metrics  *metrics
	globals  *globals // nil without global stores; set before any task is created
}

// decorate returns the run-time name of topic: "<application.id>-<topic>" for an internal topic.
func (sh *shared) decorate(topic string) string {
	if sh.internal[topic] {
		return sh.appID + "-" + topic
	}
	return topic
}

// collector takes the records a task's sinks produce. send must not block on the broker; delivery
// errors surface when the owner flushes (at-least-once) or commits the transaction (exactly-once,
// later). This is the seam between processing and the processing guarantee.
type collector interface {
	send(r *kgo.Record)
}

// task runs one sub-topology for one partition number. Everything in it belongs to the goroutine
// driving it (a stream thread, or the test driver's caller), except that interactive queries read
// its stores under mu (interactive.go).
type task struct {
	id        TaskID
	sh        *shared
	sub       *subtopology
	logger    *slog.Logger
	nodes     []node
	byName    map[string]node
	defs      map[string]*nodeDef
	sources   map[string]rawSource // run-time topic → source
	patterns  []patternSource
	collector collector
	stateTask *state.Task
	stores    map[string]state.Store

	meta    RecordMetadata
	hasMeta bool
	// node is the node running now, for attributing a panic; forwarding is false while the source
	// deserializes (a panic there is a deserialization error).
	node       string
	forwarding bool
	streamTime int64
	partTime   map[TopicPartition]int64

	// offsets holds, per input partition, the offset after the last record processed and not yet
	// committed.
	offsets         map[TopicPartition]kgo.EpochOffset
	commitRequested bool

	streamPunct []*schedule
	wallPunct   []*schedule

	tm *taskMetrics

	// mu makes the goroutine driving the task and interactive queries take turns on the task's
	// state: the driver holds it while it runs records, punctuators, flushes, commits or closes the
	// task (processBatch, process, punctuateWallClock, flushState, commitState, close), a query
	// while it reads one key or one chunk of a scan. closed is set by close.
	mu struct {
		sync.Mutex
		closed bool
	}
}

type patternSource struct {
	re  *regexp.Regexp
	src rawSource
}

// openStateTask opens the state of a task; nil when the sub-topology has no stores.
type openStateTask func(id TaskID) (*state.Task, error)

// newTask instantiates sub for task id: nodes, stores, processor Init. On error everything opened
// is closed again.
func newTask(ctx context.Context, id TaskID, sub *subtopology, sh *shared, c collector, openState openStateTask) (*task, error) {
	t := &task{
		id:         id,
		sh:         sh,
		sub:        sub,
		logger:     sh.logger.With("task", id.String()),
		byName:     map[string]node{},
		defs:       map[string]*nodeDef{},
		sources:    map[string]rawSource{},
		collector:  c,
		stores:     map[string]state.Store{},
		streamTime: -1,
		offsets:    map[TopicPartition]kgo.EpochOffset{},
	}
	if sh.metrics != nil {
		t.tm = sh.metrics.forTask(id)
	}
	for _, nd := range sub.nodes {
		n := nd.newNode()
		t.nodes = append(t.nodes, n)
		t.byName[nd.name] = n
		t.defs[nd.name] = nd
		if nd.kind == sourceKind {
			src := n.(rawSource)
			for _, topic := range nd.topics {
				t.sources[sh.decorate(topic)] = src
			}
			if nd.pattern != nil {
				t.patterns = append(t.patterns, patternSource{re: nd.pattern, src: src})
			}
		}
	}
	for _, nd := range sub.nodes {
		for _, c := range nd.children {
			if err := t.byName[nd.name].addChild(t.byName[c]); err != nil {
				return nil, err
			}
		}
	}
	if len(sub.stores) > 0 {
		if openState == nil {
			return nil, fmt.Errorf("runtime: task %s has state stores but no state directory", id)
		}
		st, err := openState(id)
		if err != nil {
			return nil, fmt.Errorf("runtime: task %s: open state: %w", id, err)
		}
		t.stateTask = st
		for _, sd := range sub.stores {
			s, err := sd.builder.Open(ctx, st)
			if err != nil {
				st.Close()
				return nil, fmt.Errorf("runtime: task %s: open state store %s: %w", id, sd.builder.Name(), err)
			}
			t.stores[sd.builder.Name()] = s
		}
	}
	for i, n := range t.nodes {
		if err := n.init(t); err != nil {
			for _, m := range t.nodes[:i] {
				m.close()
			}
			if t.stateTask != nil {
				t.stateTask.Close()
			}
			return nil, &TaskError{Task: id, Err: err}
		}
	}
	return t, nil
}

func (t *task) def(name string) *nodeDef { return t.defs[name] }

func (t *task) wallClockTime() int64 { return t.sh.now().UnixMilli() }

func (t *task) observeTimestamp(ts int64) {
	if ts > t.streamTime {
		t.streamTime = ts
	}
}

func (t *task) partitionTime(tp TopicPartition) int64 {
	if pt, ok := t.partTime[tp]; ok {
		return pt
	}
	return -1
}

func (t *task) setPartitionTime(tp TopicPartition, ts int64) {
	if t.partTime == nil {
		t.partTime = map[TopicPartition]int64{}
	}
	if ts > t.partitionTime(tp) {
		t.partTime[tp] = ts
	}
}

func (t *task) sourceFor(topic string) rawSource {
	if s, ok := t.sources[topic]; ok {
		return s
	}
	for _, p := range t.patterns {
		if p.re.MatchString(topic) {
			t.sources[topic] = p.src
			return p.src
		}
	}
	return nil
}

// process runs one consumed record through the task, then any stream-time punctuation it makes due.
// A non-nil error is a *TaskError: the task must stop. The caller records the offset (consumed).
func (t *task) process(r *kgo.Record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	src := t.sourceFor(r.Topic)
	if src == nil {
		return &TaskError{Task: t.id, Err: fmt.Errorf("no source reads topic %s", r.Topic)}
	}
	return t.processWith(src, r)
}

// processBatch runs records of one partition, in order, through the task.
func (t *task) processBatch(topic string, recs []*kgo.Record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	src := t.sourceFor(topic)
	if src == nil {
		return &TaskError{Task: t.id, Err: fmt.Errorf("no source reads topic %s", topic)}
	}
	for _, r := range recs {
		if err := t.processWith(src, r); err != nil {
			return err
		}
	}
	return nil
}

// processWith runs r through the task. It is the one place that recovers a panic in user code
// during processing (deserializers, extractors, processors, serializers): one deferred recover per
// record instead of one per node. The panic goes to the error handler of the node that was running;
// with Continue, what was left of the record's processing is skipped.
func (t *task) processWith(src rawSource, r *kgo.Record) (err error) {
	t.meta = RecordMetadata{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset}
	t.hasMeta = true
	t.forwarding = false
	defer func() {
		if p := recover(); p != nil {
			pe := newPanicError(p)
			if t.forwarding {
				err = t.processingError(t.node, pe)
			} else {
				err = t.deserializationError(t.node, r, pe)
			}
			t.hasMeta = false
			if err != nil {
				err = t.fail(err)
			}
		}
	}()
	err = src.deliver(r)
	t.hasMeta = false
	if err != nil {
		return t.fail(err)
	}
	if len(t.streamPunct) > 0 {
		return t.punctuateStreamTime()
	}
	return nil
}

// consumed records that every record of tp before offset next has been processed.
func (t *task) consumed(tp TopicPartition, next kgo.EpochOffset) { t.offsets[tp] = next }

func (t *task) fail(err error) error {
	if f, ok := asFailure(err); ok {
		err = f.err
	}
	var te *TaskError
	if errors.As(err, &te) {
		return te
	}
	return &TaskError{Task: t.id, Err: err}
}

func (t *task) deserializationError(node string, r *kgo.Record, err error) error {
	de := &DeserializationError{
		Task:   t.id,
		Node:   node,
		Record: RecordMetadata{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset},
		Key:    r.Key,
		Value:  r.Value,
		Err:    err,
	}
	t.sh.plog.record(t, de)
	if t.tm != nil {
		t.tm.dropped.Inc()
	}
	if t.sh.onDeser(de) == Fail {
		return &failure{err: de}
	}
	return nil
}

func (t *task) processingError(node string, err error) error {
	pe := &ProcessingError{Task: t.id, Node: node, Record: t.meta, HasRecord: t.hasMeta, Err: err}
	t.sh.plog.record(t, pe)
	if t.tm != nil {
		t.tm.dropped.Inc()
	}
	if t.sh.onProc(pe) == Fail {
		return &failure{err: pe}
	}
	return nil
}

// flushState writes the stores' cached changes down and to their changelogs: the first step of a
// commit.
func (t *task) flushState(ctx context.Context) error {
	if t.stateTask == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.stateTask.Flush(ctx); err != nil {
		return &TaskError{Task: t.id, Err: fmt.Errorf("flush state: %w", err)}
	}
	return nil
}

// flushForwarding flushes the record caches that forward what they hold (state.Task.FlushForwarding).
func (t *task) flushForwarding() error {
	if t.stateTask == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.stateTask.FlushForwarding(); err != nil {
		return &TaskError{Task: t.id, Err: fmt.Errorf("flush state: %w", err)}
	}
	return nil
}

// commitState makes the stores durable after the offsets are committed.
func (t *task) commitState(ctx context.Context) error {
	if t.stateTask == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.stateTask.Commit(ctx); err != nil {
		return &TaskError{Task: t.id, Err: fmt.Errorf("commit state: %w", err)}
	}
	return nil
}

// close closes processors and stores. Uncommitted state changes are discarded.
func (t *task) close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.mu.closed = true
	var errs []error
	for _, n := range t.nodes {
		if err := n.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if t.stateTask != nil {
		if err := t.stateTask.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	if t.tm != nil {
		t.tm.unregister()
	}
	return errors.Join(errs...)
}
