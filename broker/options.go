package broker

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Opt configures a Broker. Options are applied in order and validated once by New.
type Opt interface{ apply(*config) }

type opt func(*config)

func (o opt) apply(c *config) { o(c) }

type config struct {
	listen            string
	advertised        string
	dataDir           string
	nodeID            int32
	logger            *slog.Logger
	autoCreateTopics  bool
	defaultPartitions int32
	topicDefaults     map[string]string
	maxRequestBytes   int32
	groupInitialDelay time.Duration
	consumerSession   time.Duration
	consumerHeartbeat time.Duration
	consumerAssignors []string
	maintenance       time.Duration
	txnMaxTimeout     time.Duration
	txnAbortInterval  time.Duration
	registry          *prometheus.Registry
}

func defaultConfig() config {
	return config{
		listen:            "127.0.0.1:9092",
		dataDir:           "seiche-data",
		nodeID:            0,
		autoCreateTopics:  true,
		defaultPartitions: 1,
		maxRequestBytes:   100 << 20,
		groupInitialDelay: 3 * time.Second,
		maintenance:       30 * time.Second,
		txnMaxTimeout:     15 * time.Minute,
		txnAbortInterval:  10 * time.Second,
	}
}

// ListenAddr sets the address the broker listens on (default 127.0.0.1:9092). Port 0 picks a free port;
// Broker.Addr reports it.
func ListenAddr(addr string) Opt { return opt(func(c *config) { c.listen = addr }) }

// AdvertisedAddr sets the host:port the broker tells clients to connect to in Metadata responses.
// The default is the address it listens on.
func AdvertisedAddr(addr string) Opt { return opt(func(c *config) { c.advertised = addr }) }

// DataDir sets the directory for partition logs and metadata (default ./seiche-data).
func DataDir(dir string) Opt { return opt(func(c *config) { c.dataDir = dir }) }

// NodeID sets the broker's node ID (default 0).
func NodeID(id int32) Opt { return opt(func(c *config) { c.nodeID = id }) }

// Logger sets the logger; the default is slog.Default().
func Logger(l *slog.Logger) Opt { return opt(func(c *config) { c.logger = l }) }

// AutoCreateTopics sets auto.create.topics.enable (default true, as in Kafka): a Metadata request naming an
// unknown topic creates it with the default partition count.
func AutoCreateTopics(enable bool) Opt { return opt(func(c *config) { c.autoCreateTopics = enable }) }

// DefaultPartitions sets num.partitions, the partition count of auto-created topics (default 1).
func DefaultPartitions(n int32) Opt { return opt(func(c *config) { c.defaultPartitions = n }) }

// TopicDefaults sets broker-wide defaults for topic configs (for example "retention.ms" or
// "segment.bytes"), which a topic's own configs override.
func TopicDefaults(m map[string]string) Opt {
	return opt(func(c *config) {
		if c.topicDefaults == nil {
			c.topicDefaults = make(map[string]string, len(m))
		}
		for k, v := range m {
			c.topicDefaults[k] = v
		}
	})
}

// MaxRequestBytes sets socket.request.max.bytes: a larger request frame closes the connection (default 100 MiB).
func MaxRequestBytes(n int32) Opt { return opt(func(c *config) { c.maxRequestBytes = n }) }

// GroupInitialRebalanceDelay sets group.initial.rebalance.delay.ms (default 3s, as in Kafka).
func GroupInitialRebalanceDelay(d time.Duration) Opt {
	return opt(func(c *config) { c.groupInitialDelay = d })
}

// ConsumerGroupSessionTimeout sets group.consumer.session.timeout.ms of KIP-848 consumer groups
// (default 45s): a member that does not heartbeat for this long is removed.
func ConsumerGroupSessionTimeout(d time.Duration) Opt {
	return opt(func(c *config) { c.consumerSession = d })
}

// ConsumerGroupHeartbeatInterval sets group.consumer.heartbeat.interval.ms of KIP-848 consumer groups
// (default 5s), which members are told to heartbeat at. It must be below the session timeout.
func ConsumerGroupHeartbeatInterval(d time.Duration) Opt {
	return opt(func(c *config) { c.consumerHeartbeat = d })
}

// ConsumerGroupAssignors sets group.consumer.assignors: the server-side assignors KIP-848 members may
// ask for, among "uniform" and "range", the first being the default (default: uniform, range).
func ConsumerGroupAssignors(names ...string) Opt {
	return opt(func(c *config) { c.consumerAssignors = names })
}

// MaintenanceInterval sets how often retention and compaction run over every partition (default 30s,
// like log.retention.check.interval.ms and the cleaner's backoff).
func MaintenanceInterval(d time.Duration) Opt { return opt(func(c *config) { c.maintenance = d }) }

// TransactionMaxTimeout sets transaction.max.timeout.ms: a transactional producer asking for a longer
// transaction.timeout.ms is refused with INVALID_TRANSACTION_TIMEOUT (default 15 minutes, as in Kafka).
func TransactionMaxTimeout(d time.Duration) Opt { return opt(func(c *config) { c.txnMaxTimeout = d }) }

// TransactionAbortInterval sets transaction.abort.timed.out.transaction.cleanup.interval.ms: how often
// transactions open longer than their timeout are looked for and aborted (default 10s, as in Kafka).
func TransactionAbortInterval(d time.Duration) Opt {
	return opt(func(c *config) { c.txnAbortInterval = d })
}

// MetricsRegistry sets the registry the broker's Prometheus metrics are registered in (default: a new
// registry of the broker's own). Broker.Registry returns it. New fails if the registry already holds the
// metrics of another open broker; Close unregisters them.
func MetricsRegistry(r *prometheus.Registry) Opt { return opt(func(c *config) { c.registry = r }) }

func (c *config) validate() error {
	if c.dataDir == "" {
		return fmt.Errorf("broker: empty data directory")
	}
	if _, _, err := net.SplitHostPort(c.listen); err != nil {
		return fmt.Errorf("broker: listen address %q: %w", c.listen, err)
	}
	if c.advertised != "" {
		if _, _, err := splitHostPort(c.advertised); err != nil {
			return fmt.Errorf("broker: advertised address %q: %w", c.advertised, err)
		}
	}
	if c.defaultPartitions < 1 {
		return fmt.Errorf("broker: num.partitions must be at least 1, got %d", c.defaultPartitions)
	}
	if c.maxRequestBytes < 1<<10 {
		return fmt.Errorf("broker: socket.request.max.bytes too small: %d", c.maxRequestBytes)
	}
	if c.maintenance <= 0 {
		return fmt.Errorf("broker: maintenance interval must be positive")
	}
	if c.txnMaxTimeout <= 0 || c.txnAbortInterval <= 0 {
		return fmt.Errorf("broker: transaction max timeout and abort interval must be positive")
	}
	for k, v := range c.topicDefaults {
		if err := validateTopicConfig(k, v); err != nil {
			return err
		}
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if c.registry == nil {
		c.registry = prometheus.NewRegistry()
	}
	return nil
}

func splitHostPort(addr string) (string, int32, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return "", 0, fmt.Errorf("bad port %q", port)
	}
	return host, int32(p), nil
}
