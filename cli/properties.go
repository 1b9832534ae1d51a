package cli

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Client properties: Kafka's client configs given on the command line as kcat's -X key=value or
// Kafka's --producer-property / --consumer-property key=value (--command-property since Kafka 4.2),
// translated to kgo options. Only properties with a kgo equivalent are accepted; any other is an
// error naming the ones there are, rather than a setting silently without effect. A few that
// have no meaning for a command-line tool (serializer classes, batch.size) are accepted with a
// warning, so that a property file's worth of habits does not stop the command.

// propertyFlag is a repeatable key=value flag. Several flag names (-X, --producer-property,
// --command-property) append to one list, in command-line order.
type propertyFlag struct{ kvs *[]string }

func (f propertyFlag) String() string     { return strings.Join(*f.kvs, ",") }
func (f propertyFlag) Type() string       { return "key=value" }
func (f propertyFlag) Set(v string) error { *f.kvs = append(*f.kvs, v); return nil }

// registerPropertyFlags adds -X and Kafka's spellings of the client property flag for a producer
// ("producer") or consumer ("consumer") to fs, all appending to kvs.
func registerPropertyFlags(fs *pflag.FlagSet, role string, kvs *[]string) {
	usage := fmt.Sprintf("Kafka %s property key=value (repeatable), e.g. %s", role, map[string]string{
		"producer": "max.request.size=4194304",
		"consumer": "max.partition.fetch.bytes=4194304",
	}[role])
	fs.VarP(propertyFlag{kvs}, role+"-property", "X", usage)
	fs.Var(propertyFlag{kvs}, "command-property", "same as --"+role+"-property (Kafka 4.2's name)")
}

// clientProps are parsed client properties, by name, in the order given (a later value wins).
type clientProps map[string]string

// parseProperties parses key=value strings and checks every key against the properties the role
// ("producer" or "consumer") accepts.
func parseProperties(role string, kvs []string) (clientProps, error) {
	props := clientProps{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" {
			return nil, fmt.Errorf("-X %q: want key=value", kv)
		}
		if k == "bootstrap.servers" {
			return nil, fmt.Errorf("-X %s: give the brokers with --bootstrap (or --bootstrap-server)", k)
		}
		if _, ok := commonProperties[k]; ok {
			props[k] = v
			continue
		}
		own, other := producerProperties, consumerProperties
		if role == "consumer" {
			own, other = consumerProperties, producerProperties
		}
		if _, ok := own[k]; ok {
			props[k] = v
			continue
		}
		if _, ok := ignoredProperties[k]; ok {
			props[k] = v
			continue
		}
		if _, ok := other[k]; ok {
			return nil, fmt.Errorf("-X %s: a %s property; this command takes %s properties", k, otherRole(role), role)
		}
		names := slices.Sorted(maps.Keys(own))
		names = append(names, slices.Sorted(maps.Keys(commonProperties))...)
		return nil, fmt.Errorf("-X %s: not a %s property this tool supports; supported: %s", k, role, strings.Join(names, ", "))
	}
	return props, nil
}

func otherRole(role string) string {
	if role == "consumer" {
		return "producer"
	}
	return "consumer"
}

// take removes key from p and returns its value and whether it was given.
func (p clientProps) take(key string) (string, bool) {
	v, ok := p[key]
	delete(p, key)
	return v, ok
}

// opts turns the properties left in p (the commands take some for themselves first) into kgo
// options. warn is called once per property accepted without effect.
func (p clientProps) opts(role string, warn func(string)) ([]kgo.Opt, error) {
	var opts []kgo.Opt
	for _, k := range slices.Sorted(maps.Keys(p)) {
		v := p[k]
		if why, ok := ignoredProperties[k]; ok {
			warn(fmt.Sprintf("-X %s ignored: %s", k, why))
			continue
		}
		conv, ok := commonProperties[k]
		if !ok && role == "producer" {
			conv, ok = producerProperties[k]
		}
		if !ok && role == "consumer" {
			conv, ok = consumerProperties[k]
		}
		if !ok || conv == nil { // a property the command takes for itself, or one of the other role
			return nil, fmt.Errorf("-X %s: not a %s property here", k, role)
		}
		o, err := conv(v)
		if err != nil {
			return nil, fmt.Errorf("-X %s=%s: %w", k, v, err)
		}
		opts = append(opts, o...)
	}
	return opts, nil
}

// propertyConv turns a property's value into kgo options.
type propertyConv func(v string) ([]kgo.Opt, error)

// intProp parses a whole number in [lo, hi] and passes it to fn.
func intProp(lo, hi int64, fn func(int64) []kgo.Opt) propertyConv {
	return func(v string) ([]kgo.Opt, error) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("want a whole number")
		}
		if n < lo || n > hi {
			return nil, fmt.Errorf("want a number from %d to %d", lo, hi)
		}
		return fn(n), nil
	}
}

// msProp parses milliseconds, at least lo, and passes them to a kgo option taking a duration.
func msProp[O kgo.Opt](lo int64, fn func(time.Duration) O) propertyConv {
	return intProp(lo, 1<<40, func(n int64) []kgo.Opt { return one(fn(time.Duration(n) * time.Millisecond)) })
}

func one(o kgo.Opt) []kgo.Opt { return []kgo.Opt{o} }

