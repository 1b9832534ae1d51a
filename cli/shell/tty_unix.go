//go:build unix

package shell

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// openTTY opens the controlling terminal, read-only: its mode is what the shell saves and restores.
func openTTY() (int, error) {
	tty, err := syscall.Open("/dev/tty", syscall.O_RDONLY, 0)
	if err != nil {
		return -1, fmt.Errorf("shell: no terminal: %w", err)
	}
	return tty, nil
}

func closeTTY(tty int) { syscall.Close(tty) }

// noEcho stops the terminal echoing what is typed, leaving the rest of its mode as it is.
func noEcho(tty int) {
	if t, err := unix.IoctlGetTermios(tty, ioctlGetTermios); err == nil {
		t.Lflag &^= unix.ECHO
		_ = unix.IoctlSetTermios(tty, ioctlSetTermios, t)
	}
}
