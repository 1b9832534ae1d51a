package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/seichedb/seiche/state"
)

// thread is a stream thread: one group member with its own franz-go client, running its tasks.
//
// Ownership: the thread's goroutine drives the tasks (poll, process, punctuate, commit). franz-go
// calls the rebalance callbacks on its group goroutine; with BlockRebalanceOnPoll they never run
// while the thread holds polled records, and mu makes the two take turns: a task is only ever
// touched with mu held, by one goroutine at a time.
//
// cl, sess and col are set with mu held (connectLocked), by the thread's goroutine: franz-go
// starts joining the group inside kgo.NewClient, and the callbacks wait for mu until they are set.
type thread struct {
	app    *App
	idx    int
	logger *slog.Logger
	cl     *kgo.Client
	// sess is the transactional session over cl under exactly-once (eos.go), nil otherwise.
	sess *kgo.GroupTransactSession
	col  *kafkaCollector

	// active holds the tasks the thread runs, for App.Tasks; written with mu held, read anywhere.
	active atomic.Pointer[[]TaskID]
	// queryable holds the same tasks, for App.LocalStores: a task is readable by interactive
	// queries while it is in the latest list. Written with mu held, read anywhere.
	queryable atomic.Pointer[[]*task]
	crashed   atomic.Bool
	// given and standby are the active and standby tasks of the thread's latest assignment, set
	// when franz-go parses it (before onAssigned), and what the thread tells the leader it had
	// (JoinGroupMetadata), so that it keeps them. Not active: with the eager protocol, the revoke
	// before the rejoin has suspended every task, and active is empty when the member joins.
	given   atomic.Pointer[[]TaskID]
	standby atomic.Pointer[[]TaskID]

	mu struct {
		sync.Mutex
		tasks      map[TaskID]*task
		suspended  map[TaskID]*task
		byTP       map[TopicPartition]*task
		nextCommit time.Time
		// purge holds the committed offsets of the thread's repartition partitions not yet purged
		// below (purge.go); nextPurge is when they may be next.
		purge     map[TopicPartition]int64
		nextPurge time.Time
		err       error // a failure found in a callback, returned by the loop
		// abortPending is set under exactly-once when the group revoked or took the thread's
		// partitions while a transaction was open: the revoke closed the tasks without
		// committing, and the transaction must abort before the thread processes anything else.
		abortPending bool
	}
}

func newThread(a *App, idx int) (*thread, error) {
	th := &thread{app: a, idx: idx}
	th.logger = a.cfg.logger.With("application", a.cfg.appID, "thread", idx)
	th.mu.tasks = map[TaskID]*task{}
	th.mu.suspended = map[TaskID]*task{}
	th.mu.byTP = map[TopicPartition]*task{}
	th.mu.purge = map[TopicPartition]int64{}
	th.active.Store(&[]TaskID{})
	th.given.Store(&[]TaskID{})
	th.standby.Store(&[]TaskID{})
	th.mu.Lock()
	defer th.mu.Unlock()
	if err := th.connectLocked(); err != nil {
		return nil, err
	}
	return th, nil
}

