package cli

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seichedb/seiche/broker"
)

// serverConfig is a --config file (Kafka's server.properties, with Seiche's own keys) translated
// for `seiche server`: values for its flags, topic defaults, broker options, ksql.* engine
// properties, and the keys that were ignored, for one warning each kind.
type serverConfig struct {
	flags      map[string]string // server flag name → value; flags given on the command line win
	defaults   map[string]string // broker-wide topic config defaults
	brokerOpts []broker.Opt
	engine     map[string]string // ksql.* properties
	ignored    []string          // Kafka broker settings without a meaning in Seiche, sorted
	unknown    []string          // keys neither Kafka's (as far as Seiche knows) nor Seiche's, sorted
	notes      []string          // settings applied only in part, one sentence each
}

// kafkaTopicDefaults are Kafka broker settings that are the broker-wide default of a topic config
// under another name (Kafka's KafkaConfig synonyms). log.retention.{hours,minutes,ms} and
// log.roll.{hours,ms} are handled apart: several keys set one config.
var kafkaTopicDefaults = map[string]string{
	"log.cleaner.delete.retention.ms":   "delete.retention.ms",
	"log.cleaner.min.cleanable.ratio":   "min.cleanable.dirty.ratio",
	"log.cleaner.min.compaction.lag.ms": "min.compaction.lag.ms",
	"log.cleaner.max.compaction.lag.ms": "max.compaction.lag.ms",
	"log.flush.interval.messages":       "flush.messages",
	"log.flush.interval.ms":             "flush.ms",
	"log.index.interval.bytes":          "index.interval.bytes",
	"log.index.size.max.bytes":          "segment.index.bytes",
	"log.message.timestamp.type":        "message.timestamp.type",
	"log.segment.delete.delay.ms":       "file.delete.delay.ms",
	"message.max.bytes":                 "max.message.bytes",
	"compression.type":                  "compression.type",
	"min.insync.replicas":               "min.insync.replicas",
	"unclean.leader.election.enable":    "unclean.leader.election.enable",
}

// kafkaIgnored are Kafka broker settings that mean nothing on a single Seiche node: thread counts
// and buffers, the ZooKeeper and KRaft quorum, replication, security Seiche does not serve, and
// internal topics it does not have. kafkaIgnoredPrefixes are whole families of them.
var kafkaIgnored = map[string]bool{
	"num.network.threads": true, "num.io.threads": true, "num.replica.fetchers": true,
	"num.recovery.threads.per.data.dir": true, "background.threads": true, "queued.max.requests": true,
	"socket.send.buffer.bytes": true, "socket.receive.buffer.bytes": true, "socket.listen.backlog.size": true,
	"process.roles": true, "inter.broker.listener.name": true, "listener.security.protocol.map": true,
	"security.inter.broker.protocol": true, "inter.broker.protocol.version": true,
	"offsets.topic.replication.factor": true, "offsets.topic.num.partitions": true, "offsets.topic.segment.bytes": true,
	"offsets.retention.minutes": true, "offsets.retention.check.interval.ms": true, "offsets.commit.timeout.ms": true,
	"transaction.state.log.replication.factor": true, "transaction.state.log.min.isr": true,
	"transaction.state.log.num.partitions": true, "default.replication.factor": true, "delete.topic.enable": true,
	"log.flush.scheduler.interval.ms": true, "log.flush.offset.checkpoint.interval.ms": true,
	"log.flush.start.offset.checkpoint.interval.ms": true, "log.cleaner.threads": true, "log.cleaner.enable": true,
	"log.cleaner.dedupe.buffer.size": true, "log.cleaner.io.buffer.size": true, "log.cleaner.io.buffer.load.factor": true,
	"log.cleaner.io.max.bytes.per.second": true, "log.cleaner.backoff.ms": true, "log.preallocate": true,
	"log.message.format.version": true, "log.message.downconversion.enable": true, "log.dir.failure.timeout.ms": true,
	"broker.rack": true, "auto.leader.rebalance.enable": true, "leader.imbalance.check.interval.seconds": true,
	"leader.imbalance.per.broker.percentage": true, "controlled.shutdown.enable": true,
	"controlled.shutdown.max.retries": true, "controlled.shutdown.retry.backoff.ms": true,
	"group.min.session.timeout.ms": true, "group.max.session.timeout.ms": true, "group.max.size": true,
	"max.connections": true, "max.connections.per.ip": true, "max.connection.creation.rate": true,
	"connections.max.idle.ms": true, "connections.max.reauth.ms": true, "request.timeout.ms": true,
	"metric.reporters": true, "authorizer.class.name": true, "super.users": true,
	"principal.builder.class": true, "allow.everyone.if.no.acl.found": true, "producer.id.expiration.ms": true,
	"fetch.max.bytes": true, "delegation.token.secret.key": true, "password.encoder.secret": true,
	"eligible.leader.replicas.enable": true, "unstable.api.versions.enable": true,
}

