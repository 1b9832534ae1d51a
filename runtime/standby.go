package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/state"
)

// Standby tasks (Kafka Streams' StandbyTask, num.standby.replicas): copies of stateful tasks that
// run on other instances, kept up to date from the changelogs those tasks write, so that when a
// task moves here (its instance died, or the group rebalanced) its restore reads only the tail of
// its changelogs that the copy had not applied yet.
//
// The balancer gives each member its standby tasks with its active ones (assignment.go). A copy
// is state, not processing: it belongs to the instance, not to a stream thread, since its state
// directory is the instance's and any thread of the instance may be given the task. So one
// goroutine per instance (standbys.run) owns every copy: it opens the tasks its threads were given
// as standbys (state.Standby: the stores open at their checkpoints without restoring), reads their
// changelog partitions with one consumer of its own (no group: the partitions are assigned
// directly, from each store's position), applies what it reads (state.Task.ApplyChangelog) and
// checkpoints the copies every commit interval (state.Task.Commit), and when the application stops
// cleanly. A copy processes no input and writes nothing.
//
// Handing over: a stream thread that is given a task which this instance keeps a copy of closes
// the copy (committing its position) in its assign callback, before it opens the task, through
// standbys.assign; the copy's checkpoint is then where the task's restore starts. A task is
// wanted as a copy while some thread's latest assignment lists it as standby and no thread's
// lists it as active, so a thread whose assignment is not in yet cannot have a copy opened under
// a task another thread is about to open. A copy the group moved elsewhere is closed the same
// way, its state kept on disk, so that it resumes from there if it comes back. A copy whose task
// is still open here (a thread closing its suspended task after the assignment) opens at the next
// attempt.

// standbyRetry is how long a copy that failed to open waits before the next attempt; a copy whose
// task is still open here (state.ErrTaskOpen) tries again at once, on the goroutine's next turn.
const standbyRetry = 5 * time.Second

// standbyPoll bounds the goroutine's wait for changelog records, so that it opens the copies
// assign asked for and commits on time without records.
const standbyPoll = 200 * time.Millisecond

// standbys owns the instance's standby tasks. Its goroutine (run) opens, updates, commits and
// closes them; the stream threads' assign callbacks say which are wanted (assign), closing those
// no longer wanted themselves. mu makes the two take turns; interactive queries read a copy's
// stores under the copy's own lock (standbyTask.mu), taken inside mu.
type standbys struct {
	a      *App
	logger *slog.Logger
	wake   chan struct{} // assign changed what is wanted

	// queryable holds the open copies, for App.StandbyStores: written with mu held, read anywhere.
	queryable atomic.Pointer[[]*standbyTask]

	mu struct {
		sync.Mutex
		active  map[int][]TaskID // by thread: the active tasks of its latest assignment
		standby map[int][]TaskID // by thread: the standby tasks of its latest assignment
		tasks   map[TaskID]*standbyTask
		byTP    map[TopicPartition]*standbyTask
		retry   map[TaskID]time.Time // wanted copies that failed to open: not before
		cl      *kgo.Client          // the changelog consumer, made for the first copy
		stopped bool
	}
}

// standbyTask is one open copy.
type standbyTask struct {
	id TaskID
	st *state.Task
	// mu makes the goroutine applying records and interactive queries take turns on the copy's
	// stores; closed is set when the copy closes.
	mu struct {
		sync.Mutex
		closed bool
		stores map[string]*standbyStore // logged stores, by changelog topic
	}
}

// standbyStore is where one logged store of a copy is in its changelog partition.
type standbyStore struct {
	name string
	next int64 // offset of the next record to apply
	end  int64 // the changelog's end offset as last seen
}

func newStandbys(a *App) *standbys {
	s := &standbys{a: a, logger: a.sh.logger.With("standby", true), wake: make(chan struct{}, 1)}
	s.mu.active = map[int][]TaskID{}
	s.mu.standby = map[int][]TaskID{}
	s.mu.tasks = map[TaskID]*standbyTask{}
	s.mu.byTP = map[TopicPartition]*standbyTask{}
	s.mu.retry = map[TaskID]time.Time{}
	s.queryable.Store(&[]*standbyTask{})
	return s
}

