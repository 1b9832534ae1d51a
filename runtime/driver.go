package runtime

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/state"
)

// RawRecord is a record as bytes, piped into or read out of a TestDriver.
type RawRecord struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       []byte
	Value     []byte
	Headers   []Header
	Timestamp int64 // ms
}

// TestDriver runs a topology synchronously, without a broker: Kafka Streams' TopologyTestDriver.
// Every sub-topology runs as one task for partition 0; a record piped in is processed completely,
// including what it sends through repartition topics, before PipeInput returns. Wall-clock time is
// a mock clock that only AdvanceWallClock moves, so runs are deterministic. Stores live in memory;
// the record caches that forward what they hold (an aggregation's) are flushed after every input
// record (what reaches the outputs does not depend on how records are piped in), and the stores
// are committed once per call, with the caches that only coalesce writes (a suppression's buffer):
// after every record piped with PipeInput, once for a whole batch piped with PipeInputs.
//
// The dsl's dsltest package wraps it with typed input and output topics. A TestDriver is not safe
// for concurrent use.
type TestDriver struct {
	cfg   config
	sh    *shared
	plan  *plan
	tasks []*task
	// topics are the topics records were piped to or written to, by run-time name.
	topics  map[string]*driverTopic
	pending []*kgo.Record
	// in is the record PipeInput hands a task: a task does not retain the record it processes
	// (its source copies the fields it keeps), so one serves every input record.
	in kgo.Record
	// uncommitted are the tasks that processed records since their last commit.
	uncommitted []*task
	now         time.Time
	db          *state.DB
	closed      bool
	reg         *prometheus.Registry
}

// NewTestDriver instantiates t. ApplicationID defaults to "dsltest".
func NewTestDriver(t *Topology, opts ...Opt) (*TestDriver, error) {
	cfg := defaultConfig()
	cfg.appID = "dsltest"
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(false); err != nil {
		return nil, err
	}
	p, err := newPlan(cfg.appID, t)
	if err != nil {
		return nil, err
	}
	d := &TestDriver{cfg: cfg, plan: p, topics: map[string]*driverTopic{}, now: cfg.startTime}
	if d.now.IsZero() {
		d.now = time.UnixMilli(0)
	}
	d.reg = prometheus.NewRegistry()
	m, err := newMetrics(d.reg, cfg.appID)
	if err != nil {
		return nil, err
	}
	d.sh = &shared{
		appID:    cfg.appID,
		logger:   cfg.logger,
		onDeser:  cfg.onDeser,
		onProc:   cfg.onProc,
		plog:     processingLog{topic: cfg.plogTopic},
		now:      func() time.Time { return d.now },
		internal: p.internal,
		metrics:  m,
	}
	if len(t.globals) > 0 {
		d.db = state.OpenMemory()
		if d.sh.globals, err = openGlobals(context.Background(), t, d.db, cfg.appID, d.sh.logger); err != nil {
			d.Close()
			return nil, err
		}
	}
	var openState openStateTask
	for _, st := range p.subs {
		if len(st.stores) > 0 {
			if d.db == nil {
				d.db = state.OpenMemory()
			}
			openState = func(id TaskID) (*state.Task, error) {
				return d.db.OpenTask(cfg.appID, id.String(), id.Partition, cfg.taskStateOpts()...)
			}
			break
		}
	}
	for _, st := range p.subs {
		tk, err := newTask(context.Background(), TaskID{Subtopology: st.id}, st, d.sh, driverCollector{d}, openState)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.tasks = append(d.tasks, tk)
	}
	return d, nil
}

// driverTopic is what the driver knows of one topic: its next offset, the records written to it and
// not yet read, and who reads it.
type driverTopic struct {
	next int64
	// out[head:] are the records not yet read, oldest first.
	out  []RawRecord
	head int
	// task is the task reading the topic, nil if none; global says a global store reads it.
	task   *task
	global bool
}

// topic returns name's state, creating it on first use.
func (d *TestDriver) topic(name string) *driverTopic {
	if tp := d.topics[name]; tp != nil {
		return tp
	}
	tp := &driverTopic{task: d.taskFor(name), global: d.sh.globals.forTopic(name) != nil}
	d.topics[name] = tp
	return tp
}

// driverCollector keeps what the tasks send as outputs, and queues what is sent to a topic the
// topology reads to be processed again. It copies what it keeps, so send does not retain r
// (copyingCollector): a sink may reuse one record for all its sends.
type driverCollector struct{ d *TestDriver }