var kafkaIgnoredPrefixes = []string{
	"zookeeper.", "controller.", "metadata.", "replica.", "ssl.", "sasl.", "listener.name.", "quota.",
	"quotas.", "metrics.", "kafka.metrics.", "confluent.", "transaction.", "transactional.id.", "remote.log.",
	"share.", "group.coordinator.", "group.consumer.", "group.share.", "delegation.token.", "client.quota.",
	"log.local.retention.", "log.initial.task.delay.ms", "initial.broker.registration.", "broker.heartbeat.",
	"broker.session.", "security.",
}

// warn logs, once each, the notes, the ignored Kafka settings and the unknown keys.
func (c *serverConfig) warn(logger *slog.Logger, file string) {
	for _, n := range c.notes {
		logger.Warn("config: "+n, "file", file)
	}
	if len(c.ignored) > 0 {
		logger.Warn("config: ignoring Kafka settings that have no meaning on a Seiche server", "file", file, "keys", strings.Join(c.ignored, ","))
	}
	if len(c.unknown) > 0 {
		logger.Warn("config: ignoring unknown settings", "file", file, "keys", strings.Join(c.unknown, ","))
	}
}

// translateServerConfig turns the key=value lines of a --config file into a serverConfig. Only a
// malformed value is an error; unknown keys and Kafka settings without a meaning here are
// collected for a warning.
func translateServerConfig(props map[string]string) (*serverConfig, error) {
	c := &serverConfig{flags: map[string]string{}, defaults: map[string]string{}, engine: map[string]string{}}
	topicConfig := map[string]bool{}
	for _, name := range broker.TopicConfigs() {
		topicConfig[name] = true
	}
	// Keys translated together come first.
	if err := c.retention(props); err != nil {
		return nil, err
	}
	if err := c.listeners(props); err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(props)) {
		v := props[k]
		var err error
		switch {
		case k == "listeners" || k == "listen" || k == "advertised.listeners" || k == "advertised.listener" ||
			k == "controller.listener.names" || k == "listener.security.protocol.map":
			// listeners()
		case k == "log.retention.hours" || k == "log.retention.minutes" || k == "log.retention.ms" ||
			k == "log.roll.hours" || k == "log.roll.ms":
			// retention()
		case k == "log.dirs" || k == "log.dir" || k == "data.dir":
			dirs := strings.Split(v, ",")
			c.flags["data-dir"] = strings.TrimSpace(dirs[0])
			if len(dirs) > 1 {
				c.notes = append(c.notes, fmt.Sprintf("%s names %d directories: Seiche keeps its data in the first, %s", k, len(dirs), dirs[0]))
			}
		case k == "node.id" || k == "broker.id":
			_, err = parseWhole(v, 0, 1<<31-1)
			c.flags["node-id"] = v
		case k == "num.partitions":
			_, err = parseWhole(v, 1, 1<<31-1)
			c.flags["num-partitions"] = v
		case k == "auto.create.topics.enable":
			if _, perr := strconv.ParseBool(v); perr != nil {
				err = fmt.Errorf("want true or false")
			}
			c.flags["auto-create-topics"] = v
		case k == "log.retention.check.interval.ms":
			var ms int64
			if ms, err = parseWhole(v, 1, 1<<40); err == nil {
				c.brokerOpts = append(c.brokerOpts, broker.MaintenanceInterval(time.Duration(ms)*time.Millisecond))
			}
		case k == "group.initial.rebalance.delay.ms":
			var ms int64
			if ms, err = parseWhole(v, 0, 1<<40); err == nil {
				c.brokerOpts = append(c.brokerOpts, broker.GroupInitialRebalanceDelay(time.Duration(ms)*time.Millisecond))
			}
		case k == "transaction.max.timeout.ms":
			var ms int64
			if ms, err = parseWhole(v, 1, 1<<31-1); err == nil {
				c.brokerOpts = append(c.brokerOpts, broker.TransactionMaxTimeout(time.Duration(ms)*time.Millisecond))
			}
		case k == "transaction.abort.timed.out.transaction.cleanup.interval.ms":
			var ms int64
			if ms, err = parseWhole(v, 1, 1<<31-1); err == nil {
				c.brokerOpts = append(c.brokerOpts, broker.TransactionAbortInterval(time.Duration(ms)*time.Millisecond))
			}
		case k == "group.consumer.session.timeout.ms" || k == "group.consumer.heartbeat.interval.ms":
			var ms int64
			if ms, err = parseWhole(v, 1, 1<<31-1); err == nil {
				d := time.Duration(ms) * time.Millisecond
				if k == "group.consumer.session.timeout.ms" {
					c.brokerOpts = append(c.brokerOpts, broker.ConsumerGroupSessionTimeout(d))
				} else {
					c.brokerOpts = append(c.brokerOpts, broker.ConsumerGroupHeartbeatInterval(d))
				}
			}
		case k == "group.consumer.assignors":
			var names []string
			for _, n := range strings.Split(v, ",") {
				n = strings.TrimSpace(n)
				// Kafka also accepts the assignors' class names.
				n = strings.TrimSuffix(strings.TrimPrefix(n, "org.apache.kafka.coordinator.group.assignor."), "Assignor")
				names = append(names, strings.ToLower(n))
			}
			c.brokerOpts = append(c.brokerOpts, broker.ConsumerGroupAssignors(names...))
		case k == "socket.request.max.bytes":
			var n int64
			if n, err = parseWhole(v, 1<<10, 1<<31-1); err == nil {
				c.brokerOpts = append(c.brokerOpts, broker.MaxRequestBytes(int32(n)))
			}
		case k == "ksql.service.id":
			c.flags["service-id"] = v
		case k == "ksql.listeners" || k == "listeners.http":
			c.flags["http-listen"] = stripScheme(v)
		case strings.HasPrefix(k, "ksql."):
			c.engine[k] = v // as the engine and the analyzer look them up: ksql.streams.*, ksql.persistence.*
		case kafkaTopicDefaults[k] != "":
			c.defaults[kafkaTopicDefaults[k]] = v // checked by the broker
		case strings.HasPrefix(k, "log.") && topicConfig[strings.TrimPrefix(k, "log.")]:
			c.defaults[strings.TrimPrefix(k, "log.")] = v // log.<topic config>, e.g. log.cleanup.policy
		case kafkaIgnored[k] || slices.ContainsFunc(kafkaIgnoredPrefixes, func(p string) bool { return strings.HasPrefix(k, p) }):
			c.ignored = append(c.ignored, k)
		default:
			c.unknown = append(c.unknown, k)
		}
		if err != nil {
			return nil, fmt.Errorf("%s=%s: %w", k, v, err)
		}
	}
	return c, nil
}