// assign records the tasks thread's latest assignment gave it, active and standby, and closes at
// once every copy no longer wanted: the tasks now active here (their checkpoint is where their
// restore starts) and those moved elsewhere. The goroutine opens the new copies. It is called by
// the thread's assign callback before the thread opens any task, and with nil lists when the
// thread stops or loses its partitions.
func (s *standbys) assign(thread int, active, standby []TaskID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.mu.stopped {
		return
	}
	s.mu.active[thread], s.mu.standby[thread] = active, standby
	wanted := s.wantedLocked()
	for id, t := range s.mu.tasks {
		if !wanted[id] {
			s.closeLocked(t, true)
		}
	}
	for id := range s.mu.retry {
		if !wanted[id] {
			delete(s.mu.retry, id)
		}
	}
	s.publishLocked()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// wantedLocked returns the tasks some thread was given as standby and none as active.
//
// REQUIRES: s.mu is held.
func (s *standbys) wantedLocked() map[TaskID]bool {
	wanted := map[TaskID]bool{}
	for _, ids := range s.mu.standby {
		for _, id := range ids {
			wanted[id] = true
		}
	}
	for _, ids := range s.mu.active {
		for _, id := range ids {
			delete(wanted, id)
		}
	}
	return wanted
}

// run opens, updates and checkpoints the copies until ctx is done, then checkpoints them (unless
// the application crashed), closes them and the consumer. A copy that fails is closed and opened
// again later; nothing here stops the application.
func (s *standbys) run(ctx context.Context) {
	lastCommit := time.Now()
	for ctx.Err() == nil {
		cl, open, pending := s.reconcile(ctx)
		if open == 0 {
			var retry <-chan time.Time
			if pending {
				retry = time.After(standbyPoll)
			}
			select {
			case <-ctx.Done():
			case <-s.wake:
			case <-retry:
			}
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, standbyPoll)
		fs := cl.PollFetches(pctx)
		cancel()
		if fs.IsClientClosed() || ctx.Err() != nil {
			break
		}
		s.apply(fs)
		if time.Since(lastCommit) >= s.a.cfg.commitInterval {
			s.commit(ctx)
			lastCommit = time.Now()
		}
	}
	s.stop()
}

// reconcile opens the wanted copies that are not open (and are not waiting to retry). It returns
// the consumer, the number of open copies, and whether some wanted copy is still not open.
func (s *standbys) reconcile(ctx context.Context) (cl *kgo.Client, open int, pending bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []TaskID
	for id := range s.wantedLocked() {
		ids = append(ids, id)
	}
	sortTasks(ids)
	opened := false
	for _, id := range ids {
		if _, ok := s.mu.tasks[id]; ok {
			continue
		}
		if at, ok := s.mu.retry[id]; ok && time.Now().Before(at) {
			pending = true
			continue
		}
		if ctx.Err() != nil {
			break
		}
		if err := s.openLocked(ctx, id); err != nil {
			pending = true
			if errors.Is(err, state.ErrTaskOpen) {
				// The task is still open here, as an active task a thread is closing.
				s.logger.Debug("runtime: standby task waits for its task to close", "task", id.String())
				continue
			}
			s.logger.Warn("runtime: open standby task; retrying", "task", id.String(), "err", err, "retry_in", standbyRetry)
			s.mu.retry[id] = time.Now().Add(standbyRetry)
			continue
		}
		delete(s.mu.retry, id)
		opened = true
	}
	if opened {
		s.publishLocked()
	}
	return s.mu.cl, len(s.mu.tasks), pending
}

// openLocked opens the copy of task id and starts reading its changelog partitions from its
// stores' positions.
//
// REQUIRES: s.mu is held.
func (s *standbys) openLocked(ctx context.Context, id TaskID) error {
	sub := s.a.plan.subs[id.Subtopology]
	if len(sub.stores) == 0 {
		return fmt.Errorf("runtime: task %s has no state stores to keep a copy of", id)
	}
	if s.mu.cl == nil {
		cl, err := kgo.NewClient(append([]kgo.Opt{
			kgo.SeedBrokers(s.a.cfg.bootstrap...),
			kgo.ClientID(fmt.Sprintf("%s-%s-StandbyUpdater", s.a.cfg.appID, s.a.processID)),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()),
			kgo.KeepControlRecords(),
			kgo.FetchMaxWait(500 * time.Millisecond),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
			kgo.WithLogger(kgoLogger{s.logger}),
		}, s.a.cfg.clientOpts...)...)
		if err != nil {
			return fmt.Errorf("runtime: standby consumer: %w", err)
		}
		s.mu.cl = cl
	}
	db, err := s.a.stateDB()
	if err != nil {
		return err
	}
	st, err := db.OpenTask(s.a.cfg.appID, id.String(), id.Partition,
		state.WithChangelog(state.NewKafkaChangelog(s.mu.cl, state.RestoreClientOpts(s.a.cfg.clientOpts...))),
		state.ChangelogPartitions(s.a.subTasks(id.Subtopology)),
		state.Standby())
	if err != nil {
		return err
	}
	for _, sd := range sub.stores {
		if _, err := sd.builder.Open(ctx, st); err != nil {
			st.Close()
			return fmt.Errorf("runtime: standby task %s: open state store %s: %w", id, sd.builder.Name(), err)
		}
	}
	t := &standbyTask{id: id, st: st}
	t.mu.stores = map[string]*standbyStore{}
	assign := map[string]map[int32]kgo.Offset{}
	for _, p := range st.StandbyPositions() {
		t.mu.stores[p.Topic] = &standbyStore{name: p.Store, next: p.Next, end: p.End}
		s.mu.byTP[TopicPartition{Topic: p.Topic, Partition: p.Partition}] = t
		assign[p.Topic] = map[int32]kgo.Offset{p.Partition: kgo.NewOffset().At(p.Next)}
	}
	s.mu.cl.AddConsumePartitions(assign)
	s.mu.tasks[id] = t
	s.a.metrics.standbyTasks.Inc()
	s.logger.Info("runtime: standby task opened", "task", id.String(), "positions", st.StandbyPositions())
	return nil
}

