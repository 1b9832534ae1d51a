package broker

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/seichedb/seiche/broker/internal/group"
	"github.com/seichedb/seiche/broker/internal/share"
	"github.com/seichedb/seiche/broker/internal/txn"
	"github.com/seichedb/seiche/internal/dirlock"
)

// Broker is a single-node Kafka-compatible broker. Create one with New, serve with Run, stop with Close.
type Broker struct {
	cfg       config
	logger    *slog.Logger
	ln        net.Listener
	dirLock   *dirlock.Lock // the data directory, held from New to Close
	meta      *pebble.DB
	topics    *topicManager
	groups    *group.Coordinator
	txns      *txn.Coordinator
	shares    *share.Manager // share-partition state of share groups
	shareSess *shareSessions
	pids      *producerIDs
	sessions  *fetchSessions
	metrics   *metrics
	clusterID string
	advHost   string
	advPort   int32

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the broker starts

	closeOnce sync.Once
	closeErr  error

	conns struct {
		sync.Mutex
		m map[*conn]struct{}
	}
}

// New opens (or creates) the data directory, recovers every partition log, and binds the listener.
// The broker accepts no connection until Run is called.
func New(opts ...Opt) (*Broker, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	b := &Broker{cfg: cfg, logger: cfg.logger}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.conns.m = make(map[*conn]struct{})
	b.metrics = newMetrics(cfg.registry, b)

	if err := os.MkdirAll(cfg.dataDir, 0o755); err != nil {
		return nil, fmt.Errorf("broker: data directory: %w", err)
	}
	// One broker per data directory: a second one is refused here, naming the process that holds
	// it, before it opens any log.
	lock, err := dirlock.Acquire(cfg.dataDir)
	if err != nil {
		return nil, fmt.Errorf("broker: data directory: %w", err)
	}
	b.dirLock = lock
	meta, err := pebble.Open(filepath.Join(cfg.dataDir, "meta"), &pebble.Options{Logger: pebbleLogger{b.logger}})
	if err != nil {
		b.dirLock.Release()
		return nil, fmt.Errorf("broker: open metadata store in %s: %w", cfg.dataDir, err)
	}
	b.meta = meta
	fail := func(err error) (*Broker, error) {
		b.closeStores()
		return nil, err
	}
	if b.clusterID, err = loadClusterID(meta); err != nil {
		return fail(err)
	}
	if b.pids, err = newProducerIDs(meta); err != nil {
		return fail(err)
	}
	b.sessions = newFetchSessions()
	if b.topics, err = openTopics(b, filepath.Join(cfg.dataDir, "logs")); err != nil {
		return fail(err)
	}
	if b.shares, err = share.New(meta, b.logger.With("component", "share")); err != nil {
		return fail(err)
	}
	b.shareSess = newShareSessions()
	b.groups, err = group.New(meta, group.Options{
		Logger:                b.logger.With("component", "group"),
		PartitionExists:       b.topics.partitionExists,
		InitialRebalanceDelay: cfg.groupInitialDelay,
		Topics:                b.groupTopics,

		ConsumerSessionTimeout:    cfg.consumerSession,
		ConsumerHeartbeatInterval: cfg.consumerHeartbeat,
		ConsumerAssignors:         cfg.consumerAssignors,
		ShareMemberGone:           b.shareMemberGone,
		DeleteShareGroup:          b.deleteShareGroup,
	})
	if err != nil {
		return fail(err)
	}
	// After the partitions and groups: recovery completes decided transactions by writing to both.
	if b.txns, err = newTxnCoordinator(b); err != nil {
		return fail(err)
	}

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fail(fmt.Errorf("broker: listen: %w", err))
	}
	b.ln = ln
	adv := cfg.advertised
	if adv == "" {
		adv = ln.Addr().String()
	}
	if b.advHost, b.advPort, err = splitHostPort(adv); err != nil {
		ln.Close()
		return fail(fmt.Errorf("broker: advertised address %q: %w", adv, err))
	}
	if err := b.metrics.register(); err != nil {
		ln.Close()
		return fail(err)
	}
	return b, nil
}