// retention translates Kafka's retention and roll times, given in several units of which the
// finest wins (log.retention.ms over .minutes over .hours; log.roll.ms over .hours), into the
// retention.ms and segment.ms topic defaults. -1 is unlimited retention, in any unit.
func (c *serverConfig) retention(props map[string]string) error {
	for _, t := range []struct {
		config string
		keys   []string
		unit   []time.Duration
		min    int64
	}{
		{"retention.ms", []string{"log.retention.hours", "log.retention.minutes", "log.retention.ms"}, []time.Duration{time.Hour, time.Minute, time.Millisecond}, -1},
		{"segment.ms", []string{"log.roll.hours", "log.roll.ms"}, []time.Duration{time.Hour, time.Millisecond}, 1},
	} {
		for i, k := range t.keys {
			v, ok := props[k]
			if !ok {
				continue
			}
			n, err := parseWhole(v, t.min, 1<<62/int64(t.unit[i]/time.Millisecond))
			if err != nil {
				return fmt.Errorf("%s=%s: %w", k, v, err)
			}
			if n < 0 {
				c.defaults[t.config] = "-1"
				continue
			}
			c.defaults[t.config] = strconv.FormatInt(n*int64(t.unit[i]/time.Millisecond), 10)
		}
	}
	return nil
}

