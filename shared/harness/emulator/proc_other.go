//go:build unix && !linux

package emulator

import "syscall"

// sysProcAttr puts moto in its own process group, so Stop can signal all of
// it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
