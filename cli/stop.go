package cli

import (
	"errors"
	"fmt"
	"os"
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
own) holds no data directory lock; stop it with SIGTERM.

On Windows, which has no SIGTERM to send another process, the server is terminated at once; what it
had committed is on disk (its log is fsynced before a produce is acknowledged), and its queries
resume from their last commit when it starts again.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(dataDir); err != nil {
				return fmt.Errorf("no server data directory %s: %w", dataDir, err)
			}
			pid, held, err := holder(dataDir)
			// A holder writes its pid just after it locks the directory, and empties the file just
			// before it unlocks it: a lock without a pid is a server starting or stopping.
			for wait := time.Now().Add(2 * time.Second); err == nil && held && pid == 0 && time.Now().Before(wait); {
				time.Sleep(50 * time.Millisecond)
				pid, held, err = holder(dataDir)
			}
			switch {
			case err != nil:
				return err
			case !held:
				fmt.Fprintf(cmd.OutOrStdout(), "No server is running on %s.\n", dataDir)
				return nil
			case pid == 0:
				return fmt.Errorf("%s is locked by a process that did not write its pid into %s", dataDir, dirlock.FileName)
			}
			if err := stopProcess(pid); err != nil {
				return fmt.Errorf("stop server (pid %d): %w", pid, err)
			}
			deadline := time.Now().Add(timeout)
			for {
				_, held, err := holder(dataDir)
				if err != nil {
					return err
				}
				if !held {
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

// holder reports whether a process holds dir's lock and, if so, the pid it wrote there (0 while it
// is writing it or releasing the lock).
func holder(dir string) (pid int, held bool, err error) {
	l, err := dirlock.Acquire(dir)
	if err == nil {
		l.Release()
		return 0, false, nil
	}
	var le *dirlock.LockedError
	if errors.As(err, &le) {
		return le.PID, true, nil
	}
	return 0, false, err
}
