package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// Execute runs the seiche command line and exits the process with a non-zero status on error.
func Execute() {
	if err := NewRootCommand().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "seiche:", err)
		os.Exit(1)
	}
}

// NewRootCommand builds the seiche command tree. Tests use it to run commands in-process.
func NewRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "seiche",
		Short:         "Seiche: a Kafka-compatible broker, streams runtime and SQL engine in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetVersionTemplate("seiche {{.Version}}\n")
	for _, add := range commands {
		root.AddCommand(add())
	}
	return root
}

// commands holds one constructor per top-level command; each command file registers itself in init.
var commands []func() *cobra.Command

func register(c func() *cobra.Command) { commands = append(commands, c) }

// signalContext returns a context cancelled on SIGINT or SIGTERM.
func signalContext(parent context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
}
