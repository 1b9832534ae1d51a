package nexmark

import (
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// mapAnon returns size bytes for the generated records. On Windows they are on the Go heap (as words
// without pointers, so the collector does not scan them, but they count towards the live heap that
// paces it): figures taken there charge the query a little of the runner's memory.
func mapAnon(size int) ([]byte, error) {
	words := make([]uint64, (size+7)/8)
	return unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), size), nil
}

func unmapAnon([]byte) {}

// cpuTime returns this process's user plus kernel CPU time.
func cpuTime() time.Duration {
	var creation, exit, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(windows.CurrentProcess(), &creation, &exit, &kernel, &user); err != nil {
		return 0
	}
	ticks := func(f windows.Filetime) int64 { return int64(f.HighDateTime)<<32 | int64(f.LowDateTime) }
	return time.Duration((ticks(kernel) + ticks(user)) * 100) // Filetime counts 100 ns
}
