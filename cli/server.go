package cli

import (
	"bufio"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seichedb/seiche/broker"
)

func init() { register(newServerCommand) }

func newServerCommand() *cobra.Command {
	var (
		listen, advertised, dataDir, configFile, logLevel string
		partitions                                        int32
		nodeID                                            int32
		autoCreate                                        bool
		topicConfigs                                      []string
		httpListen, serviceID, bootstrap                  string
		httpAdvertised                                    string
		engineProps                                       = map[string]string{}
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Seiche server (Kafka broker, SQL engine, REST API) until SIGINT or SIGTERM",
		Long: `Run the Seiche server: a Kafka-compatible broker, durable on this node, that any Kafka client can
use unchanged, and the SQL engine with its ksqlDB-compatible REST API (--http-listen). With
--bootstrap the engine uses that Kafka cluster instead and no broker runs here. It stops gracefully
on SIGINT or SIGTERM, flushing every partition and committing every query.

A config file (--config) holds key=value lines in Kafka's server.properties style, and a stock Kafka
server.properties works; flags given on the command line override it. Applied: listeners (the
PLAINTEXT client listener; or listen), advertised.listeners, log.dirs (the first; or data.dir),
node.id (or broker.id), num.partitions, auto.create.topics.enable, log.retention.hours/minutes/ms,
log.retention.bytes, log.segment.bytes, log.roll.hours/ms, log.cleanup.policy, message.max.bytes and
Kafka's other broker defaults of topic configs, log.<topic config> for any topic config,
log.retention.check.interval.ms, group.initial.rebalance.delay.ms, socket.request.max.bytes,
transaction.max.timeout.ms, transaction.abort.timed.out.transaction.cleanup.interval.ms;
ksql.service.id, ksql.listeners, and ksql.* query properties such as
ksql.streams.auto.offset.reset=earliest. Kafka settings with no meaning on one Seiche node (thread
counts, socket buffers, the ZooKeeper or KRaft quorum, replication factors) and unknown keys are
ignored with one warning each kind; a malformed value is an error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defaults := map[string]string{}
			var fileConfig *serverConfig
			if configFile != "" {
				props, err := readProperties(configFile)
				if err != nil {
					return err
				}
				if fileConfig, err = translateServerConfig(props); err != nil {
					return fmt.Errorf("config %s: %w", configFile, err)
				}
				for _, flag := range slices.Sorted(maps.Keys(fileConfig.flags)) {
					if cmd.Flags().Changed(flag) {
						continue
					}
					if err := cmd.Flags().Set(flag, fileConfig.flags[flag]); err != nil {
						return fmt.Errorf("config %s: --%s %s: %w", configFile, flag, fileConfig.flags[flag], err)
					}
				}
				maps.Copy(defaults, fileConfig.defaults)
				maps.Copy(engineProps, fileConfig.engine)
			}
			for _, kv := range topicConfigs {
				k, v, ok := strings.Cut(kv, "=")
				if !ok {
					return fmt.Errorf("--topic-config %q: want key=value", kv)
				}
				defaults[k] = v
			}
			var level slog.Level
			if err := level.UnmarshalText([]byte(logLevel)); err != nil {
				return fmt.Errorf("--log-level: %w", err)
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: level}))
			if fileConfig != nil {
				fileConfig.warn(logger, configFile)
			}
			opts := []broker.Opt{
				broker.ListenAddr(listen),
				broker.DataDir(dataDir),
				broker.NodeID(nodeID),
				broker.DefaultPartitions(partitions),
				broker.AutoCreateTopics(autoCreate),
				broker.Logger(logger),
				broker.TopicDefaults(defaults),
			}
			if advertised != "" {
				opts = append(opts, broker.AdvertisedAddr(advertised))
			}
			if fileConfig != nil {
				opts = append(opts, fileConfig.brokerOpts...)
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			return runServer(ctx, logger, serverParams{
				brokerOpts: opts, bootstrap: bootstrap, httpListen: httpListen, serviceID: serviceID, advertised: httpAdvertised,
				dataDir: dataDir, props: engineProps,
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:9092", "address to listen on for Kafka clients (port 0 picks a free port)")
	f.StringVar(&advertised, "advertised-listener", "", "host:port clients are told to connect to (default: the listen address)")
	f.StringVar(&dataDir, "data-dir", "seiche-data", "directory for partition logs and metadata")
	f.StringVar(&configFile, "config", "", "properties file with server settings (key=value lines)")
	f.Int32Var(&nodeID, "node-id", 0, "broker node ID")
	f.Int32Var(&partitions, "num-partitions", 1, "partition count of auto-created topics")
	f.BoolVar(&autoCreate, "auto-create-topics", true, "create unknown topics on first use, as Kafka's auto.create.topics.enable")
	f.StringArrayVar(&topicConfigs, "topic-config", nil, "broker-wide topic config default key=value (repeatable), e.g. retention.ms=3600000")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.StringVar(&httpListen, "http-listen", "127.0.0.1:8088", "address of the REST API (ksqlDB-compatible); empty to run no SQL engine")
	f.StringVar(&serviceID, "service-id", "seiche", "SQL service id: servers sharing one form one cluster, with one command topic")
	f.StringVar(&httpAdvertised, "http-advertised-listener", "", "URL the other servers of the service reach this one's REST API at, as ksql.advertised.listener (default: the --http-listen address)")
	f.StringVar(&bootstrap, "bootstrap", "", "run the SQL engine against this Kafka cluster (host:port,...) instead of an integrated broker")
	return cmd
}

// readProperties reads key=value lines, ignoring blank lines and # or ! comments.
func readProperties(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	props := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: want key=value, got %q", path, n, line)
		}
		props[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return props, sc.Err()
}

// stripScheme turns Kafka's "PLAINTEXT://host:port" listener form into host:port.
func stripScheme(v string) string {
	if i := strings.Index(v, "://"); i >= 0 {
		v = v[i+3:]
	}
	if i := strings.IndexByte(v, ','); i >= 0 {
		v = v[:i]
	}
	return v
}
