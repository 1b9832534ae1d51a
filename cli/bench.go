package cli

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seichedb/seiche/internal/nexmark"
)

func init() { register(newBenchCommand) }

func newBenchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Run benchmarks against Seiche itself",
		RunE:  runSubcommand,
	}
	cmd.AddCommand(newBenchNexmarkCommand())
	return cmd
}

func newBenchNexmarkCommand() *cobra.Command {
	var cfg nexmark.Config
	var queries, events, only, cpuprofile string
	cmd := &cobra.Command{
		Use:   "nexmark",
		Short: "Run Nexmark queries in SQL and as Go DSL programs and report events/s per core",
		Long: `Run Nexmark queries on generated events and report, per query and implementation, events/s,
events/s per core (events over CPU time, from getrusage), CPU seconds per million events, the output
count and, through a broker, the end-to-end latency from an event's production to its output.

Modes:
  inprocess  no broker: the SQL on a test session, the SQL's topology and the DSL program on a
             synchronous test driver
  broker     a Seiche broker in this process; the events are produced to it over the network while
             the SQL's topology and the DSL program run on it as streams applications
  server     a 'seiche server' child process; the SQL runs there as a persistent query

--events takes a count with an optional K or M suffix (10M is 10,000,000).`,
		Example: `  seiche bench nexmark --query q5 --events 10M
  seiche bench nexmark --query q0,q1,q2 --events 1M --mode broker --count 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := parseCount(events)
			if err != nil {
				return fmt.Errorf("--events: %w", err)
			}
			cfg.Events = n
			cfg.Queries = strings.Split(queries, ",")
			if only != "" {
				cfg.Only = strings.Split(only, ",")
			}
			if cfg.Mode == nexmark.ModeServer {
				if cfg.Seiche, err = os.Executable(); err != nil {
					return err
				}
			}
			cfg.Log = cmd.ErrOrStderr()
			if cpuprofile != "" {
				f, err := os.Create(cpuprofile)
				if err != nil {
					return err
				}
				defer f.Close()
				cfg.Profile = f
			}
			rs, err := nexmark.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			rs.Print(cmd.OutOrStdout(), cfg.Queries, nexmark.ImplDSL)
			return nil
		},
	}
	names := make([]string, len(nexmark.Queries))
	for i, q := range nexmark.Queries {
		names[i] = q.Name
	}
	f := cmd.Flags()
	f.StringVar(&queries, "query", "q0,q1,q2", "comma-separated queries: "+strings.Join(names, ", "))
	f.StringVar(&events, "events", "1M", "Nexmark events to generate (people, auctions and bids 1:3:46)")
	f.StringVar(&cfg.Mode, "mode", nexmark.ModeInProcess, "where the queries run: inprocess, broker or server")
	f.IntVar(&cfg.Count, "count", 1, "rounds per implementation, alternating the order; the table shows the round with the least CPU")
	f.StringVar(&only, "only", "", "comma-separated implementations to run (sql, sql-topology, dsl)")
	f.IntVar(&cfg.Partitions, "partitions", 1, "partitions of the input and output topics (broker and server modes)")
	f.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the timed parts to this file")
	return cmd
}

// parseCount reads a count with an optional K (thousand) or M (million) suffix.
func parseCount(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"), strings.HasSuffix(s, "k"):
		mult, s = 1_000, s[:len(s)-1]
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1_000_000, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a positive count (like 500000, 500K or 10M)", s)
	}
	return n * mult, nil
}