// connectLocked creates the thread's client, a group member, and under exactly-once its
// transactional session.
//
// REQUIRES: th.mu is held.
func (th *thread) connectLocked() error {
	a := th.app
	idx := th.idx
	bal := &balancer{
		plan:        a.plan,
		process:     a.processID,
		host:        a.cfg.appServer,
		prev:        &th.given,
		prevStandby: &th.standby,
		onAssign: func(info assignmentInfo) {
			a.setAssignmentInfo(info)
			th.given.Store(parseTaskIDs(info.Tasks))
			th.standby.Store(parseTaskIDs(info.Standby))
		},
		copartErr: a.plan.checkCopartition,
		replicas:  a.cfg.standbyReplicas,
		logger:    th.logger,
	}
	cfg := a.cfg
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.bootstrap...),
		kgo.ClientID(fmt.Sprintf("%s-%s-StreamThread-%d", cfg.appID, a.processID, idx+1)),
		kgo.ConsumerGroup(cfg.appID),
		kgo.Balancers(bal),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(th.onAssigned),
		kgo.OnPartitionsRevoked(th.onRevoked),
		kgo.OnPartitionsLost(th.onLost),
		kgo.SessionTimeout(cfg.sessionTimeout),
		kgo.HeartbeatInterval(cfg.heartbeat),
		kgo.RebalanceTimeout(cfg.rebalanceTimeout),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.RecordPartitioner(partitioner{}),
		// Kafka Streams' producer does not compress (the producer's compression.type is none);
		// franz-go's would use snappy. ClientOpts can choose a codec.
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.WithLogger(kgoLogger{th.logger}),
	}
	if a.plan.usesPatterns() {
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(a.plan.regexes()...))
	} else {
		opts = append(opts, kgo.ConsumeTopics(a.plan.allTopics()...))
	}
	if cfg.instanceID != "" {
		opts = append(opts, kgo.InstanceID(fmt.Sprintf("%s-%d", cfg.instanceID, idx)))
	}
	if cfg.guarantee == ExactlyOnceV2 {
		opts = append(opts, th.eosClientOpts()...)
	}
	opts = append(opts, cfg.clientOpts...)
	th.sess = nil
	var err error
	if cfg.guarantee == ExactlyOnceV2 {
		th.sess, err = kgo.NewGroupTransactSession(opts...)
		if err == nil {
			th.cl = th.sess.Client()
		}
	} else {
		th.cl, err = kgo.NewClient(opts...)
	}
	if err != nil {
		return fmt.Errorf("runtime: thread %d: %w", idx, err)
	}
	th.col = newKafkaCollector(th.cl, th.logger)
	return nil
}

// run polls and processes until ctx is done or a task fails. It always closes the client. Under
// exactly-once, a fenced producer makes the thread close its tasks and client and join again.
func (th *thread) run(ctx context.Context) error {
	for {
		err := th.loop(ctx)
		if rejoin(err) && ctx.Err() == nil && !th.crashed.Load() {
			th.logger.Warn("runtime: transactional producer fenced or failed; closing the tasks without committing and rejoining with a new producer", "err", err)
			if err = th.reconnect(); err == nil {
				continue
			}
		}
		th.shutdown(err != nil)
		return err
	}
}

// reconnect replaces the thread's client after its transactional producer failed: the tasks
// close without committing (the transaction is aborted by the new producer's InitProducerId, or
// by the transaction timeout), the old client leaves the group, and a new one joins.
func (th *thread) reconnect() error {
	th.mu.Lock()
	th.closeAllLocked()
	old := th.cl
	th.mu.Unlock()
	old.Close() // its revoke callback runs, with nothing left to close
	th.mu.Lock()
	defer th.mu.Unlock()
	th.mu.err, th.mu.abortPending = nil, false
	return th.connectLocked()
}

func (th *thread) loop(ctx context.Context) error {
	th.mu.Lock()
	th.mu.nextCommit = time.Now().Add(th.app.cfg.commitInterval)
	if th.sess != nil {
		if err := th.beginLocked(); err != nil {
			th.mu.Unlock()
			return err
		}
	}
	th.mu.Unlock()
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, th.pollWait())
		fetches := th.cl.PollRecords(pctx, th.app.cfg.maxPollRecords)
		cancel()
		if fetches.IsClientClosed() {
			return nil
		}
		err := th.handle(ctx, fetches)
		th.cl.AllowRebalance()
		if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			// A commit cut short by the end of Run is no task failure: shutdown commits again
			// with a context of its own.
			return nil
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pollWait bounds a poll so that commits and wall-clock punctuations happen without input.
func (th *thread) pollWait() time.Duration {
	th.mu.Lock()
	defer th.mu.Unlock()
	now := time.Now()
	wait := min(th.mu.nextCommit.Sub(now), 500*time.Millisecond)
	for _, t := range th.mu.tasks {
		if next, ok := t.nextWallClock(); ok {
			wait = min(wait, time.UnixMilli(next).Sub(th.app.sh.now()))
		}
	}
	return max(wait, time.Millisecond)
}