func (c driverCollector) send(r *kgo.Record) {
	d := c.d
	tp := d.topic(r.Topic)
	off := tp.next
	tp.next++
	ts := r.Timestamp.UnixMilli()
	tp.out = append(tp.out, RawRecord{
		Topic: r.Topic, Offset: off, Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: ts,
	})
	if tp.task != nil || tp.global {
		d.pending = append(d.pending, &kgo.Record{
			Topic: r.Topic, Partition: 0, Offset: off, Key: r.Key, Value: r.Value, Headers: r.Headers, Timestamp: r.Timestamp,
		})
	}
}

func (driverCollector) copiesRecords() {}

// taskFor returns the task reading topic: records sent to a topic the topology reads (a
// repartition topic, or any other source topic) are processed again, as in TopologyTestDriver.
func (d *TestDriver) taskFor(topic string) *task {
	id, ok := d.plan.subFor(topic)
	if !ok {
		return nil
	}
	return d.tasks[id]
}

// PipeInput processes one record of an input topic: its key and value bytes, its timestamp (ms)
// and headers. key and value become the record's bytes, as a fetched record's are: they may be
// retained (by a deserializer that does not copy, or an error handler), so the caller must not
// modify them after the call. It returns a *TaskError when an error handler decided to fail (the driver stays
// usable), and an error for a topic no source reads.
func (d *TestDriver) PipeInput(topic string, key, value []byte, timestamp int64, headers ...Header) error {
	return d.PipeInputContext(context.Background(), topic, key, value, timestamp, headers...)
}

// PipeInputContext is PipeInput that gives up when ctx is done: between two records of the ones the
// input leads to, so that a topology feeding its own input stops. It then returns ctx's error, and
// the records not yet processed are dropped.
func (d *TestDriver) PipeInputContext(ctx context.Context, topic string, key, value []byte, timestamp int64, headers ...Header) error {
	if err := d.pipe(ctx, topic, key, value, timestamp, headers); err != nil {
		return err
	}
	return d.commitAll()
}

// PipeInputs processes recs in order, each completely (with what it sends through repartition
// topics) before the next, as one PipeInputContext call per record would, and with the same
// outputs, store contents and stream time; but the stores are committed once, at the end, not
// after every record. Only Topic, Key, Value, Timestamp and Headers of a record are read; the
// key and value bytes are retained as PipeInput's are. It stops at the first record that fails
// (records after it are not processed) and returns that record's error, as PipeInputContext
// would; a done ctx stops it as it stops PipeInputContext.
func (d *TestDriver) PipeInputs(ctx context.Context, recs []RawRecord) error {
	for i := range recs {
		r := &recs[i]
		if err := d.pipe(ctx, r.Topic, r.Key, r.Value, r.Timestamp, r.Headers); err != nil {
			return err
		}
	}
	return d.commitAll()
}

// pipe processes one input record and what it leads to, without committing.
func (d *TestDriver) pipe(ctx context.Context, topic string, key, value []byte, timestamp int64, headers []Header) error {
	if d.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	id, ok := d.plan.subFor(topic)
	if !ok && d.sh.globals.forTopic(topic) == nil {
		return fmt.Errorf("runtime: no source reads topic %s", topic)
	}
	tp := d.topic(topic)
	off := tp.next
	tp.next++
	if !ok {
		return d.applyGlobal(&kgo.Record{Topic: topic, Partition: 0, Offset: off, Key: key, Value: value, Headers: headers, Timestamp: time.UnixMilli(timestamp)})
	}
	d.in = kgo.Record{Topic: topic, Partition: 0, Offset: off, Key: key, Value: value, Headers: headers, Timestamp: time.UnixMilli(timestamp)}
	err := d.run(d.tasks[id], &d.in)
	d.in = kgo.Record{}
	if err != nil {
		d.pending = nil
		return err
	}
	return d.drain(ctx)
}

// Reads reports whether a source or a global store of the driven topology reads topic: whether
// PipeInput accepts its records.
func (d *TestDriver) Reads(topic string) bool {
	_, ok := d.plan.subFor(topic)
	return ok || d.sh.globals.forTopic(topic) != nil
}

