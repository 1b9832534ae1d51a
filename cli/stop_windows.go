package cli

import "os"

// stopProcess terminates the process pid: Windows has no signal another process can send to ask it
// to stop, and the server loses nothing it committed when it is killed.
func stopProcess(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
