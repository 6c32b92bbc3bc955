//go:build unix && !linux

package e2e

import "syscall"

// procAttr puts a child in its own process group (so stopping it reaches its
// children too).
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// procCPUSeconds is only measured on Linux.
func procCPUSeconds(int) float64 { return 0 }
