package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seichedb/seiche/sql/analyzer"
)

// ErrClosed is returned by requests made after Close.
var ErrClosed = errors.New("engine: closed")

// Opt configures an Engine.
type Opt interface{ apply(*config) }

type opt func(*config)

func (o opt) apply(c *config) { o(c) }

type config struct {
	bootstrap      []string
	serviceID      string
	dataDir        string
	logger         *slog.Logger
	commitInterval time.Duration
	props          map[string]string
	registry       *prometheus.Registry
	replication    int16
	sessionTimeout time.Duration
	advertised     string
}

// Bootstrap sets the Kafka brokers the engine uses (required).
func Bootstrap(addrs ...string) Opt { return opt(func(c *config) { c.bootstrap = addrs }) }

// ServiceID sets the service id (ksql.service.id, default "seiche"): the servers sharing one form one
// cluster, with one command topic.
func ServiceID(id string) Opt { return opt(func(c *config) { c.serviceID = id }) }

// DataDir sets the directory of the queries' local state (default "seiche-data"); the engine uses
// its "queries" subdirectory.
func DataDir(dir string) Opt { return opt(func(c *config) { c.dataDir = dir }) }

// Logger sets the logger (default slog.Default()).
func Logger(l *slog.Logger) Opt { return opt(func(c *config) { c.logger = l }) }

// CommitInterval sets the persistent queries' commit.interval.ms (default 2s, as ksqlDB).
func CommitInterval(d time.Duration) Opt { return opt(func(c *config) { c.commitInterval = d }) }

// Properties sets server-wide defaults of query properties (ksql.streams.auto.offset.reset, ...).
func Properties(p map[string]string) Opt {
	return opt(func(c *config) {
		for k, v := range p {
			c.props[k] = v
		}
	})
}

// MetricsRegistry sets the registry the engine's metrics are registered on (default: a new one).
func MetricsRegistry(r *prometheus.Registry) Opt { return opt(func(c *config) { c.registry = r }) }

// ReplicationFactor sets the replication factor of the topics the engine creates (default -1: the
// cluster's default).
func ReplicationFactor(n int16) Opt { return opt(func(c *config) { c.replication = n }) }

// SessionTimeout sets the persistent queries' consumer session timeout (default 45s).
func SessionTimeout(d time.Duration) Opt { return opt(func(c *config) { c.sessionTimeout = d }) }

// Engine is a Seiche SQL server's state: the metastore, the queries, the command log.
type Engine struct {
	cfg  config
	log  *slog.Logger
	meta *analyzer.Metastore
	// be is where statements take effect: kafka for a server (New), a driverBackend in a TestSession.
	be    backend
	kafka *kafkaBackend

	commandTopic   string
	plogTopic      string
	heartbeatTopic string
	members        members
	metrics        *metrics

	ctx    context.Context // the Run context: queries stop with it
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ready  chan struct{}

	mu struct {
		sync.Mutex
		queries map[string]*persistentQuery
		// order is the queries in creation order.
		order     []string
		transient map[string]*pushQuery
	}
	start time.Time
}

// New validates the options and connects the engine's clients. Run starts it.
func New(opts ...Opt) (*Engine, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if len(cfg.bootstrap) == 0 {
		return nil, errors.New("engine: no bootstrap brokers")
	}
	if cfg.serviceID == "" {
		return nil, errors.New("engine: empty service id")
	}
	e := newEngine(cfg)
	k, err := newKafkaBackend(e, cfg.bootstrap)
	if err != nil {
		return nil, err
	}
	e.be, e.kafka = k, k
	return e, nil
}

func defaultConfig() config {
	return config{
		serviceID:      "seiche",
		dataDir:        "seiche-data",
		logger:         slog.Default(),
		commitInterval: 2 * time.Second,
		props:          map[string]string{},
		replication:    -1,
		sessionTimeout: 45 * time.Second,
	}
}

