package cli

import (
	"bufio"
	"fmt"
	"log/slog"
	"os"
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

A config file (--config) holds key=value lines in Kafka's server.properties style; flags given on the
command line override it. Keys: listeners (or listen), advertised.listeners, log.dirs (or data.dir),
node.id, num.partitions, auto.create.topics.enable, and log.<topic config> for topic defaults, for
example log.retention.ms=86400000 or log.segment.bytes=104857600; ksql.service.id, and ksql.* query
properties such as ksql.streams.auto.offset.reset=earliest.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			defaults := map[string]string{}
			if configFile != "" {
				props, err := readProperties(configFile)
				if err != nil {
					return err
				}
				set := func(flag string, v string) error {
					if cmd.Flags().Changed(flag) {
						return nil
					}
					return cmd.Flags().Set(flag, v)
				}
				for k, v := range props {
					var err error
					switch {
					case k == "listeners" || k == "listen":
						err = set("listen", stripScheme(v))
					case k == "advertised.listeners" || k == "advertised.listener":
						err = set("advertised-listener", stripScheme(v))
					case k == "log.dirs" || k == "log.dir" || k == "data.dir":
						err = set("data-dir", v)
					case k == "node.id" || k == "broker.id":
						err = set("node-id", v)
					case k == "num.partitions":
						err = set("num-partitions", v)
					case k == "auto.create.topics.enable":
						err = set("auto-create-topics", v)
					case k == "ksql.service.id":
						err = set("service-id", v)
					case k == "ksql.listeners" || k == "listeners.http":
						err = set("http-listen", stripScheme(v))
					case strings.HasPrefix(k, "ksql."):
						engineProps[k] = v // as the engine and the analyzer look them up: ksql.streams.*, ksql.persistence.*
					case strings.HasPrefix(k, "log."):
						defaults[strings.TrimPrefix(k, "log.")] = v
					default:
						err = fmt.Errorf("unknown setting %q", k)
					}
					if err != nil {
						return fmt.Errorf("config %s: %s: %w", configFile, k, err)
					}
				}
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
