package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/state"
)

// Opt configures an App or a TestDriver. Options are applied in order and validated once, by New
// or NewTestDriver. Options that only make sense against a broker are ignored by the test driver.
type Opt interface{ apply(*config) }

type opt func(*config)

func (o opt) apply(c *config) { o(c) }

// Guarantee is the processing guarantee.
type Guarantee int

const (
	// AtLeastOnce commits offsets after the output they caused is acknowledged: after a crash,
	// records since the last commit are processed again. The default.
	AtLeastOnce Guarantee = iota
	// ExactlyOnceV2 is Kafka Streams' exactly_once_v2 (KIP-447): each stream thread has one
	// transactional producer, and every commit interval the output, changelog records and consumed
	// offsets of all its tasks commit in one transaction, or none of them does. Consumers read
	// committed records only. A rebalance or a failed commit aborts the transaction and the tasks
	// redo their work from the last commit; a fenced producer makes the thread rejoin the group
	// with a new one. Commit interval 100ms unless CommitInterval says otherwise. Needs a broker
	// with transactions (Kafka 2.5 or later, or Seiche's).
	ExactlyOnceV2
)

// String returns the guarantee's processing.guarantee value.
func (g Guarantee) String() string {
	switch g {
	case AtLeastOnce:
		return "at_least_once"
	case ExactlyOnceV2:
		return "exactly_once_v2"
	}
	return fmt.Sprintf("Guarantee(%d)", int(g))
}

// ParseGuarantee parses a processing.guarantee value: "at_least_once" or "exactly_once_v2". The
// values "exactly_once" (one producer per task) and "exactly_once_beta" were deprecated in Kafka
// Streams 3.0 and removed in 4.0; as there, they are refused with an error that names
// exactly_once_v2.
func ParseGuarantee(s string) (Guarantee, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "at_least_once":
		return AtLeastOnce, nil
	case "exactly_once_v2":
		return ExactlyOnceV2, nil
	case "exactly_once", "exactly_once_beta":
		return 0, fmt.Errorf("runtime: processing.guarantee %q is not supported (removed in Kafka Streams 4.0): use exactly_once_v2", s)
	}
	return 0, fmt.Errorf("runtime: unknown processing.guarantee %q: want at_least_once or exactly_once_v2", s)
}

type config struct {
	appID             string
	bootstrap         []string
	threads           int
	commitInterval    time.Duration
	commitIntervalSet bool
	sessionTimeout    time.Duration
	heartbeat         time.Duration
	rebalanceTimeout  time.Duration
	appServer         string
	stateDir          string
	logger            *slog.Logger
	registry          *prometheus.Registry
	onDeser           ErrorHandler
	onProc            ErrorHandler
	plogTopic         string
	guarantee         Guarantee
	maxPollRecords    int
	purgeInterval     time.Duration
	instanceID        string
	clientOpts        []kgo.Opt
	replication       int16
	startTime         time.Time
	now               func() time.Time
	standbyReplicas   int
	// cacheMaxBytes bounds every store's record cache when cacheMaxSet (CacheMaxBytes).
	cacheMaxBytes int64
	cacheMaxSet   bool
}

func defaultConfig() config {
	return config{
		threads:          1,
		commitInterval:   30 * time.Second,
		sessionTimeout:   45 * time.Second,
		heartbeat:        3 * time.Second,
		rebalanceTimeout: 60 * time.Second,
		stateDir:         filepath.Join(os.TempDir(), "seiche-streams"),
		onDeser:          LogAndContinue,
		onProc:           LogAndContinue,
		maxPollRecords:   1000,
		purgeInterval:    30 * time.Second,
		replication:      -1,
		now:              time.Now,
	}
}

// ApplicationID sets application.id: the consumer group, the prefix of internal topics and the
// state directory's subdirectory. Required.
func ApplicationID(id string) Opt { return opt(func(c *config) { c.appID = id }) }

// Bootstrap sets the brokers to connect to (bootstrap.servers). Required by New.
func Bootstrap(addrs ...string) Opt {
	return opt(func(c *config) { c.bootstrap = append(c.bootstrap, addrs...) })
}