func (th *thread) handle(ctx context.Context, fetches kgo.Fetches) error {
	th.mu.Lock()
	defer th.mu.Unlock()
	if th.mu.err != nil {
		return th.mu.err
	}
	if th.mu.abortPending {
		// The group revoked partitions since the transaction began; the records in hand may
		// come after offsets the abort rewinds to, so they are dropped and fetched again.
		return th.abortTxnLocked(ctx)
	}
	fetches.EachError(func(topic string, p int32, err error) {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return
		}
		th.logger.Warn("runtime: fetch error", "topic", topic, "partition", p, "err", err)
	})
	var fatal error
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if fatal != nil || len(p.Records) == 0 {
			return
		}
		tp := TopicPartition{Topic: p.Topic, Partition: p.Partition}
		t := th.mu.byTP[tp]
		if t == nil {
			th.logger.Warn("runtime: records for a partition the thread does not own", "partition", tp.String())
			return
		}
		start := time.Now()
		if err := t.processBatch(p.Topic, p.Records); err != nil {
			fatal = err
			return
		}
		last := p.Records[len(p.Records)-1]
		t.consumed(tp, kgo.EpochOffset{Epoch: last.LeaderEpoch, Offset: last.Offset + 1})
		if t.tm != nil {
			n := len(p.Records)
			t.tm.processed.Add(float64(n))
			t.tm.processLat.Observe(time.Since(start).Seconds() / float64(n))
			if p.HighWatermark >= 0 {
				t.tm.setLag(tp, max(p.HighWatermark-(last.Offset+1), 0))
			}
		}
	})
	if fatal != nil {
		return fatal
	}
	if err := th.col.err(); err != nil {
		return th.outputLost(err)
	}
	requested := false
	for _, t := range th.mu.tasks {
		if err := t.punctuateWallClock(); err != nil {
			return err
		}
		requested = requested || t.commitRequested
	}
	if requested || !time.Now().Before(th.mu.nextCommit) {
		if err := th.commitLocked(ctx); err != nil {
			return err
		}
		th.maybePurgeLocked(ctx)
	}
	return nil
}

// commitLocked commits every task: flush state (changelogs), wait for every produced record, commit
// the offsets, make the state durable. A failed offset commit is logged and retried at the next
// commit (a rebalance under way makes it fail; the revoke commits again); a lost output record is
// fatal.
//
// REQUIRES: th.mu is held.
func (th *thread) commitLocked(ctx context.Context) error {
	if th.sess != nil {
		return th.commitTxnLocked(ctx)
	}
	th.mu.nextCommit = time.Now().Add(th.app.cfg.commitInterval)
	if len(th.mu.tasks) == 0 {
		return nil
	}
	start := time.Now()
	for _, t := range th.mu.tasks {
		if err := t.flushState(ctx); err != nil {
			return err
		}
	}
	if err := th.cl.Flush(ctx); err != nil {
		return fmt.Errorf("runtime: thread %d: flush output: %w", th.idx, err)
	}
	if err := th.col.err(); err != nil {
		return fmt.Errorf("runtime: thread %d: output lost: %w", th.idx, err)
	}
	offsets := map[string]map[int32]kgo.EpochOffset{}
	for _, t := range th.mu.tasks {
		for tp, off := range t.offsets {
			if offsets[tp.Topic] == nil {
				offsets[tp.Topic] = map[int32]kgo.EpochOffset{}
			}
			offsets[tp.Topic][tp.Partition] = off
		}
	}
	if len(offsets) > 0 {
		var cerr error
		th.cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if err != nil {
				cerr = err
				return
			}
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if err := kerr.ErrorForCode(p.ErrorCode); err != nil && cerr == nil {
						cerr = fmt.Errorf("%s-%d: %w", t.Topic, p.Partition, err)
					}
				}
			}
		})
		if cerr != nil {
			th.logger.Warn("runtime: commit offsets failed; retrying at the next commit", "err", cerr)
			return nil
		}
	}
	return th.commitStatesLocked(ctx, start)
}

// commitStatesLocked makes the tasks' state durable once their output and offsets are committed,
// and records the commit's latency from start.
//
// REQUIRES: th.mu is held.
func (th *thread) commitStatesLocked(ctx context.Context, start time.Time) error {
	elapsed := time.Since(start).Seconds()
	for _, t := range th.mu.tasks {
		if err := t.commitState(ctx); err != nil {
			return err
		}
		th.notePurgeLocked(t)
		clear(t.offsets)
		t.commitRequested = false
		if t.tm != nil {
			t.tm.commitLat.Observe(elapsed)
		}
	}
	return nil
}

