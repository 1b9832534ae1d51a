//go:build unix && !linux

package shell

import "golang.org/x/sys/unix"

// The ioctl requests that read and set a terminal's termios on the BSDs, macOS and the other Unixes
// (golang.org/x/term uses the same).
const (
	ioctlGetTermios = unix.TIOCGETA
	ioctlSetTermios = unix.TIOCSETA
)
