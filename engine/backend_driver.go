package engine

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/seichedb/seiche/runtime"
)

// driverBackend is TestSession's backend: no broker and no goroutine of its own. Topics are logs in
// memory; a command is applied as it is appended; each persistent query runs on a
// runtime.TestDriver of its own, as ksqlDB's QTT executor runs one TopologyTestDriver per query.
//
// A record written to a topic (an input, an INSERT VALUES row, a query's output) is piped into every
// running query that reads the topic, in the order the queries started, and what they write is
// delivered the same way after it, breadth first: the order one topology would process them in. A
// query that reads the topic it writes processes its own records on its driver and is not sent them
// again. A query started with auto.offset.reset=earliest first reads the records its sources already
// hold. Time is the drivers' mock wall clock, which stays at 0.
type driverBackend struct {
	e *Engine

	mu struct {
		sync.Mutex
		// next is the offset of the next command.
		next   int64
		topics map[string]*driverTopic
		// seq numbers the records written, across topics.
		seq     int64
		queries []*driverQuery // running, in start order
	}
}

type driverTopic struct {
	partitions int32
	records    []driverRecord
}

type driverRecord struct {
	seq int64
	rec runtime.RawRecord
}

type driverQuery struct {
	q   *persistentQuery
	drv *runtime.TestDriver
}

// pending is a record to write, and the query that wrote it (nil for an input).
type pending struct {
	rec  runtime.RawRecord
	from *driverQuery
}

func newDriverBackend(e *Engine) *driverBackend {
	d := &driverBackend{e: e}
	d.mu.topics = map[string]*driverTopic{}
	return d
}

func (d *driverBackend) topicPartitions(_ context.Context, topic string) (int32, bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.mu.topics[topic]; ok {
		return t.partitions, true, nil
	}
	return 0, false, nil
}

func (d *driverBackend) createTopic(_ context.Context, topic string, partitions int32, _ map[string]*string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.mu.topics[topic]; !ok {
		d.mu.topics[topic] = &driverTopic{partitions: max(partitions, 1)}
	}
	return nil
}

func (d *driverBackend) deleteTopic(_ context.Context, topic string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.mu.topics, topic)
	return nil
}

