package shell

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// openTTY opens the console's input buffer (CONIN$, the terminal even when standard input is
// redirected): its mode is what the shell saves and restores.
func openTTY() (int, error) {
	name, err := windows.UTF16PtrFromString("CONIN$")
	if err != nil {
		return -1, err
	}
	h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		return -1, fmt.Errorf("shell: no console: %w", err)
	}
	return int(h), nil
}

func closeTTY(tty int) { windows.CloseHandle(windows.Handle(tty)) }

// noEcho stops the console echoing what is typed, leaving the rest of its mode as it is.
func noEcho(tty int) {
	var mode uint32
	if err := windows.GetConsoleMode(windows.Handle(tty), &mode); err == nil {
		_ = windows.SetConsoleMode(windows.Handle(tty), mode&^windows.ENABLE_ECHO_INPUT)
	}
}
