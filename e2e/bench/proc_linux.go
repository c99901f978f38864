//go:build linux

package main

import "syscall"

// hogProcAttr puts a hog process in its own process group, away from the
// terminal's Ctrl-C (the bench stops it itself), and has the kernel kill
// it if the bench dies without stopping it.
func hogProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
