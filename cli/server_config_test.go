package cli

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/seichedb/seiche/internal/testutil"
)

// kafkaKRaftProperties is Kafka 3.x's config/kraft/server.properties, its settings as shipped
// (comments shortened).
const kafkaKRaftProperties = `# Kafka 3.x config/kraft/server.properties
############################# Server Basics #############################
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093

############################# Socket Server Settings #############################
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600

############################# Log Basics #############################
log.dirs=/tmp/kraft-combined-logs
num.partitions=1
num.recovery.threads.per.data.dir=1

############################# Internal Topic Settings  #############################
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1

############################# Log Flush Policy #############################
#log.flush.interval.messages=10000
#log.flush.interval.ms=1000

############################# Log Retention Policy #############################
log.retention.hours=168
#log.retention.bytes=1073741824
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
`

// kafkaZooKeeperProperties is Kafka 3.x's config/server.properties (ZooKeeper mode), its settings
// as shipped.
const kafkaZooKeeperProperties = `broker.id=0
#listeners=PLAINTEXT://:9092
#advertised.listeners=PLAINTEXT://your.host.name:9092
#listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=/tmp/kafka-logs
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
zookeeper.connect=localhost:2181
zookeeper.connection.timeout.ms=18000
group.initial.rebalance.delay.ms=0
`

func parseProps(t *testing.T, text string) map[string]string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "server.properties")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	props, err := readProperties(path)
	if err != nil {
		t.Fatal(err)
	}
	return props
}

func TestTranslateKafkaServerProperties(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, text   string
		flags        map[string]string
		defaults     map[string]string
		ignored      []string
		brokerOpts   int
		notesContain string
	}{
		{
			name: "KRaft", text: kafkaKRaftProperties,
			flags:    map[string]string{"listen": ":9092", "advertised-listener": "localhost:9092", "data-dir": "/tmp/kraft-combined-logs", "node-id": "1", "num-partitions": "1"},
			defaults: map[string]string{"retention.ms": "604800000", "segment.bytes": "1073741824"},
			ignored: []string{"controller.quorum.voters", "inter.broker.listener.name", "num.io.threads", "num.network.threads", "num.recovery.threads.per.data.dir",
				"offsets.topic.replication.factor", "process.roles", "socket.receive.buffer.bytes", "socket.send.buffer.bytes",
				"transaction.state.log.min.isr", "transaction.state.log.replication.factor"},
			brokerOpts: 2, // socket.request.max.bytes, log.retention.check.interval.ms
		},
		{
			name: "ZooKeeper", text: kafkaZooKeeperProperties,
			flags:    map[string]string{"data-dir": "/tmp/kafka-logs", "node-id": "0", "num-partitions": "1"},
			defaults: map[string]string{"retention.ms": "604800000", "segment.bytes": "1073741824"},
			ignored: []string{"num.io.threads", "num.network.threads", "num.recovery.threads.per.data.dir",
				"offsets.topic.replication.factor", "socket.receive.buffer.bytes", "socket.send.buffer.bytes",
				"transaction.state.log.min.isr", "transaction.state.log.replication.factor",
				"zookeeper.connect", "zookeeper.connection.timeout.ms"},
			brokerOpts: 3, // and group.initial.rebalance.delay.ms
		},
		{
			name: "units, synonyms and Seiche's own keys",
			text: "log.retention.hours=1\nlog.retention.minutes=30\nlog.roll.hours=2\nmessage.max.bytes=2097152\n" +
				"log.cleanup.policy=compact\nlog.cleaner.min.cleanable.ratio=0.1\nlog.dirs=/a,/b\n" +
				"listeners=SSL://:9093,PLAINTEXT://127.0.0.1:9092,OTHER://:9094\nlistener.security.protocol.map=SSL:SSL,PLAINTEXT:PLAINTEXT,OTHER:PLAINTEXT\n" +
				"ksql.service.id=svc\nksql.streams.auto.offset.reset=earliest\nauto.create.topics.enable=false\nno.such.setting=1\n",
			flags: map[string]string{"listen": "127.0.0.1:9092", "data-dir": "/a", "service-id": "svc", "auto-create-topics": "false"},
			defaults: map[string]string{"retention.ms": "1800000", "segment.ms": "7200000", "max.message.bytes": "2097152",
				"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.1"},
			notesContain: "listeners: Seiche serves one PLAINTEXT listener, PLAINTEXT://127.0.0.1:9092; not SSL, OTHER|" +
				"log.dirs names 2 directories: Seiche keeps its data in the first, /a",
		},
		{
			name: "transactions", text: "transaction.max.timeout.ms=60000\ntransaction.abort.timed.out.transaction.cleanup.interval.ms=1000\n",
			flags: map[string]string{}, defaults: map[string]string{}, brokerOpts: 2,
		},
		{
			name: "KIP-848 consumer group settings",
			text: "group.consumer.session.timeout.ms=30000\ngroup.consumer.heartbeat.interval.ms=3000\n" +
				"group.consumer.assignors=org.apache.kafka.coordinator.group.assignor.RangeAssignor,uniform\n",
			flags: map[string]string{}, defaults: map[string]string{},
			brokerOpts: 3,
		},
		{
			name: "unlimited retention", text: "log.retention.hours=-1\n",
			flags: map[string]string{}, defaults: map[string]string{"retention.ms": "-1"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc, err := translateServerConfig(parseProps(t, c.text))
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(sc.flags, c.flags) {
				t.Errorf("flags: got %v, want %v", sc.flags, c.flags)
			}
			if !maps.Equal(sc.defaults, c.defaults) {
				t.Errorf("topic defaults: got %v, want %v", sc.defaults, c.defaults)
			}
			if !slices.Equal(sc.ignored, c.ignored) {
				t.Errorf("ignored: got %q, want %q", sc.ignored, c.ignored)
			}
			if len(sc.brokerOpts) != c.brokerOpts {
				t.Errorf("%d broker options, want %d", len(sc.brokerOpts), c.brokerOpts)
			}
			if c.name == "units, synonyms and Seiche's own keys" {
				if !slices.Equal(sc.unknown, []string{"no.such.setting"}) || sc.engine["ksql.streams.auto.offset.reset"] != "earliest" {
					t.Errorf("unknown %q, engine %v", sc.unknown, sc.engine)
				}
			} else if len(sc.unknown) > 0 {
				t.Errorf("unknown settings in a stock file: %q", sc.unknown)
			}
			if notes := strings.Join(sc.notes, "|"); notes != c.notesContain {
				t.Errorf("notes:\ngot  %s\nwant %s", notes, c.notesContain)
			}
		})
	}
}

