//go:build unix

package state

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used (user plus system, every thread): what a
// benchmark costs on a machine shared with other work, where wall time says more about the
// neighbours.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