// onRevoked commits and suspends the tasks of the revoked partitions (with the eager protocol: all
// of them). A suspended task keeps its processors and stores, so getting it back costs nothing.
// Under exactly-once the transaction cannot commit from here (GroupTransactSession aborts it): the
// tasks close without committing, and the thread aborts before processing again.
func (th *thread) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	th.mu.Lock()
	defer th.mu.Unlock()
	if th.crashed.Load() {
		return
	}
	if th.sess != nil {
		th.mu.abortPending = true
		th.closeAllLocked()
		return
	}
	if err := th.commitLocked(ctx); err != nil {
		th.logger.Error("runtime: commit before revoke failed", "err", err)
		if th.mu.err == nil {
			th.mu.err = err
		}
	}
	for topic, parts := range revoked {
		for _, p := range parts {
			tp := TopicPartition{Topic: topic, Partition: p}
			if t, ok := th.mu.byTP[tp]; ok {
				delete(th.mu.byTP, tp)
				delete(th.mu.tasks, t.id)
				th.mu.suspended[t.id] = t
			}
		}
	}
	th.publishLocked()
}

// onAssigned creates (or resumes) the tasks of the assigned partitions and closes the suspended
// tasks that went elsewhere.
func (th *thread) onAssigned(ctx context.Context, _ *kgo.Client, assigned map[string][]int32) {
	th.mu.Lock()
	defer th.mu.Unlock()
	th.app.metrics.rebalances.Inc()
	// Copies of tasks given to this thread close before the tasks open here: the restore starts
	// from their checkpoints.
	th.app.standbys.assign(th.idx, *th.given.Load(), *th.standby.Load())
	byTask := map[TaskID][]TopicPartition{}
	for topic, parts := range assigned {
		for _, p := range parts {
			tp := TopicPartition{Topic: topic, Partition: p}
			id, ok := th.app.plan.taskFor(tp)
			if !ok {
				th.logger.Error("runtime: assigned a partition no source reads", "partition", tp.String())
				continue
			}
			byTask[id] = append(byTask[id], tp)
		}
	}
	// The suspended tasks that went elsewhere close first: another thread of this instance may be
	// waiting to open one (createTask), as this one may be waiting for that thread's.
	for id, t := range th.mu.suspended {
		if _, ok := byTask[id]; ok {
			continue
		}
		if err := t.close(); err != nil {
			th.logger.Warn("runtime: close task", "task", id.String(), "err", err)
		}
		delete(th.mu.suspended, id)
	}
	for id, tps := range byTask {
		t, ok := th.mu.tasks[id]
		if !ok {
			if t, ok = th.mu.suspended[id]; ok {
				delete(th.mu.suspended, id)
			} else {
				var err error
				t, err = th.createTask(ctx, id)
				if err != nil {
					th.logger.Error("runtime: create task", "task", id.String(), "err", err)
					if th.mu.err == nil {
						th.mu.err = err
					}
					continue
				}
			}
			th.mu.tasks[id] = t
		}
		for _, tp := range tps {
			th.mu.byTP[tp] = t
		}
	}
	th.publishLocked()
	th.logger.Info("runtime: tasks assigned", "tasks", taskStrings(*th.active.Load()), "standby", taskStrings(*th.standby.Load()))
}

// taskOpenWait bounds how long a thread waits for another thread of this instance to close a task
// the group moved from it to this one.
const taskOpenWait = 30 * time.Second

