package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/state"
)

// App is one instance of a streams application: Kafka Streams' KafkaStreams. Several instances with
// the same application id (in one process or many) share the work: the consumer group spreads the
// tasks over their stream threads and moves them when an instance joins, leaves or dies.
type App struct {
	cfg       config
	plan      *plan
	sh        *shared
	metrics   *metrics
	processID string

	hosts     atomic.Pointer[map[string][]TopicPartition]
	crashed   atomic.Bool             // set by crash: stopping writes no global store checkpoint
	taskCount atomic.Pointer[[]int32] // tasks per sub-topology, known once Run prepared the topics

	// standbyHosts holds, from the latest assignment, the partitions of the tasks each host keeps
	// a standby copy of; standbys runs this instance's copies.
	standbyHosts atomic.Pointer[map[string][]TopicPartition]
	standbys     *standbys

	mu struct {
		sync.Mutex
		running bool
		closed  bool
		cancel  context.CancelFunc
		done    chan struct{}
		threads []*thread
		db      *state.DB
	}
}

// New validates the options and the topology and returns an application that Run starts. It does
// not connect to anything.
func New(t *Topology, opts ...Opt) (*App, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(true); err != nil {
		return nil, err
	}
	p, err := newPlan(cfg.appID, t)
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.registry, cfg.appID)
	if err != nil {
		return nil, fmt.Errorf("runtime: register metrics: %w", err)
	}
	var id [8]byte
	rand.Read(id[:])
	a := &App{cfg: cfg, plan: p, metrics: m, processID: hex.EncodeToString(id[:])}
	a.sh = &shared{
		appID:    cfg.appID,
		logger:   cfg.logger.With("application", cfg.appID),
		onDeser:  cfg.onDeser,
		onProc:   cfg.onProc,
		plog:     processingLog{topic: cfg.plogTopic},
		now:      cfg.now,
		internal: p.internal,
		metrics:  m,
	}
	a.standbys = newStandbys(a)
	return a, nil
}

// Registry returns the Prometheus registry holding the application's metrics.
func (a *App) Registry() *prometheus.Registry { return a.cfg.registry }

// Describe returns the structure of the application's topology.
func (a *App) Describe() TopologyDescription { return a.plan.topo.Describe() }

// Run prepares the topics (source topics must exist and co-partitioned ones agree; repartition
// topics are created), starts the stream threads and blocks until ctx is done, Close is called, or
// a task fails. On the way out every thread commits what it processed and leaves the group. It
// returns nil after ctx or Close, the failure otherwise (a *TaskError for a task). Run may be
// called once.
func (a *App) Run(ctx context.Context) error {
	a.mu.Lock()
	if a.mu.closed {
		a.mu.Unlock()
		return ErrClosed
	}
	if a.mu.running {
		a.mu.Unlock()
		return errors.New("runtime: Run called twice")
	}
	a.mu.running = true
	ctx, cancel := context.WithCancel(ctx)
	a.mu.cancel = cancel
	a.mu.done = make(chan struct{})
	a.mu.Unlock()
	defer close(a.mu.done)
	defer cancel()

	if err := a.prepare(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if a.cfg.guarantee == ExactlyOnceV2 && a.plan.stateful() {
		if err := a.loadProcessID(); err != nil {
			a.closeState()
			return err
		}
	}
	stopGlobals, err := a.startGlobals(ctx, cancel)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	// The standby goroutine runs whether or not this instance asks for replicas: the leader's
	// setting decides, and it idles without copies. It stops with ctx, before the state
	// directory closes.
	standbysDone := make(chan struct{})
	go func() {
		defer close(standbysDone)
		a.standbys.run(ctx)
	}()
	threads := make([]*thread, a.cfg.threads)
	for i := range threads {
		th, err := newThread(a, i)
		if err != nil {
			for _, t := range threads[:i] {
				t.cl.Close()
			}
			cancel()
			stopGlobals()
			<-standbysDone
			a.closeState()
			return err
		}
		threads[i] = th
	}
	a.mu.Lock()
	a.mu.threads = threads
	a.mu.Unlock()

	errs := make(chan error, len(threads))
	var wg sync.WaitGroup
	for _, th := range threads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := th.run(ctx)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	var first error
	for err := range errs {
		if err != nil && first == nil {
			first = err
		}
	}
	cancel()
	if err := stopGlobals(); err != nil && first == nil {
		first = err
	}
	<-standbysDone
	a.closeState()
	return first
}

// prepare checks and creates topics with an admin client that lives only for the call.
func (a *App) prepare(ctx context.Context) error {
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(a.cfg.bootstrap...)}, a.cfg.clientOpts...)...)
	if err != nil {
		return fmt.Errorf("runtime: admin client: %w", err)
	}
	defer cl.Close()
	counts, err := a.prepareTopics(ctx, kadm.NewClient(cl))
	if err != nil {
		return err
	}
	n := make([]int32, len(a.plan.subs))
	for topic, c := range counts {
		if id, ok := a.plan.subFor(topic); ok {
			n[id] = max(n[id], c)
		}
	}
	a.taskCount.Store(&n)
	return nil
}

