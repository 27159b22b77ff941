//go:build !linux

package prepare

import "syscall"

// childAttr has nothing to add outside Linux.
func childAttr() *syscall.SysProcAttr { return nil }

// lockRun does not lock outside Linux.
func lockRun(path string) (func(), error) { return func() {}, nil }