// Addr returns the address the broker listens on, with the real port when it was started on port 0.
func (b *Broker) Addr() string { return b.ln.Addr().String() }

// ClusterID returns the cluster ID, generated on first start and persisted.
func (b *Broker) ClusterID() string { return b.clusterID }

// Run accepts connections until ctx is done or Close is called, then closes the broker. It returns nil
// after a clean shutdown.
func (b *Broker) Run(ctx context.Context) error {
	b.logger.Info("broker listening", "addr", b.Addr(), "advertised", fmt.Sprintf("%s:%d", b.advHost, b.advPort),
		"data_dir", b.cfg.dataDir, "cluster_id", b.clusterID)
	b.goroutine(b.maintain)
	stop := context.AfterFunc(ctx, func() { b.Close() })
	defer stop()
	for {
		nc, err := b.ln.Accept()
		if err != nil {
			if b.ctx.Err() != nil {
				return b.Close()
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			b.Close()
			return fmt.Errorf("broker: accept: %w", err)
		}
		c := newConn(b, nc)
		b.conns.Lock()
		if b.ctx.Err() != nil {
			b.conns.Unlock()
			nc.Close()
			continue
		}
		b.conns.m[c] = struct{}{}
		b.conns.Unlock()
		b.goroutine(c.serve)
	}
}

// Close stops accepting, closes every connection, waits for every goroutine the broker started, and
// flushes and closes every partition log and the metadata store. It is safe to call more than once and
// concurrently; every call returns the first call's result.
func (b *Broker) Close() error {
	b.closeOnce.Do(func() {
		b.cancel()
		b.ln.Close()
		b.conns.Lock()
		for c := range b.conns.m {
			c.nc.Close()
		}
		b.conns.Unlock()
		b.txns.Close()
		b.groups.Close()
		b.wg.Wait()
		b.metrics.unregister()
		b.closeErr = b.closeStores()
	})
	return b.closeErr
}

func (b *Broker) closeStores() error {
	var errs []error
	if b.txns != nil {
		errs = append(errs, b.txns.Close())
	}
	if b.groups != nil {
		errs = append(errs, b.groups.Close())
	}
	if b.topics != nil {
		errs = append(errs, b.topics.close())
	}
	if b.meta != nil {
		errs = append(errs, b.meta.Close())
	}
	errs = append(errs, b.dirLock.Release())
	return errors.Join(errs...)
}

// goroutine starts fn on a goroutine that Close waits for.
func (b *Broker) goroutine(fn func()) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		fn()
	}()
}

func (b *Broker) removeConn(c *conn) {
	b.conns.Lock()
	delete(b.conns.m, c)
	b.conns.Unlock()
}

// maintain runs retention and compaction over every partition on the maintenance interval. It runs on
// its own goroutine: the log's cleaner never blocks appends or reads.
func (b *Broker) maintain() {
	t := time.NewTicker(b.cfg.maintenance)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
			b.topics.maintain(b.ctx)
			b.sessions.expire(time.Now())
		}
	}
}

var clusterIDKey = []byte("c/cluster-id")

func loadClusterID(db *pebble.DB) (string, error) {
	v, closer, err := db.Get(clusterIDKey)
	if err == nil {
		id := string(v)
		closer.Close()
		return id, nil
	}
	if !errors.Is(err, pebble.ErrNotFound) {
		return "", fmt.Errorf("broker: read cluster id: %w", err)
	}
	var raw [16]byte
	rand.Read(raw[:])
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	if err := db.Set(clusterIDKey, []byte(id), pebble.Sync); err != nil {
		return "", fmt.Errorf("broker: write cluster id: %w", err)
	}
	return id, nil
}

// pebbleLogger sends Pebble's messages to slog instead of stderr.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	os.Exit(1)
}