// createTask creates task id. A stateful task that moved here from another thread of this instance
// can still be open there: each thread is a group member of its own and runs its rebalance callback
// on its own, so this one may come first, before the other closes what it no longer has. The other
// closes it in its own callback for the same assignment, so this waits for that (as Kafka Streams
// retries a task whose state directory lock is still held), up to taskOpenWait.
func (th *thread) createTask(ctx context.Context, id TaskID) (*task, error) {
	deadline := time.Now().Add(taskOpenWait)
	for {
		t, err := newTask(ctx, id, th.app.plan.subs[id.Subtopology], th.app.sh, th.col, th.openState)
		if err == nil || !errors.Is(err, state.ErrTaskOpen) || time.Now().After(deadline) {
			return t, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// onLost closes every task without committing: the group moved on without this member.
func (th *thread) onLost(_ context.Context, _ *kgo.Client, _ map[string][]int32) {
	th.mu.Lock()
	defer th.mu.Unlock()
	th.logger.Warn("runtime: partitions lost; closing tasks without commit")
	th.closeAllLocked()
	th.mu.abortPending = th.sess != nil
	// The group gave this member's standby tasks to others too.
	th.given.Store(&[]TaskID{})
	th.standby.Store(&[]TaskID{})
	th.app.standbys.assign(th.idx, nil, nil)
}

// closeAllLocked closes every task, uncommitted work discarded.
//
// REQUIRES: th.mu is held.
func (th *thread) closeAllLocked() {
	for _, m := range []map[TaskID]*task{th.mu.tasks, th.mu.suspended} {
		for id, t := range m {
			if err := t.close(); err != nil {
				th.logger.Warn("runtime: close task", "task", id.String(), "err", err)
			}
			delete(m, id)
		}
	}
	clear(th.mu.byTP)
	th.publishLocked()
}

// publishLocked makes the active task list visible outside mu.
//
// REQUIRES: th.mu is held.
func (th *thread) publishLocked() {
	ids := make([]TaskID, 0, len(th.mu.tasks))
	tasks := make([]*task, 0, len(th.mu.tasks))
	for id, t := range th.mu.tasks {
		ids = append(ids, id)
		tasks = append(tasks, t)
	}
	sortTasks(ids)
	th.queryable.Store(&tasks)
	old := th.active.Swap(&ids)
	th.app.metrics.assignedTasks.Add(float64(len(ids) - len(*old)))
}

func (th *thread) openState(id TaskID) (*state.Task, error) {
	db, err := th.app.stateDB()
	if err != nil {
		return nil, err
	}
	return db.OpenTask(th.app.cfg.appID, id.String(), id.Partition, append(th.app.cfg.taskStateOpts(),
		state.WithChangelog(state.NewKafkaChangelog(th.cl, state.RestoreClientOpts(th.app.cfg.clientOpts...))),
		state.ChangelogPartitions(th.app.subTasks(id.Subtopology)),
		state.OnRestore(th.restoreReporter(id)))...)
}

// restoreLogEvery is how often a long restore logs its progress.
const restoreLogEvery = 10 * time.Second

// restoreReporter returns the restore listener of task id's stores: it counts the records
// restored (seiche_stream_restore_records_total) and logs at info how far a restore got (records
// restored of the offsets to read, and the rate) every restoreLogEvery while it runs, and when it
// is done.
func (th *thread) restoreReporter(id TaskID) func(state.RestoreProgress) {
	counted := map[string]int64{} // by store
	logged := time.Now()
	return func(p state.RestoreProgress) {
		th.app.metrics.restored.Add(float64(p.Records - counted[p.Store]))
		counted[p.Store] = p.Records
		attrs := []any{"task", id.String(), "store", p.Store, "changelog", p.Topic, "partition", p.Partition,
			"records", p.Records, "offsets", p.End - p.From, "from", p.From, "end", p.End,
			"elapsed", p.Elapsed.Round(time.Millisecond), "records_per_sec", int64(p.RecordsPerSecond())}
		switch {
		case p.Done && p.End > p.From:
			th.logger.Info("runtime: store restored", attrs...)
			logged = time.Now()
		case p.Done:
			th.logger.Debug("runtime: store up to date; nothing to restore", attrs...)
			logged = time.Now()
		case time.Since(logged) >= restoreLogEvery:
			th.logger.Info("runtime: restoring store", attrs...)
			logged = time.Now()
		}
	}
}

// shutdown commits and closes every task, then the client. Under exactly-once a thread that failed
// aborts its transaction instead. After a crash (tests), nothing is committed or aborted and the
// client closes without leaving the group when it is a static member.
func (th *thread) shutdown(failed bool) {
	th.mu.Lock()
	if !th.crashed.Load() {
		ctx, cancel := context.WithTimeout(context.Background(), th.app.cfg.sessionTimeout)
		if th.sess != nil && failed {
			if err := th.abortTxnLocked(ctx); err != nil {
				th.logger.Error("runtime: abort after failure failed", "err", err)
			}
		} else if err := th.commitLocked(ctx); err != nil {
			th.logger.Error("runtime: final commit failed", "err", err)
		}
		cancel()
	}
	th.closeAllLocked()
	th.mu.Unlock()
	th.cl.Close()
}

// regexes returns the subscription of a topology with pattern sources: its explicit topics quoted,
// and its patterns.
func (p *plan) regexes() []string {
	var out []string
	for _, t := range p.allTopics() {
		out = append(out, "^"+regexpQuote(t)+"$")
	}
	for _, ps := range p.subPatterns {
		for _, re := range ps {
			out = append(out, re.String())
		}
	}
	sort.Strings(out)
	return out
}
