//go:build unix && !linux

package main

import "syscall"

// hogProcAttr puts a hog process in its own process group, away from the
// terminal's Ctrl-C (the bench stops it itself).
func hogProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