// boolProp parses true or false.
func boolProp(fn func(bool) []kgo.Opt) propertyConv {
	return func(v string) ([]kgo.Opt, error) {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("want true or false")
		}
		return fn(b), nil
	}
}

const maxInt32 = 1<<31 - 1

// commonProperties apply to producers and consumers alike.
var commonProperties = map[string]propertyConv{
	"client.id":                          func(v string) ([]kgo.Opt, error) { return one(kgo.ClientID(v)), nil },
	"metadata.max.age.ms":                msProp(1, kgo.MetadataMaxAge),
	"socket.connection.setup.timeout.ms": msProp(1, kgo.DialTimeout),
	"connections.max.idle.ms":            msProp(1, kgo.ConnIdleTimeout),
	"retry.backoff.ms": msProp(0, func(d time.Duration) kgo.Opt {
		return kgo.RetryBackoffFn(func(int) time.Duration { return d })
	}),
	"client.rack": func(v string) ([]kgo.Opt, error) { return one(kgo.Rack(v)), nil },
}

// producerProperties are the producer's own. acks, compression.type, delivery.timeout.ms and
// max.request.size are taken by the produce command itself (they meet its flags and its size
// check); they are listed here so that they are known.
var producerProperties = map[string]propertyConv{
	"acks":                nil,
	"compression.type":    nil,
	"delivery.timeout.ms": nil,
	"max.request.size":    nil,
	"linger.ms":           msProp(0, kgo.ProducerLinger),
	"buffer.memory": intProp(1, maxInt32, func(n int64) []kgo.Opt {
		return one(kgo.MaxBufferedBytes(int(n)))
	}),
	"request.timeout.ms": msProp(1, kgo.ProduceRequestTimeout),
	"retries": intProp(0, maxInt32, func(n int64) []kgo.Opt {
		return one(kgo.RecordRetries(int(n)))
	}),
	"enable.idempotence": boolProp(func(b bool) []kgo.Opt {
		if b {
			return nil
		}
		return one(kgo.DisableIdempotentWrite())
	}),
	"max.in.flight.requests.per.connection": intProp(1, maxInt32, func(n int64) []kgo.Opt {
		return one(kgo.MaxProduceRequestsInflightPerBroker(int(n)))
	}),
}

// consumerProperties are the consumer's own. auto.offset.reset, group.id and enable.auto.commit
// are taken by the consume command itself (they meet its flags).
var consumerProperties = map[string]propertyConv{
	"auto.offset.reset":  nil,
	"group.id":           nil,
	"enable.auto.commit": nil,
	"fetch.min.bytes": intProp(1, maxInt32, func(n int64) []kgo.Opt {
		return one(kgo.FetchMinBytes(int32(n)))
	}),
	"fetch.max.bytes": intProp(1, maxInt32, func(n int64) []kgo.Opt {
		return []kgo.Opt{kgo.FetchMaxBytes(int32(n)), kgo.BrokerMaxReadBytes(max(int32(n)+1<<20, 100<<20))}
	}),
	"max.partition.fetch.bytes": intProp(1, maxInt32, func(n int64) []kgo.Opt {
		return one(kgo.FetchMaxPartitionBytes(int32(n)))
	}),
	"fetch.max.wait.ms": msProp(1, kgo.FetchMaxWait),
	"isolation.level": func(v string) ([]kgo.Opt, error) {
		switch v {
		case "read_uncommitted":
			return one(kgo.FetchIsolationLevel(kgo.ReadUncommitted())), nil
		case "read_committed":
			return one(kgo.FetchIsolationLevel(kgo.ReadCommitted())), nil
		}
		return nil, fmt.Errorf("want read_uncommitted or read_committed")
	},
	"session.timeout.ms":      msProp(1, kgo.SessionTimeout),
	"heartbeat.interval.ms":   msProp(1, kgo.HeartbeatInterval),
	"max.poll.interval.ms":    msProp(1, kgo.RebalanceTimeout),
	"auto.commit.interval.ms": msProp(1, kgo.AutoCommitInterval),
	"group.instance.id":       func(v string) ([]kgo.Opt, error) { return one(kgo.InstanceID(v)), nil },
	"partition.assignment.strategy": func(v string) ([]kgo.Opt, error) {
		var bs []kgo.GroupBalancer
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			name = strings.TrimPrefix(name, "org.apache.kafka.clients.consumer.")
			switch name {
			case "range", "RangeAssignor":
				bs = append(bs, kgo.RangeBalancer())
			case "roundrobin", "RoundRobinAssignor":
				bs = append(bs, kgo.RoundRobinBalancer())
			case "sticky", "StickyAssignor":
				bs = append(bs, kgo.StickyBalancer())
			case "cooperative-sticky", "CooperativeStickyAssignor":
				bs = append(bs, kgo.CooperativeStickyBalancer())
			default:
				return nil, fmt.Errorf("unknown assignor %q: want range, roundrobin, sticky or cooperative-sticky", name)
			}
		}
		return one(kgo.Balancers(bs...)), nil
	},
}

// ignoredProperties are accepted and ignored with a warning saying why.
var ignoredProperties = map[string]string{
	"key.serializer":     "records are the input's bytes",
	"value.serializer":   "records are the input's bytes",
	"key.deserializer":   "use --key-format",
	"value.deserializer": "use --value-format",
	"batch.size":         "batches are bounded by max.request.size",
}
