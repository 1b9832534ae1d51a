//go:build unix

package cli

import "syscall"

// stopProcess asks the process pid to stop gracefully, with SIGTERM.
func stopProcess(pid int) error { return syscall.Kill(pid, syscall.SIGTERM) }
