package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// defaultBootstrap is the broker the client commands talk to when neither --bootstrap nor
// SEICHE_BOOTSTRAP says otherwise: a `seiche server` started with its defaults.
const defaultBootstrap = "127.0.0.1:9092"

// clientFlags are the connection flags shared by the client commands (topics, produce, consume,
// groups).
type clientFlags struct {
	bootstrap string
	timeout   time.Duration
	dials     dialHook // set by newClient: the clients' last failed connection
}

// register adds --bootstrap and --timeout to fs. The --bootstrap default is read from SEICHE_BOOTSTRAP
// when the command tree is built.
func (c *clientFlags) register(fs *pflag.FlagSet) {
	def := os.Getenv("SEICHE_BOOTSTRAP")
	if def == "" {
		def = defaultBootstrap
	}
	fs.StringVar(&c.bootstrap, "bootstrap", def, "comma-separated host:port list of brokers to bootstrap from (env SEICHE_BOOTSTRAP)")
	fs.DurationVar(&c.timeout, "timeout", 30*time.Second, "how long a request to the cluster, or delivering a produced record, may take including retries")
}

// normalizeClientFlags accepts Kafka's spelling --bootstrap-server for --bootstrap, so that commands
// copied from kafka-*.sh habits keep working.
func normalizeClientFlags(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	if name == "bootstrap-server" {
		name = "bootstrap"
	}
	return pflag.NormalizedName(name)
}

// withClientFlags registers the connection flags on cmd as persistent flags, so that subcommands
// inherit them, and returns them.
func withClientFlags(cmd *cobra.Command) *clientFlags {
	c := &clientFlags{}
	c.register(cmd.PersistentFlags())
	cmd.SetGlobalNormalizationFunc(normalizeClientFlags)
	return c
}

// newClient builds a kgo client for the bootstrap brokers with the given extra options. It does not
// connect: the first request does.
func (c *clientFlags) newClient(clientID string, opts ...kgo.Opt) (*kgo.Client, error) {
	var seeds []string
	for _, s := range strings.Split(c.bootstrap, ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	if len(seeds) == 0 {
		return nil, errors.New("--bootstrap: no broker address given")
	}
	if c.timeout <= 0 {
		return nil, fmt.Errorf("--timeout %s: must be positive", c.timeout)
	}
	all := append([]kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ClientID(clientID),
		kgo.DialTimeout(min(10*time.Second, c.timeout)),
		kgo.RetryTimeout(c.timeout),
		kgo.WithHooks(&c.dials),
	}, opts...)
	cl, err := kgo.NewClient(all...)
	if err != nil {
		return nil, fmt.Errorf("client for %s: %w", c.bootstrap, err)
	}
	return cl, nil
}

// newAdmin builds a kadm client; closing it closes the underlying kgo client.
func (c *clientFlags) newAdmin() (*kadm.Client, error) {
	cl, err := c.newClient("seiche-admin")
	if err != nil {
		return nil, err
	}
	adm := kadm.NewClient(cl)
	adm.SetTimeoutMillis(int32(min(c.timeout, time.Hour).Milliseconds()))
	return adm, nil
}

// admin returns an admin client and a context bounding one admin operation by --timeout; done closes
// both.
func (c *clientFlags) admin(parent context.Context) (context.Context, *kadm.Client, func(), error) {
	adm, err := c.newAdmin()
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := c.requestContext(parent)
	return ctx, adm, func() { cancel(); adm.Close() }, nil
}

// requestContext bounds one admin operation (which may be several requests) by --timeout.
func (c *clientFlags) requestContext(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(parent, c.timeout)
}

// describeErr rewrites a request error so that an unreachable cluster says so, with the last
// connection error, instead of only "context deadline exceeded".
func (c *clientFlags) describeErr(err error) error {
	var nerr *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return c.noAnswer(err)
	case errors.As(err, &nerr): // kgo gives up on a refused connection before the timeout
		return fmt.Errorf("no answer from %s: %w", c.bootstrap, err)
	}
	return err
}

// noAnswer is the error for a cluster that did not answer within --timeout, wrapping err.
func (c *clientFlags) noAnswer(err error) error {
	if derr := c.dials.last(); derr != nil {
		return fmt.Errorf("no answer from %s within %s (%v): %w", c.bootstrap, c.timeout, derr, err)
	}
	return fmt.Errorf("no answer from %s within %s: %w", c.bootstrap, c.timeout, err)
}

// dialHook is a kgo hook keeping the last failed connection attempt, cleared by a successful one,
// so that a timeout can say why nothing answered ("connect: connection refused").
type dialHook struct {
	mu  sync.Mutex
	err error
}

func (h *dialHook) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.err = err
}

func (h *dialHook) last() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.err
}

// parseConfigs turns repeated key=value flags into a config map; flag names the flag for errors.
func parseConfigs(flag string, kvs []string) (map[string]*string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := make(map[string]*string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--%s %q: want key=value", flag, kv)
		}
		m[k] = kadm.StringPtr(v)
	}
	return m, nil
}

// runSubcommand is the RunE of a command that only groups subcommands: without arguments it prints
// help, and an unknown subcommand is an error rather than cobra's help with a zero exit status.
func runSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
}
