package prepare

import (
	"fmt"
	"syscall"
)

// childAttr kills the child when the process that started it dies, so a
// killed prepare leaves no ffmpeg running.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// lockRun takes an exclusive lock on path so that two prepare runs cannot
// write one cache at once; the kernel drops it when the process dies.
func lockRun(path string) (func(), error) {
	fd, err := syscall.Open(path, syscall.O_CREAT|syscall.O_RDWR|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open the lock %s: %w", path, err)
	}
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("another vidrep prepare is writing this cache (%s is locked); wait for it or stop it", path)
	}
	return func() { syscall.Close(fd) }, nil
}