// newEngine allocates an engine without a backend.
func newEngine(cfg config) *Engine {
	if cfg.registry == nil {
		cfg.registry = prometheus.NewRegistry()
	}
	e := &Engine{
		cfg:            cfg,
		log:            cfg.logger,
		meta:           analyzer.NewMetastore(),
		commandTopic:   "_seiche-" + cfg.serviceID + "-command",
		plogTopic:      "_seiche-" + cfg.serviceID + "-processing-log",
		heartbeatTopic: "_seiche-" + cfg.serviceID + "-heartbeat",
		ready:          make(chan struct{}),
		start:          time.Now(),
	}
	e.mu.queries = map[string]*persistentQuery{}
	e.mu.transient = map[string]*pushQuery{}
	e.members.m = map[string]*memberState{}
	e.metrics = newMetrics(cfg.registry)
	e.ctx, e.cancel = context.WithCancel(context.Background())
	return e
}

// Registry returns the registry of the engine's metrics.
func (e *Engine) Registry() *prometheus.Registry { return e.cfg.registry }

// ServiceID returns the engine's service id.
func (e *Engine) ServiceID() string { return e.cfg.serviceID }

// Ready is closed once the engine has replayed the command log and started its queries.
func (e *Engine) Ready() <-chan struct{} { return e.ready }

// Run creates the command and processing-log topics, replays the command log, starts the queries it
// defines, and then applies new commands until ctx is done or Close is called. It stops every query
// before it returns.
func (e *Engine) Run(ctx context.Context) error {
	go func() {
		select {
		case <-ctx.Done():
			e.cancel()
		case <-e.ctx.Done():
		}
	}()
	err := e.run(e.ctx)
	e.cancel()
	e.stopQueries()
	e.wg.Wait()
	e.kafka.closeLog()
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

func (e *Engine) run(ctx context.Context) error {
	// Push queries live no longer than their process: what a killed one left is of no use.
	e.removeTransientDirs()
	if err := e.ensureInternalTopics(ctx); err != nil {
		return err
	}
	e.heartbeats(ctx)
	return e.kafka.runCommands(ctx)
}

// Close stops the engine: queries are stopped (their state flushed and offsets committed) and the
// backend's clients closed. It is idempotent and waits for Run's goroutines.
func (e *Engine) Close() error {
	e.cancel()
	e.stopQueries()
	e.wg.Wait()
	e.be.close()
	return nil
}

func (e *Engine) ensureInternalTopics(ctx context.Context) error {
	infinite := "-1"
	compact := "compact"
	one := "1"
	cmdCfg := map[string]*string{"cleanup.policy": &compact, "retention.ms": &infinite, "min.insync.replicas": &one}
	if err := e.be.createTopic(ctx, e.commandTopic, 1, cmdCfg); err != nil {
		return fmt.Errorf("engine: command topic %s: %w", e.commandTopic, err)
	}
	if err := e.be.createTopic(ctx, e.plogTopic, 1, nil); err != nil {
		return fmt.Errorf("engine: processing log topic %s: %w", e.plogTopic, err)
	}
	if err := e.be.createTopic(ctx, e.heartbeatTopic, 1, map[string]*string{"cleanup.policy": &compact}); err != nil {
		return fmt.Errorf("engine: heartbeat topic %s: %w", e.heartbeatTopic, err)
	}
	return nil
}

// queryDir is where a persistent query keeps its local state.
func (e *Engine) queryDir(id string) string { return filepath.Join(e.cfg.dataDir, "queries", id) }

// transientDir is the parent of the push queries' temporary state directories.
func (e *Engine) transientDir() string {
	d := filepath.Join(e.cfg.dataDir, "transient")
	_ = os.MkdirAll(d, 0o755)
	return d
}

// appID is the application id of a persistent query.
func (e *Engine) appID(queryID string) string {
	return "_seiche-" + e.cfg.serviceID + "-query-" + queryID
}
