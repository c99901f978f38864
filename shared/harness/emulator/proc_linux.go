//go:build linux

package emulator

import "syscall"

// sysProcAttr puts moto in its own process group, so Stop can signal all of
// it, and has the kernel kill it if the test binary dies without calling Stop
// (for example on a `go test` timeout).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