// subTasks returns the number of tasks of a sub-topology (its changelogs' partition count), 0 if
// unknown (pattern sources).
func (a *App) subTasks(sub int) int32 {
	if n := a.taskCount.Load(); n != nil && sub < len(*n) {
		return (*n)[sub]
	}
	return 0
}

// Close stops Run if it is running and waits for it to return: every thread commits, closes its
// tasks and leaves the group. It is idempotent.
func (a *App) Close() error {
	a.mu.Lock()
	a.mu.closed = true
	cancel, done := a.mu.cancel, a.mu.done
	a.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	a.closeState()
	return nil
}

// crash stops every thread the way a dying process would: nothing is committed, and static members
// close without leaving the group, so the group finds out only at the session timeout. For tests.
func (a *App) crash() {
	a.crashed.Store(true)
	a.mu.Lock()
	for _, th := range a.mu.threads {
		th.crashed.Store(true)
	}
	cancel, done := a.mu.cancel, a.mu.done
	a.mu.closed = true
	a.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// Tasks returns the tasks running on this instance, sorted.
func (a *App) Tasks() []TaskID {
	a.mu.Lock()
	threads := a.mu.threads
	a.mu.Unlock()
	var out []TaskID
	for _, th := range threads {
		out = append(out, *th.active.Load()...)
	}
	sortTasks(out)
	return out
}

// StandbyTasks returns the tasks this instance keeps a standby copy of (see StandbyReplicas),
// sorted: the copies open now, which lag the tasks' changelogs by what they have not read yet.
func (a *App) StandbyTasks() []TaskID { return a.standbys.ids() }

// HostPartitions returns, from the latest assignment, the input partitions held by each instance
// that set ApplicationServer, by its host:port: where to send a lookup of a key.
func (a *App) HostPartitions() map[string][]TopicPartition {
	if h := a.hosts.Load(); h != nil {
		return *h
	}
	return nil
}

// StandbyHostPartitions is HostPartitions for standby copies: the input partitions of the tasks each
// host keeps a standby copy of.
func (a *App) StandbyHostPartitions() map[string][]TopicPartition {
	if h := a.standbyHosts.Load(); h != nil {
		return *h
	}
	return nil
}

func (a *App) setAssignmentInfo(info assignmentInfo) {
	a.hosts.Store(byHost(info.Hosts))
	a.standbyHosts.Store(byHost(info.StandbyHosts))
}

func byHost(in map[string][]hostTopicPar) *map[string][]TopicPartition {
	hosts := make(map[string][]TopicPartition, len(in))
	for host, list := range in {
		var tps []TopicPartition
		for _, tp := range list {
			for _, p := range tp.Partitions {
				tps = append(tps, TopicPartition{Topic: tp.Topic, Partition: p})
			}
		}
		sort.Slice(tps, func(i, j int) bool {
			if tps[i].Topic != tps[j].Topic {
				return tps[i].Topic < tps[j].Topic
			}
			return tps[i].Partition < tps[j].Partition
		})
		hosts[host] = tps
	}
	return &hosts
}

// stateDB opens the state directory on first use: stateless applications never touch the disk.
func (a *App) stateDB() (*state.DB, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.mu.db != nil {
		return a.mu.db, nil
	}
	db, err := state.Open(filepath.Join(a.cfg.stateDir, a.cfg.appID), state.Logger(a.cfg.logger))
	if err != nil {
		return nil, err
	}
	a.mu.db = db
	return db, nil
}

func (a *App) closeState() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.mu.db != nil {
		if err := a.mu.db.Close(); err != nil {
			a.cfg.logger.Warn("runtime: close state directory", "err", err)
		}
		a.mu.db = nil
	}
}

func regexpQuote(s string) string { return regexp.QuoteMeta(s) }