// apply hands the fetched changelog records to the copies they belong to. A copy whose records do
// not apply is closed without a checkpoint and opened again later, from its last checkpoint.
func (s *standbys) apply(fs kgo.Fetches) {
	fs.EachError(func(topic string, p int32, err error) {
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
			s.logger.Warn("runtime: standby fetch error", "topic", topic, "partition", p, "err", err)
		}
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	var failed []*standbyTask
	var batch []state.ChangelogRecord
	fs.EachPartition(func(p kgo.FetchTopicPartition) {
		t := s.mu.byTP[TopicPartition{Topic: p.Topic, Partition: p.Partition}]
		if t == nil || len(p.Records) == 0 {
			return // a copy closed since the fetch
		}
		t.mu.Lock()
		defer t.mu.Unlock()
		ss := t.mu.stores[p.Topic]
		batch = batch[:0]
		next := ss.next
		for _, r := range p.Records {
			if r.Offset < next {
				continue
			}
			next = r.Offset + 1
			if r.Attrs.IsControl() {
				continue
			}
			batch = append(batch, state.ChangelogRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
				Key: r.Key, Value: r.Value, Timestamp: r.Timestamp.UnixMilli()})
		}
		if err := t.st.ApplyChangelog(ss.name, batch, next); err != nil {
			s.logger.Error("runtime: standby task failed to apply its changelog; reopening it later", "task", t.id.String(), "err", err)
			failed = append(failed, t)
			return
		}
		ss.next = next
		end := p.LastStableOffset
		if end < 0 {
			end = p.HighWatermark
		}
		ss.end = max(ss.end, end, next)
		s.a.metrics.standbyRecords.Add(float64(len(batch)))
	})
	for _, t := range failed {
		s.closeLocked(t, false)
		s.mu.retry[t.id] = time.Now().Add(standbyRetry)
	}
	if len(failed) > 0 {
		s.publishLocked()
	}
}

// commit checkpoints every copy.
func (s *standbys) commit(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.mu.tasks {
		t.mu.Lock()
		err := t.st.Commit(ctx)
		t.mu.Unlock()
		if err != nil {
			s.logger.Warn("runtime: checkpoint standby task", "task", t.id.String(), "err", err)
		}
	}
}

// closeLocked stops reading the copy's changelogs, checkpoints it if commit is set, and closes it;
// its readers report ErrStoreMigrated from then on.
//
// REQUIRES: s.mu is held.
func (s *standbys) closeLocked(t *standbyTask, commit bool) {
	remove := map[string][]int32{}
	for tp, owner := range s.mu.byTP {
		if owner == t {
			remove[tp.Topic] = append(remove[tp.Topic], tp.Partition)
			delete(s.mu.byTP, tp)
		}
	}
	if s.mu.cl != nil {
		s.mu.cl.RemoveConsumePartitions(remove)
	}
	t.mu.Lock()
	if commit {
		if err := t.st.Commit(context.Background()); err != nil {
			s.logger.Warn("runtime: checkpoint standby task", "task", t.id.String(), "err", err)
		}
	}
	if err := t.st.Close(); err != nil {
		s.logger.Warn("runtime: close standby task", "task", t.id.String(), "err", err)
	}
	t.mu.closed = true
	t.mu.Unlock()
	delete(s.mu.tasks, t.id)
	s.a.metrics.standbyTasks.Dec()
	s.logger.Info("runtime: standby task closed", "task", t.id.String(), "checkpointed", commit)
}

// stop checkpoints (unless the application crashed) and closes every copy, then the consumer.
// assign does nothing afterwards.
func (s *standbys) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mu.stopped = true
	for _, t := range s.mu.tasks {
		s.closeLocked(t, !s.a.crashed.Load())
	}
	s.publishLocked()
	if s.mu.cl != nil {
		s.mu.cl.Close()
		s.mu.cl = nil
	}
}

// publishLocked makes the open copies visible to interactive queries.
//
// REQUIRES: s.mu is held.
func (s *standbys) publishLocked() {
	ts := make([]*standbyTask, 0, len(s.mu.tasks))
	for _, t := range s.mu.tasks {
		ts = append(ts, t)
	}
	s.queryable.Store(&ts)
}

// ids returns the open copies, sorted.
func (s *standbys) ids() []TaskID {
	var out []TaskID
	for _, t := range *s.queryable.Load() {
		out = append(out, t.id)
	}
	sortTasks(out)
	return out
}
