//go:build !unix && !windows

package dirlock

import "os"

// lockFile does not lock on systems without flock: Acquire always succeeds there, and Pebble's own
// LOCK file is what keeps a second process out of the stores.
func lockFile(*os.File) error { return nil }