// NumStreamThreads sets num.stream.threads: goroutines (each its own group member) that run this
// instance's tasks. Default 1.
func NumStreamThreads(n int) Opt { return opt(func(c *config) { c.threads = n }) }

// CommitInterval sets commit.interval.ms: how often a thread commits its tasks. Default 30s under
// at-least-once and 100ms under exactly-once, as in Kafka Streams.
func CommitInterval(d time.Duration) Opt {
	return opt(func(c *config) { c.commitInterval, c.commitIntervalSet = d, true })
}

// CacheMaxBytes sets cache.max.bytes.buffering: the record cache of each store the topology
// opens is at most n bytes, and 0 turns every cache off, so that an aggregation forwards every
// update as it happens. Without it, each store has the cache its builder asked for (the dsl's
// CacheBytes, default dsl.DefaultCacheBytes). Kafka Streams shares one such budget between all
// the stores of a stream thread; here it bounds each store's cache on its own. The test driver
// honours it too, though it flushes every cache after each input record.
func CacheMaxBytes(n int64) Opt {
	return opt(func(c *config) { c.cacheMaxBytes, c.cacheMaxSet = max(n, 0), true })
}

// taskStateOpts are the state options every active task's state is opened with.
func (c *config) taskStateOpts() []state.TaskOpt {
	if !c.cacheMaxSet {
		return nil
	}
	return []state.TaskOpt{state.MaxCacheBytes(c.cacheMaxBytes)}
}

// SessionTimeout sets the group session timeout (default 45s): how long the group waits for a
// member that stopped heartbeating before moving its tasks. HeartbeatInterval defaults to 3s.
func SessionTimeout(d time.Duration) Opt { return opt(func(c *config) { c.sessionTimeout = d }) }

// HeartbeatInterval sets how often group members heartbeat (default 3s).
func HeartbeatInterval(d time.Duration) Opt { return opt(func(c *config) { c.heartbeat = d }) }

// RebalanceTimeout sets how long a rebalance waits for members to rejoin (default 60s).
func RebalanceTimeout(d time.Duration) Opt { return opt(func(c *config) { c.rebalanceTimeout = d }) }

// ApplicationServer sets application.server, the host:port this instance serves pull queries on.
// It travels in the group assignment, so every instance learns which host holds which partitions
// (App.HostPartitions).
func ApplicationServer(hostPort string) Opt { return opt(func(c *config) { c.appServer = hostPort }) }

// StateDir sets state.dir; the application's stores live in <dir>/<application.id>. Default
// $TMPDIR/seiche-streams. Only opened when the topology has state stores.
func StateDir(dir string) Opt { return opt(func(c *config) { c.stateDir = dir }) }

// Logger sets the logger (default slog.Default(); the test driver discards by default).
func Logger(l *slog.Logger) Opt { return opt(func(c *config) { c.logger = l }) }

// MetricsRegistry sets the Prometheus registry the application registers its metrics on. The
// default is a new registry per application (App.Registry), never the global one.
func MetricsRegistry(r *prometheus.Registry) Opt { return opt(func(c *config) { c.registry = r }) }

// OnDeserializationError sets the deserialization error handler (default LogAndContinue).
func OnDeserializationError(h ErrorHandler) Opt { return opt(func(c *config) { c.onDeser = h }) }

// OnProcessingError sets the processing error handler (default LogAndContinue).
func OnProcessingError(h ErrorHandler) Opt { return opt(func(c *config) { c.onProc = h }) }

// ProcessingLogTopic also writes every record error, as a JSON ProcessingLogEntry, to topic. The
// topic must exist (or the broker auto-create it).
func ProcessingLogTopic(topic string) Opt { return opt(func(c *config) { c.plogTopic = topic }) }

// ProcessingGuarantee sets processing.guarantee (default AtLeastOnce; see ExactlyOnceV2).
func ProcessingGuarantee(g Guarantee) Opt { return opt(func(c *config) { c.guarantee = g }) }

// MaxPollRecords bounds the records a thread processes between two polls (default 1000). Rebalances
// wait for the batch in hand, so large batches of slow records delay them.
func MaxPollRecords(n int) Opt { return opt(func(c *config) { c.maxPollRecords = n }) }

