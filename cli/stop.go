package cli

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/seichedb/seiche/internal/dirlock"
)

func init() { register(newStopCommand) }

func newStopCommand() *cobra.Command {
	var (
		dataDir string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "stop",
		Short: "Stop the server whose broker holds a data directory, gracefully",
		Long: `Stop the seiche server running with --data-dir DIR (default seiche-data): it sends the process
that holds the directory SIGTERM, as a service manager would, and waits until the server has stopped
(partitions flushed, queries committed) and released the directory.

This is the way to stop a server started in the background with "go run . server &": go run does
not pass SIGTERM on to the server it started. A server running with --bootstrap (no broker of its
own) holds no data directory lock; stop it with SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(dataDir); err != nil {
				return fmt.Errorf("no server data directory %s: %w", dataDir, err)
			}
			pid, err := holder(dataDir)
			if err != nil {
				return err
			}
			if pid == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "No server is running on %s.\n", dataDir)
				return nil
			}
			if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
				return fmt.Errorf("stop server (pid %d): %w", pid, err)
			}
			deadline := time.Now().Add(timeout)
			for {
				p, err := holder(dataDir)
				if err != nil {
					return err
				}
				if p == 0 {
					fmt.Fprintf(cmd.OutOrStdout(), "Stopped the server on %s (pid %d).\n", dataDir, pid)
					return nil
				}
				if time.Now().After(deadline) {
					return fmt.Errorf("the server (pid %d) still holds %s after %v; it may be stuck: kill -9 %d loses nothing committed", pid, dataDir, timeout, pid)
				}
				time.Sleep(50 * time.Millisecond)
			}
		},
	}
	cmd.Flags().StringVar(&dataDir, "data-dir", "seiche-data", "the data directory of the server to stop")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "how long to wait for the server to stop")
	return cmd
}

// holder returns the pid of the process holding dir's lock, or 0 when none does.
func holder(dir string) (int, error) {
	l, err := dirlock.Acquire(dir)
	if err == nil {
		l.Release()
		return 0, nil
	}
	var le *dirlock.LockedError
	if errors.As(err, &le) {
		if le.PID == 0 {
			return 0, fmt.Errorf("%s is locked by a process that did not write its pid into %s", dir, dirlock.FileName)
		}
		return le.PID, nil
	}
	return 0, err
}
