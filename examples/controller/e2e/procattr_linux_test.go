//go:build linux

package e2e

import "syscall"

// procAttr puts a child in its own process group (so stopping it reaches its
// children too) and has the kernel SIGKILL it if the test binary dies.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
