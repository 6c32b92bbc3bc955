//go:build unix && !linux

package e2e

import "syscall"

// procAttr puts a child in its own process group (so stopping it reaches its
// children too).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