// Only a malformed value is refused.
func TestTranslateServerConfigMalformed(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{
		"log.retention.hours=a week\n":        "log.retention.hours=a week: want a whole number",
		"log.retention.ms=-5\n":               "log.retention.ms=-5: want a number from -1 to",
		"node.id=x\n":                         "node.id=x: want a whole number",
		"num.partitions=0\n":                  "num.partitions=0: want a number from 1 to",
		"auto.create.topics.enable=maybe\n":   "auto.create.topics.enable=maybe: want true or false",
		"log.retention.check.interval.ms=0\n": "log.retention.check.interval.ms=0: want a number from 1",
		"listeners=localhost:9092\n":          `want NAME://host:port entries, got "localhost:9092"`,
		"listeners=SSL://:9093\n":             "no PLAINTEXT listener for clients; Seiche serves PLAINTEXT only",
	} {
		if _, err := translateServerConfig(parseProps(t, text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got error %v, want one containing %q", text, err, want)
		}
	}
}

// `seiche server --config` with a stock Kafka 3.x server.properties starts, applies what has a
// meaning here (node.id, the retention hours, turned to 72 as an operator would) and warns once
// about the rest. The listeners are overridden by flags, which win over the file, to get a free
// port; log.dirs points into the test's directory.
func TestServerWithKafkaServerProperties(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	text := strings.Replace(kafkaKRaftProperties, "log.dirs=/tmp/kraft-combined-logs", "log.dirs="+filepath.Join(dir, "data"), 1)
	text = strings.Replace(text, "log.retention.hours=168", "log.retention.hours=72", 1)
	path := filepath.Join(dir, "server.properties")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cmd := NewRootCommand()
	var stderr syncBuffer
	cmd.SetArgs([]string{"server", "--config", path, "--listen", "127.0.0.1:0", "--advertised-listener", "", "--http-listen", ""})
	cmd.SetOut(&stderr)
	cmd.SetErr(&stderr)
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("server: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("server did not stop within 30s of its context's end")
		}
	})
	var addr string
	testutil.CheckFor(t, 30*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("server exited: %v\n%s", err, stderr.String())
		default:
		}
		m := brokerListening.FindStringSubmatch(stderr.String())
		if m == nil {
			return os.ErrNotExist
		}
		addr = m[1]
		return nil
	})

	// A second server on the same data directory is refused, naming the process holding it.
	second := NewRootCommand()
	var out2 syncBuffer
	second.SetArgs([]string{"server", "--config", path, "--listen", "127.0.0.1:0", "--advertised-listener", "", "--http-listen", ""})
	second.SetOut(&out2)
	second.SetErr(&out2)
	want := fmt.Sprintf("directory %s is in use by this process (pid %d)", filepath.Join(dir, "data"), os.Getpid())
	if err := second.Execute(); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("a second server on the data directory: %v, want an error containing %q", err, want)
	}

	log := stderr.String()
	if n := strings.Count(log, "ignoring Kafka settings that have no meaning"); n != 1 ||
		!regexp.MustCompile(`keys=\S*num.network.threads`).MatchString(log) || strings.Contains(log, "unknown settings") {
		t.Fatalf("server log: want one warning listing the ignored Kafka settings and none about unknown ones:\n%s", log)
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	brokers, err := adm.ListBrokers(context.Background())
	if err != nil || len(brokers) != 1 || brokers[0].NodeID != 1 {
		t.Fatalf("brokers: %v %v, want node 1 (node.id=1)", brokers, err)
	}
	ok(t, addr, "", "topics", "create", "kept", "--partitions", "1")
	rcs, err := adm.DescribeTopicConfigs(context.Background(), "kept")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("kept", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, c := range rc.Configs {
		got[c.Key] = c.MaybeValue()
	}
	if got["retention.ms"] != "259200000" || got["segment.bytes"] != "1073741824" {
		t.Fatalf("topic configs: retention.ms %s (want 72 hours, 259200000), segment.bytes %s", got["retention.ms"], got["segment.bytes"])
	}
}