func (d *driverBackend) topics(context.Context) ([]topicInfo, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := make([]topicInfo, 0, len(d.mu.topics))
	for name, t := range d.mu.topics {
		out = append(out, topicInfo{name: name, partitions: t.partitions})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func (d *driverBackend) produce(ctx context.Context, r runtime.RawRecord) error {
	return d.deliver(ctx, []pending{{rec: r}})
}

func (d *driverBackend) now() time.Time { return time.UnixMilli(0) }

func (d *driverBackend) appendCommand(ctx context.Context, c command) (int64, commandResult, error) {
	d.mu.Lock()
	off := d.mu.next
	d.mu.next++
	d.mu.Unlock()
	return off, d.e.apply(ctx, off, c, false), nil
}

func (d *driverBackend) waitApplied(context.Context) error { return nil }

// startQuery starts q on a driver of its own; with auto.offset.reset=earliest the query first reads
// what its sources hold, until ctx is done. A query that cannot start, or fails on those records, is
// left in ERROR.
func (d *driverBackend) startQuery(ctx context.Context, q *persistentQuery) {
	drv, err := runtime.NewTestDriver(q.topo, d.e.queryOpts(d.e.appID(q.id), q.props)...)
	if err != nil {
		d.failed(q, err)
		return
	}
	q.mu.Lock()
	q.mu.state, q.mu.started = "RUNNING", time.Now()
	q.mu.Unlock()
	dq := &driverQuery{q: q, drv: drv}
	d.mu.Lock()
	d.mu.queries = append(d.mu.queries, dq)
	var held []driverRecord
	if d.e.fromStart(q.props) {
		for _, t := range d.mu.topics {
			for _, r := range t.records {
				if drv.Reads(r.rec.Topic) {
					held = append(held, r)
				}
			}
		}
	}
	d.mu.Unlock()
	sort.Slice(held, func(i, j int) bool { return held[i].seq < held[j].seq })
	for _, r := range held {
		out, err := d.pipe(ctx, dq, r.rec)
		if err == nil {
			err = d.deliver(ctx, out)
		}
		if err != nil {
			return // a query that failed is in ERROR; a done ctx ends the catching up
		}
	}
}

func (d *driverBackend) stopQuery(q *persistentQuery, _ bool) {
	d.mu.Lock()
	var stopped *driverQuery
	for i, dq := range d.mu.queries {
		if dq.q == q {
			stopped = dq
			d.mu.queries = append(d.mu.queries[:i:i], d.mu.queries[i+1:]...)
			break
		}
	}
	d.mu.Unlock()
	if stopped != nil {
		if err := stopped.drv.Close(); err != nil {
			d.e.log.Warn("closing a query's test driver", "query", q.id, "err", err)
		}
	}
}

func (d *driverBackend) close() {
	d.mu.Lock()
	qs := d.mu.queries
	d.mu.queries = nil
	d.mu.Unlock()
	for _, dq := range qs {
		_ = dq.drv.Close()
	}
}

// deliver writes the records of ps and what they lead to, breadth first, until there is nothing
// left to write, a query fails (its error is returned, and it stays in ERROR) or ctx is done.
func (d *driverBackend) deliver(ctx context.Context, ps []pending) error {
	for len(ps) > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		p := ps[0]
		ps = ps[1:]
		for _, dq := range d.write(p.rec) {
			if dq == p.from {
				continue // it processed the record when it wrote it
			}
			out, err := d.pipe(ctx, dq, p.rec)
			if err != nil {
				return err
			}
			ps = append(ps, out...)
		}
	}
	return nil
}

// write appends r to its topic, creating the topic as a broker that auto-creates topics would, and
// returns the running queries that read it.
func (d *driverBackend) write(r runtime.RawRecord) []*driverQuery {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.mu.topics[r.Topic]
	if !ok {
		t = &driverTopic{partitions: 1}
		d.mu.topics[r.Topic] = t
	}
	r.Partition, r.Offset = 0, int64(len(t.records))
	t.records = append(t.records, driverRecord{seq: d.mu.seq, rec: r})
	d.mu.seq++
	var readers []*driverQuery
	for _, dq := range d.mu.queries {
		if dq.drv.Reads(r.Topic) {
			readers = append(readers, dq)
		}
	}
	return readers
}

// pipe processes r on dq's driver and returns what dq wrote, topic by topic. A query that fails is
// stopped and left in ERROR, with its error; what it wrote for r is then dropped, as it is when ctx
// is done first.
func (d *driverBackend) pipe(ctx context.Context, dq *driverQuery, r runtime.RawRecord) ([]pending, error) {
	err := dq.drv.PipeInputContext(ctx, r.Topic, r.Key, r.Value, r.Timestamp, r.Headers...)
	topics := dq.drv.OutputTopics()
	sort.Strings(topics)
	var out []pending
	for _, t := range topics {
		for {
			rec, ok := dq.drv.ReadOutput(t)
			if !ok {
				break
			}
			out = append(out, pending{rec: rec, from: dq})
		}
	}
	if err != nil {
		if ctx.Err() == nil {
			d.stopQuery(dq.q, false)
			d.failed(dq.q, err)
		}
		return nil, err
	}
	return out, nil
}

func (d *driverBackend) failed(q *persistentQuery, err error) {
	q.mu.Lock()
	q.mu.state, q.mu.err = "ERROR", err
	q.mu.Unlock()
	d.e.metrics.queryErrors.Inc()
	d.e.log.Error("query failed", "query", q.id, "err", err)
}

// written returns the records written to topic, in order.
func (d *driverBackend) written(topic string) []runtime.RawRecord {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.mu.topics[topic]
	if !ok {
		return nil
	}
	out := make([]runtime.RawRecord, len(t.records))
	for i, r := range t.records {
		out[i] = r.rec
	}
	return out
}
