//go:build !unix

package state

import "time"

// processCPU is not measured off unix: benchmarks report zero CPU time there.
func processCPU() time.Duration { return 0 }