// listeners picks the client listener out of Kafka's listeners list (NAME://host:port,...): the
// first that is not a controller listener and speaks PLAINTEXT, the only protocol Seiche serves;
// advertised.listeners gives the address advertised for it (by name, or the first).
func (c *serverConfig) listeners(props map[string]string) error {
	if v, ok := props["listen"]; ok {
		c.flags["listen"] = stripScheme(v)
	}
	if v, ok := props["advertised.listener"]; ok {
		c.flags["advertised-listener"] = stripScheme(v)
	}
	list, ok := props["listeners"]
	if !ok {
		if adv, ok := props["advertised.listeners"]; ok {
			ls, err := parseListeners("advertised.listeners", adv)
			if err != nil {
				return err
			}
			c.flags["advertised-listener"] = ls[0].addr
		}
		return nil
	}
	ls, err := parseListeners("listeners", list)
	if err != nil {
		return err
	}
	controllers := map[string]bool{}
	for _, n := range strings.Split(props["controller.listener.names"], ",") {
		controllers[strings.TrimSpace(n)] = true
	}
	protocols := map[string]string{}
	for _, m := range strings.Split(props["listener.security.protocol.map"], ",") {
		if name, proto, ok := strings.Cut(m, ":"); ok {
			protocols[strings.TrimSpace(name)] = strings.TrimSpace(proto)
		}
	}
	var chosen *listener
	var others []string
	for i, l := range ls {
		proto := protocols[l.name]
		if proto == "" {
			proto = l.name // Kafka's default map: a listener named after its protocol
		}
		switch {
		case controllers[l.name]:
		case proto != "PLAINTEXT":
			others = append(others, l.name)
		case chosen == nil:
			chosen = &ls[i]
		default:
			others = append(others, l.name)
		}
	}
	if chosen == nil {
		return fmt.Errorf("listeners=%s: no PLAINTEXT listener for clients; Seiche serves PLAINTEXT only", list)
	}
	c.flags["listen"] = chosen.addr
	if len(others) > 0 {
		c.notes = append(c.notes, fmt.Sprintf("listeners: Seiche serves one PLAINTEXT listener, %s://%s; not %s",
			chosen.name, chosen.addr, strings.Join(others, ", ")))
	}
	if adv, ok := props["advertised.listeners"]; ok {
		als, err := parseListeners("advertised.listeners", adv)
		if err != nil {
			return err
		}
		a := als[0]
		for _, l := range als {
			if l.name == chosen.name {
				a = l
			}
		}
		c.flags["advertised-listener"] = a.addr
	}
	return nil
}

// listener is one entry of Kafka's listeners list.
type listener struct{ name, addr string }

func parseListeners(key, v string) ([]listener, error) {
	var ls []listener
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		name, addr, ok := strings.Cut(e, "://")
		if !ok || name == "" || !strings.Contains(addr, ":") {
			return nil, fmt.Errorf("%s=%s: want NAME://host:port entries, got %q", key, v, e)
		}
		ls = append(ls, listener{name: name, addr: addr})
	}
	if len(ls) == 0 {
		return nil, fmt.Errorf("%s is empty", key)
	}
	return ls, nil
}

// parseWhole parses a whole number in [lo, hi].
func parseWhole(v string, lo, hi int64) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want a whole number")
	}
	if n < lo || n > hi {
		return 0, fmt.Errorf("want a number from %d to %d", lo, hi)
	}
	return n, nil
}
