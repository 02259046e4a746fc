package testregistry

import "syscall"

// sysProcAttr kills the registry when the test binary dies, so a crashed or
// interrupted test leaves no registry behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
