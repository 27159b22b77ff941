// Package browsercheck loads an HTML file in headless Chromium, driven over
// the DevTools protocol on a pipe (no network port), and reports what a
// reader would get: console errors, images that did not decode, requests
// that leave the file, and screenshots of the page and of each image. The
// tests of the report and experiment packages use it to check that
// report.html opens cleanly and shows its plots.
package browsercheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Candidates are the browser commands Find tries, in order, after $CHROMIUM.
var Candidates = []string{"chromium", "chromium-browser", "google-chrome", "/usr/lib/chromium/chromium"}

// ErrNoBrowser says that no Chromium was found.
var ErrNoBrowser = errors.New("no headless browser: install Debian's chromium (`make setup-browser`) or set $CHROMIUM")

// Find returns the Chromium binary: $CHROMIUM when set, else the first of
// Candidates on the PATH.
func Find() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		path, err := exec.LookPath(p)
		if err != nil {
			return "", fmt.Errorf("$CHROMIUM=%s: %w", p, err)
		}
		return path, nil
	}
	for _, name := range Candidates {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", ErrNoBrowser
}

// flags are the command-line switches for a quiet, offline, root-safe
// headless run with a throw-away profile.
func flags(profile string) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--no-default-browser-check", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-extensions", "--disable-dev-shm-usage", "--hide-scrollbars",
		"--mute-audio", "--remote-debugging-pipe", "--user-data-dir=" + profile, "about:blank",
	}
}

// browser is a running Chromium with its DevTools pipe.
type browser struct {
	cmd     *exec.Cmd
	conn    *conn
	profile string
	stderr  *tailBuffer
	toSend  *os.File
	exited  chan struct{} // closed once the process has exited and its stderr is copied
}

// launch starts Chromium with the DevTools protocol on fds 3 (commands in)
// and 4 (replies out).
func launch(bin string) (*browser, error) {
	profile, err := os.MkdirTemp("", "browsercheck-profile-")
	if err != nil {
		return nil, err
	}
	cmdR, cmdW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	b := &browser{profile: profile, stderr: &tailBuffer{max: 8 << 10}, toSend: cmdW, exited: make(chan struct{})}
	b.cmd = exec.Command(bin, flags(profile)...)
	b.cmd.ExtraFiles = []*os.File{cmdR, outW}
	b.cmd.Stderr = b.stderr
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	err = b.cmd.Start()
	cmdR.Close()
	outW.Close()
	if err != nil {
		cmdW.Close()
		outR.Close()
		os.RemoveAll(profile)
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() { _ = b.cmd.Wait(); outR.Close(); close(b.exited) }()
	b.conn = newConn(cmdW, outR)
	return b, nil
}

// close asks the browser to quit, kills its process group when it does not
// within a few seconds, and removes the profile.
func (b *browser) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_ = b.conn.call(ctx, "", "Browser.close", nil, nil)
	select {
	case <-b.exited:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.exited
	}
	b.toSend.Close()
	os.RemoveAll(b.profile)
}

// fail wraps err with the tail of the browser's stderr, which says why a
// launch failed (waiting a moment for a dying browser's last words).
func (b *browser) fail(err error) error {
	select {
	case <-b.exited:
	case <-time.After(time.Second):
	}
	if tail := bytes.TrimSpace(b.stderr.Bytes()); len(tail) > 0 {
		return fmt.Errorf("%w\nbrowser stderr (tail):\n%s", err, tail)
	}
	return err
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

// Write appends p, dropping the oldest bytes past max.
func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// Bytes returns a copy of what is kept.
func (t *tailBuffer) Bytes() []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]byte(nil), t.buf...)
}