// RepartitionPurgeInterval sets repartition.purge.interval.ms (default 30s): how often, at most, a
// thread deletes the records of its repartition topics' partitions below the offsets it committed
// (DeleteRecords, right after a commit). Repartition topics keep records regardless of their age,
// so this is what bounds them.
func RepartitionPurgeInterval(d time.Duration) Opt {
	return opt(func(c *config) { c.purgeInterval = d })
}

// GroupInstanceID enables static membership: thread i joins as "<id>-<i>". A static member that
// stops without leaving keeps its tasks until the session timeout, so a quick restart moves
// nothing.
func GroupInstanceID(id string) Opt { return opt(func(c *config) { c.instanceID = id }) }

// ClientOpts adds franz-go options to every client the application makes (TLS, SASL, tuning),
// after the runtime's own. The runtime's clients produce uncompressed batches, as Kafka Streams'
// do by default; kgo.ProducerBatchCompression here chooses a codec.
func ClientOpts(opts ...kgo.Opt) Opt {
	return opt(func(c *config) { c.clientOpts = append(c.clientOpts, opts...) })
}

// StandbyReplicas sets num.standby.replicas (default 0): how many other instances keep a standby
// copy of each stateful task's stores, following its changelogs, so that when the task moves to
// one of them (its instance died or left) the restore reads only the changelog's tail instead of
// all of it. The copies go to instances other than the task's, no two to one instance or one
// ApplicationServer host, as evenly as the instances' threads allow; with too few instances a
// task gets fewer copies. The leader's setting decides: give every instance the same. Copies can
// be read with App.StandbyStores, and StoreMetadata names their hosts.
func StandbyReplicas(n int) Opt { return opt(func(c *config) { c.standbyReplicas = n }) }

// ReplicationFactor sets the replication factor of internal topics (default -1: the broker's).
func ReplicationFactor(n int16) Opt { return opt(func(c *config) { c.replication = n }) }

// StartTime sets the test driver's initial wall-clock time (default the Unix epoch).
func StartTime(t time.Time) Opt { return opt(func(c *config) { c.startTime = t }) }

func (c *config) validate(needBroker bool) error {
	var errs []error
	if c.appID == "" {
		errs = append(errs, errors.New("runtime: application id required"))
	}
	if needBroker && len(c.bootstrap) == 0 {
		errs = append(errs, errors.New("runtime: bootstrap brokers required"))
	}
	if c.threads < 1 {
		errs = append(errs, fmt.Errorf("runtime: num.stream.threads must be at least 1, got %d", c.threads))
	}
	if c.commitInterval <= 0 {
		errs = append(errs, fmt.Errorf("runtime: commit interval must be positive, got %v", c.commitInterval))
	}
	if c.sessionTimeout <= 0 || c.heartbeat <= 0 || c.heartbeat >= c.sessionTimeout {
		errs = append(errs, fmt.Errorf("runtime: heartbeat interval %v must be positive and below the session timeout %v", c.heartbeat, c.sessionTimeout))
	}
	if c.standbyReplicas < 0 {
		errs = append(errs, fmt.Errorf("runtime: num.standby.replicas must not be negative, got %d", c.standbyReplicas))
	}
	if c.purgeInterval <= 0 {
		errs = append(errs, fmt.Errorf("runtime: repartition purge interval must be positive, got %v", c.purgeInterval))
	}
	if c.maxPollRecords < 1 {
		errs = append(errs, fmt.Errorf("runtime: max poll records must be at least 1"))
	}
	if c.onDeser == nil || c.onProc == nil {
		errs = append(errs, errors.New("runtime: nil error handler"))
	}
	switch c.guarantee {
	case AtLeastOnce:
	case ExactlyOnceV2:
		if !c.commitIntervalSet {
			c.commitInterval = eosCommitInterval
		}
	default:
		errs = append(errs, fmt.Errorf("runtime: unknown processing guarantee %d", c.guarantee))
	}
	if c.logger == nil {
		if needBroker {
			c.logger = slog.Default()
		} else {
			c.logger = discardLogger()
		}
	}
	if c.registry == nil {
		c.registry = prometheus.NewRegistry()
	}
	return errors.Join(errs...)
}