// run processes one record on t and flushes the caches that forward what they hold, as a commit
// would, but leaves the commit, and the caches that only coalesce writes, to commitAll.
func (d *TestDriver) run(t *task, r *kgo.Record) error {
	if err := t.process(r); err != nil {
		return err
	}
	// t.consumed is not called: the offsets a task notes are for a stream thread to commit to the
	// group (and to purge repartition topics below), and the driver has neither.
	if !slices.Contains(d.uncommitted, t) {
		d.uncommitted = append(d.uncommitted, t)
	}
	return t.flushForwarding()
}

// commitAll commits the tasks that processed records since their last commit.
func (d *TestDriver) commitAll() error {
	for len(d.uncommitted) > 0 {
		if err := d.commit(d.uncommitted[len(d.uncommitted)-1]); err != nil {
			return err
		}
	}
	return nil
}

// drain processes the records sent to internal topics, in the order they were sent, until there are
// none left or ctx is done.
func (d *TestDriver) drain(ctx context.Context) error {
	for len(d.pending) > 0 {
		if err := ctx.Err(); err != nil {
			d.pending = nil
			return err
		}
		r := d.pending[0]
		d.pending = d.pending[1:]
		if d.taskFor(r.Topic) == nil {
			if err := d.applyGlobal(r); err != nil {
				return err
			}
			continue
		}
		if err := d.run(d.taskFor(r.Topic), r); err != nil {
			d.pending = nil
			return err
		}
	}
	return nil
}

func (d *TestDriver) commit(t *task) error {
	if err := t.flushState(context.Background()); err != nil {
		return err
	}
	if err := t.commitState(context.Background()); err != nil {
		return err
	}
	d.uncommitted = slices.DeleteFunc(d.uncommitted, func(u *task) bool { return u == t })
	return nil
}

// AdvanceWallClock moves the mock wall clock forward by by and runs the wall-clock punctuations
// that became due.
func (d *TestDriver) AdvanceWallClock(by time.Duration) error {
	if d.closed {
		return ErrClosed
	}
	if by < 0 {
		return errors.New("runtime: cannot move the wall clock backwards")
	}
	d.now = d.now.Add(by)
	for _, t := range d.tasks {
		if err := t.punctuateWallClock(); err != nil {
			d.pending = nil
			return err
		}
		if err := d.drain(context.Background()); err != nil {
			return err
		}
		if err := d.commit(t); err != nil {
			return err
		}
	}
	return d.commitAll()
}

// WallClock returns the mock wall-clock time.
func (d *TestDriver) WallClock() time.Time { return d.now }

// ReadOutput removes and returns the oldest record written to topic, ok false if there is none.
// Records sent to repartition topics are readable too, under their run-time names.
func (d *TestDriver) ReadOutput(topic string) (RawRecord, bool) {
	tp := d.topics[topic]
	if tp == nil || tp.head == len(tp.out) {
		return RawRecord{}, false
	}
	r := tp.out[tp.head]
	tp.head++
	if tp.head == len(tp.out) {
		// All read: the queue starts again at the front of the same array, dropping its references.
		clear(tp.out)
		tp.out, tp.head = tp.out[:0], 0
	}
	return r, true
}

// OutputTopics returns the topics that have records not yet read.
func (d *TestDriver) OutputTopics() []string {
	var out []string
	for name, tp := range d.topics {
		if tp.head < len(tp.out) {
			out = append(out, name)
		}
	}
	return out
}

// StateStore returns the store name of the task that has it.
func (d *TestDriver) StateStore(name string) (state.Store, error) {
	for _, t := range d.tasks {
		if s, ok := t.stores[name]; ok {
			return s, nil
		}
	}
	return nil, fmt.Errorf("runtime: no state store %s", name)
}

// Describe returns the structure of the driven topology.
func (d *TestDriver) Describe() TopologyDescription { return d.plan.topo.Describe() }

// Close closes every task (processors' Close, stores) and is idempotent.
func (d *TestDriver) Close() error {
	if d.closed {
		return nil
	}
	d.closed = true
	var errs []error
	for _, t := range d.tasks {
		errs = append(errs, t.close())
	}
	errs = append(errs, d.sh.globals.close())
	if d.db != nil {
		errs = append(errs, d.db.Close())
	}
	return errors.Join(errs...)
}

// applyGlobal applies a record of a global store's topic to the store, as the App's global
// consumer does; with one partition per topic, the store is always caught up.
func (d *TestDriver) applyGlobal(r *kgo.Record) error {
	if err := d.sh.globals.forTopic(r.Topic).apply(context.Background(), d.sh, []*kgo.Record{r}); err != nil {
		d.pending = nil
		return err
	}
	return nil
}
